"""How Xero's failures become domain errors, and which of them are worth waiting out."""

from __future__ import annotations

import math
import re

import httpx

from bot.clients._http import Retry, retry_after
from bot.domain.errors import ExternalServiceError, XeroGrantRevoked

from ._oauth import OAuthError

# Xero sends whole seconds; anything else gets a short default wait.
DEFAULT_RETRY_AFTER = 5.0
TRY_LATER = "try again in a few minutes."
CONNECT_AGAIN_LATER = "the customer needs to connect to Xero again in a few minutes."
ASK_MAINTAINERS = "Ask the bot's maintainers to check the Xero integration."
GRANT_REVOKED = (
    "Xero no longer accepts this connection's authorisation; the customer needs to connect to "
    "Xero again."
)

_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_RATE_LIMIT_NAMES = {
    "day": "daily",
    "minute": "per-minute",
    "concurrent": "concurrent-request",
    "appminute": "app-wide per-minute",
}


def status_failure(
    response: httpx.Response, purpose: str, advice: str, *, max_retry_after: float
) -> Exception:
    """The error for an HTTP failure status other than 401/403: a `Retry` if waiting helps."""
    status = response.status_code
    outcome = f"HTTP {status}"
    if status == httpx.codes.TOO_MANY_REQUESTS:
        delay = retry_after(response, default=DEFAULT_RETRY_AFTER)
        limit = _RATE_LIMIT_NAMES.get(response.headers.get("X-Rate-Limit-Problem", "").lower())
        failure = ExternalServiceError(
            f"Xero's {limit + ' ' if limit else ''}request limit has been reached while "
            f"{purpose}; try again in {describe_wait(delay)}.",
            retryable=True,
        )
        if delay > max_retry_after:
            return failure
        return Retry(f"{outcome} ({limit or 'rate limit'})", failure, delay)
    if status >= httpx.codes.INTERNAL_SERVER_ERROR:
        failure = unavailable(purpose, f"it answered HTTP {status}", advice)
        return Retry(outcome, failure, None)
    return ExternalServiceError(
        f"Xero answered HTTP {status} while {purpose}; trying again will not help. "
        f"{ASK_MAINTAINERS}",
        retryable=False,
    )


def raise_token_endpoint_error(response: httpx.Response) -> None:
    """Raise for a failed answer the way authlib does for token requests."""
    if response.status_code < httpx.codes.INTERNAL_SERVER_ERROR:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            raise OAuthError(error=body["error"])
    response.raise_for_status()


def oauth_failure(exc: Exception, purpose: str) -> Exception:
    code = getattr(exc, "error", None)
    if code == "invalid_grant":
        return XeroGrantRevoked(GRANT_REVOKED)
    if not isinstance(code, str) or not _ERROR_CODE.fullmatch(code):
        code = "unknown"
    return ExternalServiceError(
        f"Xero refused the bot's request while {purpose} (error '{code}'). Ask the bot's "
        "maintainers to check the Xero app's client id, secret and redirect URI.",
        retryable=False,
    )


def describe_wait(seconds: float) -> str:
    if seconds < 90:
        count, unit = max(1, math.ceil(seconds)), "second"
    elif seconds < 90 * 60:
        count, unit = math.ceil(seconds / 60), "minute"
    else:
        count, unit = math.ceil(seconds / 3600), "hour"
    return f"about {count} {unit}{'' if count == 1 else 's'}"


def unavailable(purpose: str, detail: str, advice: str) -> ExternalServiceError:
    return ExternalServiceError(
        f"Xero is not answering right now ({detail} while {purpose}); {advice}",
        retryable=True,
    )


def unreadable(purpose: str, detail: str) -> ExternalServiceError:
    return ExternalServiceError(
        f"Xero sent an answer the bot could not read while {purpose} ({detail}). {ASK_MAINTAINERS}",
        retryable=False,
    )
