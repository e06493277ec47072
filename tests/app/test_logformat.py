"""The log configuration the CLI installs: one format, text or JSON, filters kept."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logformat import configure_logging


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = str(record.msg).replace("hush", "[redacted]")
        return True


def test_json_lines_carry_level_logger_message_and_exception() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    logging.getLogger("bot.test").warning("store %s refused", "S001")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("failed")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["level"] == "WARNING"
    assert first["logger"] == "bot.test"
    assert first["message"] == "store S001 refused"
    assert first["time"].endswith("+00:00")
    assert second["logger"] == "uvicorn.error"
    assert "RuntimeError: boom" in second["exception"]


def test_filters_on_the_replaced_handler_and_given_ones_are_kept() -> None:
    earlier = io.StringIO()
    first = configure_logging("text", stream=earlier)
    first.addFilter(Redact())
    out = io.StringIO()
    configure_logging("json", stream=out)
    logging.getLogger("uvicorn.access").info("GET /connect/hush")
    assert json.loads(out.getvalue())["message"] == "GET /connect/[redacted]"
    assert earlier.getvalue() == ""

    again = io.StringIO()
    configure_logging("text", stream=again, filters=[Redact()])
    logging.getLogger("bot").info("hush")
    assert again.getvalue().rstrip().endswith("INFO bot [redacted]")


def test_uvicorn_loggers_reach_the_one_handler() -> None:
    logging.getLogger("uvicorn.access").addHandler(logging.StreamHandler(io.StringIO()))
    logging.getLogger("uvicorn.access").propagate = False
    out = io.StringIO()
    configure_logging("text", stream=out)
    logging.getLogger("uvicorn.access").info("hello")
    assert out.getvalue().rstrip().endswith("INFO uvicorn.access hello")
