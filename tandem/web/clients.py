"""The REST API's clients as configured: the `TANDEM_API_CLIENT_ID`/`_SECRET` pair and every
`[[api_clients]]` entry of tandem.toml (or `TANDEM_API_CLIENTS`, a JSON list), checked before
`tandem serve` starts. A short secret is refused, since anyone who can guess it can mint tokens.
"""

from __future__ import annotations

from tandem.config import Settings
from tandem.errors import ConfigError
from tandem.web.tokens import MIN_SECRET_LENGTH, SECRET_HINT, ApiCredentials


def configured_clients(settings: Settings) -> list[ApiCredentials]:
    named: list[tuple[str, str, str]] = []  # (setting to name in errors, client id, secret)
    if settings.api_client_id or settings.api_client_secret is not None:
        if not settings.api_client_id:
            raise ConfigError("TANDEM_API_CLIENT_ID", "set it along with TANDEM_API_CLIENT_SECRET")
        if settings.api_client_secret is None:
            raise ConfigError("TANDEM_API_CLIENT_SECRET", "set it along with TANDEM_API_CLIENT_ID")
        named.append(("TANDEM_API_CLIENT", settings.api_client_id, settings.api_client_secret.get_secret_value()))
    for number, client in enumerate(settings.api_clients):
        named.append((f"api_clients[{number}]", client.client_id, client.client_secret.get_secret_value()))
    if not named:
        raise ConfigError("TANDEM_API_CLIENT_ID", "set it and TANDEM_API_CLIENT_SECRET (or add [[api_clients]] "
                                                  "to tandem.toml) to serve the REST API")
    seen: set[str] = set()
    clients = []
    for setting, client_id, secret in named:
        secret_name = "TANDEM_API_CLIENT_SECRET" if setting == "TANDEM_API_CLIENT" else f"{setting}.client_secret"
        id_name = "TANDEM_API_CLIENT_ID" if setting == "TANDEM_API_CLIENT" else f"{setting}.client_id"
        if not client_id.strip() or client_id != client_id.strip():  # no client could send it as its id
            raise ConfigError(id_name, f"{client_id!r} is blank or begins or ends with a space")
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(secret_name, f"shorter than {MIN_SECRET_LENGTH} characters; {SECRET_HINT}")
        if client_id in seen:
            raise ConfigError(id_name, f"client id {client_id!r} is configured twice")
        seen.add(client_id)
        clients.append(ApiCredentials(client_id, secret))
    return clients
