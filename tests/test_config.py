import pytest

from tandem.config import load_settings
from tandem.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("TANDEM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults():
    settings = load_settings()
    assert settings.database_url == "sqlite:///tandem.db"
    assert settings.sf_api_version == "62.0"
    assert settings.sync_interval_seconds == 300
    assert settings.salesforce_target == "emulator"


def test_toml_file_is_read_and_env_wins(monkeypatch, tmp_path):
    (tmp_path / "tandem.toml").write_text('sync_interval_seconds = 60\ndatabase_url = "sqlite:///x.db"\n')
    assert load_settings().sync_interval_seconds == 60
    monkeypatch.setenv("TANDEM_SYNC_INTERVAL_SECONDS", "90")
    settings = load_settings()
    assert settings.sync_interval_seconds == 90
    assert settings.database_url == "sqlite:///x.db"


def test_config_file_named_by_env(monkeypatch, tmp_path):
    path = tmp_path / "other.toml"
    path.write_text('sf_api_version = "61.0"\n')
    monkeypatch.setenv("TANDEM_CONFIG", str(path))
    assert load_settings().sf_api_version == "61.0"
    monkeypatch.setenv("TANDEM_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="TANDEM_CONFIG"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("TANDEM_SYNC_INTERVAL_SECONDS", "soon", "integer"),
        ("TANDEM_SYNC_INTERVAL_SECONDS", "0", "greater than or equal to 1"),
        ("TANDEM_SF_API_VERSION", "v62", "62.0"),
        ("TANDEM_DATABASE_URL", "mysql://x", "sqlite"),
        ("TANDEM_DATABASE_URL", "postgresql+asyncpg://tandem:s3cret@db/tandem", "sqlite"),  # before, "database_url: ..."
        ("TANDEM_DATABASE_URL", "postgresql://tandem:s3cret@db.example:543x/tandem", "port"),  # before, a traceback
        ("TANDEM_DATABASE_URL", "postgresql://tandem:s3cret@[::1/tandem", "cannot be read as a URL"),
        ("TANDEM_DATABASE_URL", "postgresql:tandem:s3cret", "cannot be read as a URL"),
        ("TANDEM_SF_LOGIN_URL", "http://login.example", "https"),
        ("TANDEM_SF_LOGIN_URL", "https://sync:s3cret@login.example", "user name or password"),  # before, in errors
        ("TANDEM_SF_LOGIN_URL", "https://", "must name a host"),  # before, each login failed with InvalidURL
        ("TANDEM_SF_LOGIN_URL", "https:///services", "must name a host"),
        ("TANDEM_SF_LOGIN_URL", "https://login.example:99999", "port"),
        ("TANDEM_SF_LOGIN_URL", "https://login.example:44x", "port"),
        ("TANDEM_SF_LOGIN_URL", "https://my domain.example", "spaces"),
        ("TANDEM_SF_LOGIN_URL", "https://login.example?realm=x", "query"),  # before, the token path went after it
        ("TANDEM_SF_LOGIN_URL", "https://login.example/#top", "fragment"),
        ("TANDEM_SF_CA_BUNDLE", "/no/such/ca.pem", "no such file"),
        ("TANDEM_SYNC", "{bad", "is not valid JSON"),  # before, a traceback from the settings library
        ("TANDEM_API_CLIENTS", '{"reporting": "s3cret-not-to-be-shown', "is not valid JSON"),
    ],
)
def test_malformed_setting_names_the_variable(monkeypatch, name, value, reason):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == name
    assert reason in info.value.reason
    assert "s3cret" not in str(info.value)


def test_unknown_key_in_file_is_refused(tmp_path):
    (tmp_path / "tandem.toml").write_text("sync_intervall = 5\n")
    with pytest.raises(ConfigError, match="sync_intervall"):
        load_settings()


def test_real_org_needs_credentials(monkeypatch):
    monkeypatch.setenv("TANDEM_SF_LOGIN_URL", "https://login.example")
    with pytest.raises(ConfigError, match="TANDEM_SF_CLIENT_ID"):
        load_settings()
    monkeypatch.setenv("TANDEM_SF_CLIENT_ID", "app")
    monkeypatch.setenv("TANDEM_SF_USERNAME", "sync@example.com")
    with pytest.raises(ConfigError, match="TANDEM_SF_PASSWORD"):
        load_settings()
    monkeypatch.setenv("TANDEM_SF_PASSWORD", "")  # before, a login was tried with no password
    with pytest.raises(ConfigError, match="TANDEM_SF_PASSWORD"):
        load_settings()
    monkeypatch.setenv("TANDEM_SF_PASSWORD", "hunter2-very-secret")
    settings = load_settings()
    assert settings.salesforce_target == "org"
    monkeypatch.setenv("TANDEM_SF_USERNAME", "")  # before, the client-credentials flow was used without a word
    monkeypatch.setenv("TANDEM_SF_CLIENT_SECRET", "app-secret")
    with pytest.raises(ConfigError, match="TANDEM_SF_USERNAME is empty"):
        load_settings()
    monkeypatch.delenv("TANDEM_SF_USERNAME")
    monkeypatch.setenv("TANDEM_SF_CLIENT_SECRET", "")  # the client-credentials flow with no secret
    with pytest.raises(ConfigError, match="TANDEM_SF_CLIENT_SECRET"):
        load_settings()


