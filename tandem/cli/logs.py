"""Logging for every command: warnings by default, `-v` info, `-vv` debug; text or one JSON object a line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the fields passed as `extra`."""

    _STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        entry |= {k: v for k, v in record.__dict__.items() if k not in self._STANDARD}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(verbosity: int = 0, log_format: str = "text") -> None:
    """Send Tandem's log records to stderr at the level `verbosity` asks for."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("tandem")
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS[min(verbosity, len(LEVELS) - 1)])
