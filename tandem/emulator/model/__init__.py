"""The emulated org's model: state and rules with no HTTP. The wire layer calls only `Org`."""

from tandem.emulator.model.conversion import ConvertLeadRequest, ConvertLeadResult
from tandem.emulator.model.definition import OrgDefinitionError
from tandem.emulator.model.errors import ApiError, AuthError, InvalidSession, LimitExceeded, NotFound
from tandem.emulator.model.merging import MergeResult
from tandem.emulator.model.org import Org
from tandem.emulator.model.queries import QueryPage
from tandem.emulator.model.sessions import Token, UserContext

__all__ = [
    "ApiError", "AuthError", "ConvertLeadRequest", "ConvertLeadResult", "InvalidSession", "LimitExceeded",
    "MergeResult", "NotFound", "Org", "OrgDefinitionError", "QueryPage", "Token", "UserContext",
]
