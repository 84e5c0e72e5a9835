"""The Dockerfile, compose.yaml, the systemd units and the Makefile, checked without Docker or systemd."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_image_is_slim_unprivileged_built_from_the_lock_and_checks_its_health():
    steps = _instructions(ROOT / "Dockerfile")
    bases = [args.split()[0] for word, args in steps if word == "FROM"]
    assert bases and all(base.endswith("-slim") for base in bases)
    final = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    users = [args for word, args in steps[final:] if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    cmd_at = max(i for i, (word, _) in enumerate(steps) if word == "CMD")
    assert max(i for i, (word, _) in enumerate(steps) if word == "USER") < cmd_at
    copied = " ".join(args for word, args in steps if word == "COPY")
    assert "requirements.lock" in copied
    installs = [args for word, args in steps if word == "RUN" and "pip install" in args]
    assert installs and all("-c requirements.lock" in args for args in installs)
    [health] = [args for word, args in steps if word == "HEALTHCHECK"]
    assert "/health" in health and "CMD" in health
    port = re.search(r"127\.0\.0\.1:(\d+)/health", health).group(1)
    assert ("EXPOSE", port) in steps
    assert json.loads(steps[cmd_at][1])[:1] == ["tandem"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_compose_runs_postgres_init_run_and_serve():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "init", "run", "serve"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["init"]["command"] == ["tandem", "init"]
    assert services["init"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["run"]["command"][-1] == "run"
    assert "serve" in services["serve"]["command"]
    for name in ("run", "serve"):
        service = services[name]
        assert service["build"] == "." and service["restart"] == "unless-stopped"
        assert service["depends_on"]["init"]["condition"] == "service_completed_successfully"
        assert service["environment"]["TANDEM_DATABASE_URL"].startswith("postgresql://tandem:")
        assert "@postgres:5432/tandem" in service["environment"]["TANDEM_DATABASE_URL"]
    serve = services["serve"]["command"]
    port = serve[serve.index("--port") + 1]
    assert services["serve"]["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert "pgdata" in compose["volumes"]


def test_the_systemd_units_run_tandem_as_its_own_user():
    for name, command in (("tandem-run.service", "run"), ("tandem-serve.service", "serve")):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.read(ROOT / "deploy" / name)
        service = unit["Service"]
        argv = shlex.split(service["ExecStart"])
        assert argv[0].endswith("/tandem") and command in argv
        assert service["User"] == "tandem" and service["Restart"] == "on-failure"
        assert service["EnvironmentFile"] == "/etc/tandem/tandem.env"
        assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_make_demo_installs_no_test_tools():
    rules = {}
    for block in re.split(r"\n(?=\S)", (ROOT / "Makefile").read_text()):
        head, _, body = block.partition("\n")
        if ":" in head and not head.startswith((".", "#")) and "=" not in head.split(":")[0]:
            rules[head.split(":")[0].strip()] = (head.split(":", 1)[1].split(), body)
    demo_prerequisites, _ = rules["demo"]
    assert demo_prerequisites == ["$(RUNTIME)"]
    assert "-e ." in rules["$(RUNTIME)"][1] and "[dev]" not in rules["$(RUNTIME)"][1]
    assert "[dev]" in rules["$(DEV)"][1] and rules["test"][0] == ["$(DEV)"]
