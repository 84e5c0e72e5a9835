"""Every error Tandem raises on purpose derives from one root, so callers can catch it whole.

    TandemError
    ├── ConfigError            a setting is missing or malformed (names the setting)
    ├── InvalidInput           bad input from a user or client (names the field and the reason)
    │   └── InvalidSalesforceId    text that is not a 15- or 18-character Salesforce record Id
    ├── NotFound               a person, record or object that does not exist
    ├── AmbiguousReference     a reference (an email, say) that matches more than one thing
    ├── StoreError             the people store could not do what was asked
    │   └── StoreBusy              other writers kept the database busy past every retry
    ├── CycleBusy              another process holds the sync lock
    │   └── PersonBusy         an action or the cycle holds a person the work needs
    ├── EmulatorUnavailable    the bundled emulator for a folder could not be started or stopped
    └── SalesforceError        Salesforce (or the emulator) answered with an error
        ├── AuthenticationFailed   the login itself was refused (bad password, secret, locked user)
        ├── UntrustedCertificate   Salesforce's TLS certificate is not trusted (TANDEM_SF_CA_BUNDLE)
        ├── SessionExpired         the session is no longer valid (401 INVALID_SESSION_ID)
        ├── LimitExceeded          the org's API limit is spent (403 REQUEST_LIMIT_EXCEEDED)
        ├── TransientError         a fault worth retrying (5xx, UNABLE_TO_LOCK_ROW, dropped connection)
        │   └── Unreachable        the login URL could not be reached (DNS, refused, timed out)
        └── RecordRejected         Salesforce refused a record (validation rule, required field, bad value)

Messages never contain secrets: values of settings marked secret are never formatted into them.
"""

from __future__ import annotations


class TandemError(Exception):
    """Root of every error Tandem raises on purpose."""


def one_line(error: BaseException) -> str:
    """An error as one line: what happened, then what to do about it when something can be done."""
    hint = getattr(error, "hint", None)
    return f"{error}; {hint}" if hint else str(error)


class ConfigError(TandemError):
    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(f"{setting}: {reason}")


class InvalidInput(TandemError):
    """Bad input; `field` names what was wrong so a user can fix it."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class InvalidSalesforceId(InvalidInput):
    """Not a Salesforce record Id: 15 characters, or 18 whose last three match the checksum."""

    def __init__(self, value: object, reason: str = "not a Salesforce Id", *, field: str = "Id") -> None:
        self.value = value
        super().__init__(field, f"{reason}: {value!r}")


class NotFound(TandemError):
    pass


class AmbiguousReference(TandemError):
    def __init__(self, reference: str, candidates: list[object]) -> None:
        self.reference = reference
        self.candidates = list(candidates)
        listed = ", ".join(str(c) for c in self.candidates)
        super().__init__(f"{reference!r} matches more than one: {listed}")


class StoreError(TandemError):
    pass


class StoreBusy(StoreError):
    """Other writers held the database (locks, deadlocks) through every attempt; trying later may work."""


class StoreConflict(StoreError):
    """The database refused a write (a row it names is gone, a key it sets is taken) however often the
    work was decided again; nothing of it was written."""


class CycleBusy(TandemError):
    """Another process holds the sync lock; the work was not started."""


class PersonBusy(CycleBusy):
    """An action or the cycle holds a person (or a pull page) the work needs, past the wait."""


class EmulatorUnavailable(TandemError):
    """The bundled emulator serving a state folder could not be started, found or stopped."""


class SalesforceError(TandemError):
    """An error answer from Salesforce: HTTP status, Salesforce's errorCode, message and fields.

    `hint` says what to do about it, when something can be done (see `PERMISSION_HINTS`).
    """

    default_hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        fields: list[str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.fields = list(fields or [])
        self.message = message
        self.hint = hint or PERMISSION_HINTS.get(error_code or "") or self.default_hint
        prefix = f"{error_code}: " if error_code else ""
        super().__init__(f"{prefix}{message}")


_SETUP_API = ("give the sync user's profile or a permission set 'API Enabled' "
              "(Setup > Users > Profiles or Permission Sets > System Permissions)")
PERMISSION_HINTS: dict[str, str] = {
    "API_DISABLED_FOR_ORG": "this org's edition has no API access: use Enterprise, Unlimited, Developer or Performance",
    "API_CURRENTLY_DISABLED": _SETUP_API,
    "INSUFFICIENT_ACCESS": "give the sync user read and edit access to Lead, Contact and Account "
                           "(object permissions and field-level security on its profile or a permission set)",
    "INSUFFICIENT_ACCESS_OR_READONLY": "give the sync user edit access to the record (object permission, "
                                       "sharing, field-level security)",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": "give the sync user access to the record this one points at "
                                                     "(owner, account or queue)",
}

_LOGIN_HINTS: tuple[tuple[str, str], ...] = (
    ("locked", "the sync user is locked out: unlock it in Setup > Users (or wait for the lockout to end), "
               "then check TANDEM_SF_PASSWORD and TANDEM_SF_SECURITY_TOKEN"),
    ("invalid_client_id", "TANDEM_SF_CLIENT_ID is not the Consumer Key of a connected app in this org"),
    ("invalid_client", "TANDEM_SF_CLIENT_SECRET is not the connected app's Consumer Secret"),
    ("unsupported_grant_type", "allow the flow: Setup > OAuth and OpenID Connect Settings > Allow OAuth "
                               "Username-Password Flows (or enable Client Credentials Flow on the connected app)"),
    ("no client credentials user", "set a Run As user for the connected app's Client Credentials Flow "
                                   "(Setup > App Manager > the app > Manage > Edit Policies)"),
    ("inactive", "the sync user is inactive: activate it in Setup > Users"),
)
_BAD_PASSWORD_HINT = ("check TANDEM_SF_USERNAME, TANDEM_SF_PASSWORD and TANDEM_SF_SECURITY_TOKEN (the token is "
                      "needed from outside the org's trusted IP ranges; reset it in the user's settings); Salesforce "
                      "answers the same for a locked or inactive user: see Setup > Users")


class AuthenticationFailed(SalesforceError):
    """The login was refused; trying again with the same settings cannot succeed (and locks the user)."""

    def __init__(self, message: str, **kwargs) -> None:
        super().__init__(message, **kwargs)
        if not kwargs.get("hint"):
            said = f"{self.error_code or ''} {message}".lower()
            self.hint = next((hint for word, hint in _LOGIN_HINTS if word in said), _BAD_PASSWORD_HINT)


class UntrustedCertificate(SalesforceError):
    """The server's certificate does not verify against the trusted CAs."""

    default_hint = "set TANDEM_SF_CA_BUNDLE to the CA file that signs the server's certificate"


class UnservedApiVersion(SalesforceError):
    """The org does not serve the configured API version: no call can succeed until the setting changes."""


class SessionExpired(SalesforceError):
    pass


class LimitExceeded(SalesforceError):
    pass


class TransientError(SalesforceError):
    pass


class Unreachable(TransientError):
    """No answer at all from the login URL: the sync waits, backing off, instead of retrying at once."""

    default_hint = "check TANDEM_SF_LOGIN_URL and the network (proxy, firewall) from this machine"


class RecordRejected(SalesforceError):
    pass
