"""`-v` and `--log-format json`: levels chosen by the count of -v, one JSON object a line."""

from __future__ import annotations

import json
import logging

from tandem.cli.logs import configure_logging
from tests.cli.running import tandem


def test_json_lines_carry_the_record_and_its_fields(capsys):
    configure_logging(1, "json")
    try:
        logging.getLogger("tandem.web.access").info("GET /health 200", extra={"status": 200, "path": "/health"})
        logging.getLogger("tandem.sync").debug("not at -v")
    finally:
        configure_logging(0, "text")
    [line] = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("info", "tandem.web.access", "GET /health 200")
    assert (entry["status"], entry["path"]) == (200, "/health") and entry["time"].endswith("+00:00")


def test_verbosity_sets_the_level():
    for count, level in ((0, logging.WARNING), (1, logging.INFO), (2, logging.DEBUG), (5, logging.DEBUG)):
        configure_logging(count, "text")
        assert logging.getLogger("tandem").level == level
    configure_logging(0, "text")


def test_an_unknown_log_format_is_refused(tmp_path):
    refused = tandem(tmp_path, "--log-format", "xml", "status")
    assert refused.returncode == 2 and "xml" in refused.stderr
