"""One log format for the bot's own lines and uvicorn's: text, or JSON for log shippers.

`configure_logging` gives the root logger one handler and lets uvicorn's loggers propagate
to it (uvicorn is then run with `log_config=None`), so every line has the same shape and
passes the same filters. Filters already on the handlers it replaces (the redaction of
secrets, say) are moved to the new handler, whichever is installed first.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import IO, Any

from bot.settings import SettingsError

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def log_format(environ: Mapping[str, str] | None = None) -> str:
    """LOG_FORMAT: `text` (the default) or `json`."""
    env = os.environ if environ is None else environ
    value = env.get("LOG_FORMAT", "").strip().lower() or "text"
    if value not in FORMATS:
        raise SettingsError(f"LOG_FORMAT must be text or json, got {value!r}.")
    return value


def configure_logging(
    fmt: str = "text",
    *,
    level: int = logging.INFO,
    stream: IO[str] | None = None,
    filters: Iterable[logging.Filter] = (),
) -> logging.Handler:
    """Install the one handler on the root logger and return it."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}")
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    # Only plain stream handlers are replaced: another tool's (pytest's capture) stays.
    for old in [h for h in root.handlers if type(h) is logging.StreamHandler]:
        for kept in old.filters:
            handler.addFilter(kept)
        root.removeHandler(old)
    for extra in filters:
        handler.addFilter(extra)
    root.addHandler(handler)
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    return handler
