"""Request bodies over the limit are refused before anything reads them, on every route."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from handlers.limits import DEFAULT_MAX_BODY_BYTES
from tests.slack_fixtures import Slack

OVER = DEFAULT_MAX_BODY_BYTES + 1
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"a" * piece


@pytest.mark.parametrize("path", ["/slack/events", "/connect/some-token", "/xero/callback"])
async def test_a_declared_oversized_body_is_413_at_once(slack: Slack, path: str) -> None:
    response = await slack.http.post(
        path, content=b"x" * OVER, headers={"content-type": "application/x-www-form-urlencoded"}
    )

    assert response.status_code == 413
    assert (
        response.text == f"Request body too large: this service takes at most {OVER - 1} bytes.\n"
    )
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("path", ["/slack/events", "/connect/some-token"])
async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(
    slack: Slack, path: str
) -> None:
    response = await slack.http.post(
        path,
        content=chunks(8 * DEFAULT_MAX_BODY_BYTES),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 413
    assert "too large" in response.text


async def test_a_body_within_the_limit_reaches_the_app(slack: Slack) -> None:
    response = await slack.http.post("/slack/events", content=b"x" * (OVER - 1))
    assert response.status_code == 401  # unsigned, so Bolt refuses it: it was read and checked


async def test_an_oversized_api_body_is_a_413_problem_document(slack: Slack) -> None:
    """Declared too large, it is refused before the key is looked at; streamed, the API's own
    16 KiB limit refuses it once the key is good (tests/handlers/api)."""
    response = await slack.http.post(
        "/api/v1/stores/acme/S001/problems",
        content=b"{" * OVER,
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Body too large",
        "status": 413,
        "detail": f"Request body too large: this service takes at most {OVER - 1} bytes.",
    }
