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


class CycleBusy(TandemError):
    """Another process holds the sync lock; the work was not started."""


class PersonBusy(CycleBusy):
    """An action or the cycle holds a person (or a pull page) the work needs, past the wait."""


class EmulatorUnavailable(TandemError):
    """The bundled emulator serving a state folder could not be started, found or stopped."""


class SalesforceError(TandemError):
    """An error answer from Salesforce: HTTP status, Salesforce's errorCode, message and fields."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        fields: list[str] | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.fields = list(fields or [])
        self.message = message
        prefix = f"{error_code}: " if error_code else ""
        super().__init__(f"{prefix}{message}")


class AuthenticationFailed(SalesforceError):
    """The login was refused; trying again with the same settings cannot succeed (and locks the user)."""

    hint = "check TANDEM_SF_USERNAME, TANDEM_SF_PASSWORD, TANDEM_SF_SECURITY_TOKEN and the connected app"


class UntrustedCertificate(SalesforceError):
    """The server's certificate does not verify against the trusted CAs."""

    hint = "set TANDEM_SF_CA_BUNDLE to the CA file that signs the server's certificate"


class SessionExpired(SalesforceError):
    pass


class LimitExceeded(SalesforceError):
    pass


class TransientError(SalesforceError):
    pass


class Unreachable(TransientError):
    """No answer at all from the login URL: the sync waits, backing off, instead of retrying at once."""

    hint = "check TANDEM_SF_LOGIN_URL and the network (proxy, firewall) from this machine"


class RecordRejected(SalesforceError):
    pass
