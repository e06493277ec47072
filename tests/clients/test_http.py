"""The shared HTTP helpers, where the Xero and Cloud POS client tests do not already reach."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.clients._http import Retry, Upstream, retry_after, retrying_transport_errors
from bot.domain.errors import ExternalServiceError

LOGGER = logging.getLogger("tests.clients.http")


def _unavailable(problem: str) -> ExternalServiceError:
    return ExternalServiceError(f"unavailable: {problem}", retryable=True)


def _upstream(max_attempts: int, delays: list[float]) -> Upstream:
    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    return Upstream(
        "Service",
        metric="service",
        base_url="https://service.test",
        timeout=1.0,
        max_attempts=max_attempts,
        transport=httpx.MockTransport(lambda request: httpx.Response(204)),
        sleep=sleep,
        logger=LOGGER,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("inf", 7.0),
        ("-inf", 7.0),
        ("nan", 7.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (" 2 ", 2.0),
        ("20", 20.0),
        ("20.5", 20.0),
    ],
)
def test_retry_after_reads_only_finite_seconds_up_to_the_maximum(
    value: str, expected: float
) -> None:
    response = httpx.Response(429, headers={"Retry-After": value})
    assert retry_after(response, default=7.0, maximum=20.0) == expected


def test_max_attempts_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts must be at least 1"):
        _upstream(0, [])


def test_only_transport_errors_become_retries() -> None:
    timeout = httpx.ReadTimeout("slow")
    with pytest.raises(Retry) as caught, retrying_transport_errors(_unavailable):
        raise timeout
    assert caught.value.outcome == "ReadTimeout"
    assert caught.value.failure.message == "unavailable: it did not answer in time"
    assert caught.value.delay is None
    assert caught.value.__cause__ is timeout

    with pytest.raises(httpx.DecodingError), retrying_transport_errors(_unavailable):
        raise httpx.DecodingError("bad gzip")


async def test_retry_loop_logs_each_attempt_and_raises_the_last_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    delays: list[float] = []
    caplog.set_level(logging.WARNING, logger=LOGGER.name)
    failures = [
        Retry("HTTP 503", ExternalServiceError("first", retryable=True), None),
        Retry("HTTP 429", ExternalServiceError("second", retryable=True), 3.0),
        Retry("ConnectError", ExternalServiceError("last", retryable=True), None),
    ]

    async def once() -> None:
        raise failures.pop(0)

    upstream = _upstream(4, delays)
    try:
        with pytest.raises(ExternalServiceError, match="last"):
            await upstream.retrying("GET", "/things", once, attempts=3)
    finally:
        await upstream.aclose()

    assert delays == [0.5, 3.0]
    assert [record.getMessage() for record in caplog.records] == [
        "Service GET /things: HTTP 503 on attempt 1 of 3; retrying in 0.5s",
        "Service GET /things: HTTP 429 on attempt 2 of 3; retrying in 3.0s",
        "Service GET /things: ConnectError on attempt 3 of 3; giving up",
    ]
    assert all(record.name == LOGGER.name for record in caplog.records)
