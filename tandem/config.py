"""Settings: one typed object read from `TANDEM_*` environment variables and an optional `tandem.toml`.

The environment wins over the file. A missing or malformed setting fails at start with a
`ConfigError` naming the variable; secrets are `SecretStr`, so they never show in a repr, a log
line or an error message.
"""

from __future__ import annotations

import os
import re
import ssl
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tandem.errors import ConfigError

ENV_PREFIX = "TANDEM_"
CONFIG_FILE_ENV = "TANDEM_CONFIG"
DEFAULT_CONFIG_FILE = "tandem.toml"
ORG_COMMIT_LAG_SECONDS = 120.0
"""A real org's writes are read once they are this old: a transaction commits within this after stamping."""


def _given(secret: SecretStr | None) -> bool:
    """Set, and not to an empty value (`TANDEM_SF_PASSWORD=` in an env file)."""
    return secret is not None and secret.get_secret_value() != ""


class ApiClientSetting(BaseModel):
    """One more client of the REST API (`[[api_clients]]` in tandem.toml, or JSON in TANDEM_API_CLIENTS)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr


class Settings(BaseSettings):
    """Everything Tandem reads from its environment; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = "sqlite:///tandem.db"
    sf_login_url: str | None = Field(
        None, description="OAuth login URL of a real org; unset means the bundled emulator"
    )
    sf_username: str | None = None
    sf_password: SecretStr | None = None
    sf_security_token: SecretStr | None = None
    sf_client_id: str | None = None
    sf_client_secret: SecretStr | None = None
    sf_ca_bundle: Path | None = Field(None, description="CA file trusted for Salesforce HTTPS")
    sf_api_version: str = "62.0"
    sync_interval_seconds: int = Field(300, ge=1, le=86_400)
    sync_commit_lag_seconds: float | None = Field(
        None, ge=0, le=3600,
        description="how late Salesforce may commit a write after stamping it; unset: 120 for an org, 0 for the emulator",
    )
    sync_pull_bulk_threshold: int = Field(20_000, ge=0, description="records in a pull window read by a Bulk query job")
    sync_pull_rest_while_bulk: bool = Field(
        True, description="read and write REST pages while a pull's Bulk query job runs (false: wait for the job, "
                          "fewer calls)")
    sync_push_bulk_threshold: int = Field(10_000, ge=0, description="persons to push at which Bulk ingest jobs go; 0: never")
    sync_concurrency: int = Field(8, ge=1, le=25, description="push batches in flight at once")
    api_client_id: str | None = None
    api_client_secret: SecretStr | None = None
    api_clients: list[ApiClientSetting] = Field(default_factory=list)
    sync: dict[str, Any] = Field(default_factory=dict, description="tandem.toml's [sync] policy table, "
                                 "checked by tandem.sync.policy (TANDEM_SYNC as JSON)")
    secret_key: SecretStr | None = Field(
        None, description="Signs the web UI's session cookies; unset means a key made once and kept in the database"
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):  # the store's drivers
            raise ValueError(f"must be a sqlite:/// or postgresql:// URL, got {value.split(':')[0]!r} "
                             "(e.g. sqlite:///tandem.db or postgresql://user@host:5432/tandem)")
        try:
            make_url(value)
        except (ArgumentError, ValueError):  # their messages may quote the URL, password and all
            raise ValueError("cannot be read as a URL (is the port a number, is an IPv6 host in brackets?); "
                             "e.g. sqlite:///tandem.db or postgresql://user@host:5432/tandem") from None
        return value

    @field_validator("sf_login_url")
    @classmethod
    def _https_login(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        if value is not None and "@" in urlsplit(value).netloc:  # it would show in every connection error
            raise ValueError("must not hold a user name or password; set TANDEM_SF_USERNAME and TANDEM_SF_PASSWORD")
        if value is not None:  # else every login fails later as "the request to https: failed (InvalidURL)"
            parts = urlsplit(value)
            try:
                port = parts.port
            except ValueError:
                port = 0
            if port == 0:
                raise ValueError("has a port that is not a number from 1 to 65535")
            if any(c.isspace() for c in value):
                raise ValueError("must not hold spaces")
            if not parts.hostname:
                raise ValueError("must name a host, e.g. https://yourcompany.my.salesforce.com")
            if parts.query or parts.fragment or value.endswith(("?", "#")):  # the token path goes after it
                raise ValueError("must have no ?query or #fragment, e.g. https://yourcompany.my.salesforce.com")
        return value.rstrip("/") if value else value

    @field_validator("sf_api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        major, dot, minor = value.partition(".")
        if not (major.isdigit() and dot and minor == "0"):
            raise ValueError("must look like 62.0")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("shorter than 32 characters; make one with "
                             "python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
        return value

    @field_validator("sf_ca_bundle", mode="before")
    @classmethod
    def _blank_ca_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value  # `TANDEM_SF_CA_BUNDLE=` in an env file

    @field_validator("sf_ca_bundle")
    @classmethod
    def _ca_exists(cls, value: Path | None) -> Path | None:
        if value is not None and value.is_dir():
            raise ValueError(f"{value} is a folder: name the CA file (PEM) itself")
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        if value is not None:
            try:
                ssl.create_default_context(cafile=str(value))
            except (ssl.SSLError, OSError, UnicodeDecodeError):  # else read as "no trusted CA signs the org"
                raise ValueError(f"{value} holds no PEM certificate (a CA bundle is one or more "
                                 "'-----BEGIN CERTIFICATE-----' blocks)") from None
        return value

    @model_validator(mode="after")
    def _salesforce_credentials(self) -> Settings:
        if self.sf_login_url is None:
            given = [name for name, value in (("sf_username", self.sf_username), ("sf_password", self.sf_password),
                                              ("sf_security_token", self.sf_security_token),
                                              ("sf_client_id", self.sf_client_id),
                                              ("sf_client_secret", self.sf_client_secret))
                     if value is not None and (_given(value) if isinstance(value, SecretStr) else value != "")]
            if given:  # else the sync would run against the bundled emulator's sample org without a word
                raise ValueError(f"TANDEM_SF_LOGIN_URL is needed when {env_name(given[0])} is set (your org's "
                                 "https://login.salesforce.com, https://test.salesforce.com or My Domain URL); "
                                 "leave the TANDEM_SF_* credentials unset to use the bundled emulator")
            return self
        if not self.sf_client_id:
            raise ValueError("TANDEM_SF_CLIENT_ID is needed when TANDEM_SF_LOGIN_URL is set")
        if self.sf_username == "" and _given(self.sf_password):  # `TANDEM_SF_USERNAME=` left empty
            raise ValueError("TANDEM_SF_USERNAME is empty but TANDEM_SF_PASSWORD is set: name the sync user, "
                             "or leave both out for the client-credentials flow")
        if self.sf_username and not _given(self.sf_password):
            raise ValueError("TANDEM_SF_PASSWORD is needed when TANDEM_SF_USERNAME is set")
        if not self.sf_username and not _given(self.sf_client_secret):
            raise ValueError(
                "set TANDEM_SF_USERNAME and TANDEM_SF_PASSWORD, or TANDEM_SF_CLIENT_SECRET "
                "for the client-credentials flow"
            )
        if not self.sf_username and (_given(self.sf_password) or _given(self.sf_security_token)):
            given = "TANDEM_SF_PASSWORD" if _given(self.sf_password) else "TANDEM_SF_SECURITY_TOKEN"
            raise ValueError(f"TANDEM_SF_USERNAME is needed when {given} is set (else the client-credentials flow "
                             "would log in as the connected app's Run As user); leave it out for that flow")
        return self

    @property
    def commit_lag_seconds(self) -> float:
        """The commit lag the pull allows for (`sync_commit_lag_seconds`, or the target's default)."""
        if self.sync_commit_lag_seconds is not None:
            return self.sync_commit_lag_seconds
        return 0.0 if self.salesforce_target == "emulator" else ORG_COMMIT_LAG_SECONDS

    @property
    def salesforce_target(self) -> Literal["emulator", "org"]:
        return "emulator" if self.sf_login_url is None else "org"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFile(settings_cls))


class _TomlFile(PydanticBaseSettingsSource):
    """`tandem.toml` (or the file named by TANDEM_CONFIG): keys are the setting names, e.g. `database_url`."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.path = _config_path()
        self.values = _read_toml(self.path) if self.path else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


def _config_path() -> Path | None:
    named = os.environ.get(CONFIG_FILE_ENV)
    if named:
        path = Path(named)
        if path.is_dir():
            raise ConfigError(CONFIG_FILE_ENV, f"{path} is a folder: name the tandem.toml file itself")
        if not path.is_file():
            raise ConfigError(CONFIG_FILE_ENV, f"no such file: {path}")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def read_toml_file(path: Path) -> dict[str, Any]:
    """A TOML file's tables; a file that cannot be read as TOML is a `ConfigError` naming it, in one line."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read: {exc.strerror or exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    values = read_toml_file(path)
    known = set(Settings.model_fields)
    for key in values:
        if key not in known:
            raise ConfigError(f"{path}: {key}", f"unknown setting (known: {', '.join(sorted(known))})")
    return values


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def _named(field_name: str, overrides: dict[str, Any]) -> str:
    """The setting as the user wrote it: the variable, or the file's key when the value came from there."""
    if field_name not in overrides and env_name(field_name) not in os.environ:
        path = _config_path()
        if path is not None and field_name in _read_toml(path):
            return f"{path}: {field_name}"
    return env_name(field_name)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning pydantic's report into a ConfigError that names the variable."""
    try:
        return Settings(**overrides)
    except SettingsError as exc:  # a variable holding JSON that is not, before any validation
        named = re.search(r'field "(\w+)"', str(exc))
        cause = exc.__cause__
        raise ConfigError(env_name(named.group(1)) if named else "settings",
                          f"is not valid JSON ({cause})" if cause else str(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        location = first.get("loc") or ()
        setting = _named(str(location[0]), overrides) if location else "settings"
        setting += "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location[1:])
        reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise ConfigError(setting, reason) from None