def test_secrets_never_printed(monkeypatch):
    monkeypatch.setenv("TANDEM_SF_LOGIN_URL", "https://login.example")
    monkeypatch.setenv("TANDEM_SF_CLIENT_ID", "app")
    monkeypatch.setenv("TANDEM_SF_CLIENT_SECRET", "s3cr3t-client")
    monkeypatch.setenv("TANDEM_SF_PASSWORD", "s3cr3t-password")
    monkeypatch.setenv("TANDEM_SF_USERNAME", "sync@example.com")
    monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", "s3cr3t-api")
    settings = load_settings()
    shown = repr(settings) + str(settings) + str(settings.model_dump())
    assert "s3cr3t" not in shown
    assert settings.sf_password.get_secret_value() == "s3cr3t-password"


def test_secret_value_not_in_error(monkeypatch):
    monkeypatch.setenv("TANDEM_SF_LOGIN_URL", "https://login.example")
    monkeypatch.setenv("TANDEM_SF_CLIENT_ID", "app")
    monkeypatch.setenv("TANDEM_SF_USERNAME", "sync@example.com")
    monkeypatch.setenv("TANDEM_SF_PASSWORD", "s3cr3t-password")
    monkeypatch.setenv("TANDEM_SYNC_INTERVAL_SECONDS", "never")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize("content", ["", "not a certificate\n", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_a_ca_bundle_with_no_certificate_is_named_as_such(tmp_path, monkeypatch, content):
    """Before, it was taken, and every connection then failed as if no trusted CA signed the org's certificate."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text(content)
    monkeypatch.setenv("TANDEM_SF_CA_BUNDLE", str(bundle))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "TANDEM_SF_CA_BUNDLE" and "holds no PEM certificate" in info.value.reason


def test_a_ca_bundle_of_real_certificates_is_taken(tmp_path, monkeypatch):
    import trustme

    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("TANDEM_SF_CA_BUNDLE", str(bundle))
    assert load_settings().sf_ca_bundle == bundle


def test_a_bad_value_in_the_file_is_named_by_its_key_there(tmp_path, monkeypatch):
    """Before, it was named TANDEM_SYNC_INTERVAL_SECONDS, a variable the user never set."""
    (tmp_path / "tandem.toml").write_text('sync_interval_seconds = "soon"\n')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "tandem.toml: sync_interval_seconds"
    monkeypatch.setenv("TANDEM_SYNC_INTERVAL_SECONDS", "later")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "TANDEM_SYNC_INTERVAL_SECONDS"


def test_a_bad_api_client_is_named_down_to_its_member(tmp_path, monkeypatch):
    (tmp_path / "tandem.toml").write_text('[[api_clients]]\nclient_id = "a"\nclient_secret = 5\n')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "tandem.toml: api_clients[0].client_secret"
    (tmp_path / "tandem.toml").unlink()
    monkeypatch.setenv("TANDEM_API_CLIENTS", '[{"client_id": "a", "client_secret": "s3cret"}, {"client_id": ""}]')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "TANDEM_API_CLIENTS[1].client_id" and "s3cret" not in str(info.value)


def test_a_file_that_is_not_utf8_is_named_in_one_line(tmp_path):
    """Before, a UnicodeDecodeError traceback."""
    (tmp_path / "tandem.toml").write_bytes(b'database_url = "\xff\xfe"\n')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "tandem.toml" and "not UTF-8" in info.value.reason


@pytest.mark.parametrize("name", ["TANDEM_SF_USERNAME", "TANDEM_SF_PASSWORD", "TANDEM_SF_SECURITY_TOKEN",
                                  "TANDEM_SF_CLIENT_ID", "TANDEM_SF_CLIENT_SECRET"])
def test_org_credentials_without_a_login_url_are_refused(monkeypatch, name):
    """Before, they were ignored and the sync ran against the bundled emulator's sample org without a word."""
    monkeypatch.setenv(name, "s3cret-value")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert f"TANDEM_SF_LOGIN_URL is needed when {name} is set" in info.value.reason
    assert "s3cret" not in str(info.value)
    monkeypatch.setenv(name, "")  # an empty line in an env file sets nothing
    assert load_settings().salesforce_target == "emulator"


def test_a_blank_ca_bundle_is_unset_and_a_folder_is_named_as_such(monkeypatch, tmp_path):
    """Before, `TANDEM_SF_CA_BUNDLE=` from an env file stopped Tandem with "no such file: .", and a folder was
    "no such file"."""
    monkeypatch.setenv("TANDEM_SF_CA_BUNDLE", "")
    assert load_settings().sf_ca_bundle is None
    monkeypatch.setenv("TANDEM_SF_CA_BUNDLE", str(tmp_path))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "TANDEM_SF_CA_BUNDLE" and info.value.reason == f"{tmp_path} is a folder: name the CA file (PEM) itself"


@pytest.mark.parametrize("name", ["TANDEM_SF_PASSWORD", "TANDEM_SF_SECURITY_TOKEN"])
def test_a_password_or_token_without_a_username_is_refused(monkeypatch, name):
    """Before, it was ignored and the client-credentials flow logged in as the connected app's Run As user."""
    monkeypatch.setenv("TANDEM_SF_LOGIN_URL", "https://login.example")
    monkeypatch.setenv("TANDEM_SF_CLIENT_ID", "app")
    monkeypatch.setenv("TANDEM_SF_CLIENT_SECRET", "app-secret")
    monkeypatch.setenv(name, "s3cret-value")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert f"TANDEM_SF_USERNAME is needed when {name} is set" in info.value.reason
    assert "s3cret" not in str(info.value)
