"""Keeping bearer credentials out of log lines, whatever formats and ships them.

A consent link's token is in its path (`/connect/<token>…`) and Xero sends the OAuth `code`
and `state` back in the callback's query; uvicorn's access log and our own error lines
include paths. `RedactSecrets` is a `logging.Filter`, so it works with any formatter: it
rewrites each record before formatting, replacing every such value with a short hash prefix
(the first 8 hex digits of its SHA-256, as kept in `consent_requests.token_hash` and
`oauth_states.state_hash`) so a line can still be matched to its link or sign-in.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from collections.abc import Iterable
from typing import Any

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
SECRET_PARAMETERS = (
    "code",
    "state",
    "session_state",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "csrf_token",
)
_LINK = re.compile(r"(/connect/)(?!~)([^/?#\s\"'<>]{8,})")
_API_KEY = re.compile(r"(xbk_[a-z0-9]{12}_)([A-Za-z0-9_-]{20,})")
"""The sync service's API keys: the id part is kept, to tell which key a line is about."""
_BEARER = re.compile(r"(Bearer\s+)(?!xbk_)(?!~)([A-Za-z0-9._~+/=-]{16,})", re.IGNORECASE)
"""A bearer token quoted whole (an access token in a request someone pasted)."""
_PARAMETER = re.compile(
    rf"(?<![A-Za-z0-9_])((?:{'|'.join(SECRET_PARAMETERS)})=)(?!~)([^&#\s\"'<>]+)", re.IGNORECASE
)


def fingerprint(secret: str) -> str:
    """A short, one-way stand-in for a secret: enough to correlate, useless to replay."""
    return "~" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def redact(text: str) -> str:
    """`text` with link tokens, OAuth codes, states and tokens, API keys and bearer tokens
    replaced by fingerprints."""
    text = _LINK.sub(lambda m: m.group(1) + fingerprint(m.group(2)), text)
    text = _API_KEY.sub(lambda m: m.group(1) + fingerprint(m.group(2)), text)
    text = _BEARER.sub(lambda m: m.group(1) + fingerprint(m.group(2)), text)
    return _PARAMETER.sub(lambda m: m.group(1) + fingerprint(m.group(2)), text)


class RedactedTraceback(Exception):
    """Stands in for an exception whose traceback named a secret; its message is the
    original traceback, redacted."""


class RedactSecrets(logging.Filter):
    """Rewrites a record's message, arguments and traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        record.args = _redact_args(record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = ""
        if redact(message) != message:
            record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            text = record.exc_text or "".join(traceback.format_exception(*record.exc_info))
            if redact(text) != text:
                # The traceback names a secret: it is kept, redacted, as the message of a
                # stand-in exception, which any formatter prints as it would the original.
                stand_in = RedactedTraceback(redact(text).rstrip())
                record.exc_info, record.exc_text = (RedactedTraceback, stand_in, None), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _redact_args(args: Any) -> Any:
    """Arguments redacted one by one, so formatters that read them (uvicorn's) still work."""
    if isinstance(args, tuple):
        return tuple(redact(arg) if isinstance(arg, str) else arg for arg in args)
    if isinstance(args, dict):
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in args.items()
        }
    return args


def install_redaction(extra_loggers: Iterable[str] = UVICORN_LOGGERS) -> RedactSecrets:
    """Put the filter on every handler of the root and uvicorn loggers, and on those loggers.

    On the handlers it covers records propagated from any logger; on uvicorn's loggers it
    covers handlers added to them later. Idempotent: call it after logging is configured.
    """
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in extra_loggers)]
    shared = next(
        (f for logger in loggers for f in logger.filters if isinstance(f, RedactSecrets)),
        RedactSecrets(),
    )
    for logger in loggers:
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, RedactSecrets) for f in target.filters):
                target.addFilter(shared)
    return shared
