"""`tandem serve` refuses to start without the API credentials, naming the setting."""

from __future__ import annotations

from typer.testing import CliRunner

from tandem.cli import app


def test_serve_needs_the_api_credentials(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TANDEM_API_CLIENT_ID", raising=False)
    monkeypatch.delenv("TANDEM_API_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{tmp_path / 'tandem.db'}")
    result = CliRunner().invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "TANDEM_API_CLIENT_ID" in result.output


def test_serve_needs_a_set_up_database(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANDEM_API_CLIENT_ID", "id")
    monkeypatch.setenv("TANDEM_API_CLIENT_SECRET", "secret")
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{tmp_path / 'tandem.db'}")
    result = CliRunner().invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 1 and "tandem init" in result.output
