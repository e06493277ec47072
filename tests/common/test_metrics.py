"""GET /metrics as Prometheus scrapes it: only with METRICS_TOKEN, labelled by route
templates (never a link's token), with Xero, Cloud POS, refresh, consent and Slack figures."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot import domain
from bot.app import create_app
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.domain.notify import LoggingNotifier
from bot.services import MeteredNotifier, xero_client
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import session_factory
from tests.conftest import ENCRYPTION_KEY, Clock, _no_sleep, cloudpos_client
from tests.domain_helpers import AGENT, registered, token_of
from tests.slack_fixtures import Slack
from tests.web_fixtures import (
    BOT,
    Organisations,
    local,
    return_from_xero,
    start_consent,
    web_settings,
)

TOKEN = "metrics-bearer-token-for-tests"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def metrics_app(deps: Dependencies | None = None, *, token: str = TOKEN) -> Starlette:
    return create_app(dataclasses.replace(web_settings(), metrics_token=token), deps=deps)


async def scrape() -> tuple[str, Samples]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=metrics_app()), base_url=BOT
    ) as client:
        answer = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
    return answer.text, samples


def grew(before: Samples, after: Samples, metric: str, /, **labels: str) -> float:
    key = (metric, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_are_off_without_a_token_and_need_the_bearer() -> None:
    for token, headers, status in [
        ("", {"Authorization": f"Bearer {TOKEN}"}, 404),
        (TOKEN, {}, 401),
        (TOKEN, {"Authorization": "Bearer wrong"}, 401),
        (TOKEN, {"Authorization": f"Bearer {TOKEN}"}, 200),
    ]:
        app = metrics_app(token=token)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BOT) as c:
            answer = await c.get("/metrics", headers=headers)
        assert answer.status_code == status, (token, headers)
        if status == 401:
            assert answer.headers["www-authenticate"] == 'Bearer realm="metrics"'
            assert "xero_bot" not in answer.text


async def test_a_consent_journey_is_counted_by_route_call_refresh_and_outcome(
    engine: AsyncEngine,
    clock: Clock,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    organisations: Organisations,
    xero_browser: httpx.AsyncClient,
) -> None:
    deps = Dependencies(
        sessions=session_factory(engine),
        vault=Vault([ENCRYPTION_KEY]),
        cloudpos=cloudpos_client(cloudpos),
        xero=xero_client(web_settings(), transport=emulator.transport(), sleep=_no_sleep),
        public_base_url=BOT,
        notifier=MeteredNotifier(LoggingNotifier()),
        clock=clock,
    )
    _, before = await scrape()
    customer = await registered(deps, cloudpos, stores=2)
    link = await domain.links.issue(
        deps, customer_id=customer.id, store_codes=["S001"], actor=AGENT
    )
    app = metrics_app(deps)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BOT) as browser:
        authorise = await start_consent(browser, local(link.url))
        back = await return_from_xero(browser, emulator, authorise, [organisations.standard])
        assert back.status_code == 303
        assert (await browser.get("/no/such/page")).status_code == 404
    clock.advance(days=31)
    report = await domain.grants.keep_alive(deps, unused_for=timedelta(days=30))
    assert report.refreshed == 1

    text, after = await scrape()
    assert token_of(link.url) not in text
    route = "xero_bot_http_requests_total"
    assert grew(before, after, route, route="/connect/{token}", method="GET", status="200") == 1
    assert grew(before, after, route, route="/connect/{token}", method="POST", status="303") == 1
    assert grew(before, after, route, route="/xero/callback", method="GET", status="303") == 1
    assert grew(before, after, route, route="other", method="GET", status="404") == 1
    calls = "xero_bot_upstream_requests_total"
    assert grew(before, after, calls, service="cloudpos", outcome="2xx") >= 2
    assert grew(before, after, calls, service="xero", outcome="2xx") >= 3
    refreshes = "xero_bot_xero_token_refreshes_total"
    assert grew(before, after, refreshes, outcome="ok") == 1
    events = "xero_bot_consent_events_total"
    assert grew(before, after, events, kind="authorised") == 1


async def test_slack_requests_are_counted_by_subcommand_and_unsigned_ones_apart(
    slack: Slack,
) -> None:
    _, before = await scrape()
    assert (await slack.command("stores Nobody")).status_code == 200
    await slack.answer()
    assert (await slack.command("frobnicate")).status_code == 200
    await slack.answer(count=2)
    unsigned = await slack.http.post(
        "/slack/events", data={"command": "/xero", "text": "invented-label"}
    )
    assert unsigned.status_code == 401
    text, after = await scrape()
    name = "xero_bot_slack_requests_total"
    assert grew(before, after, name, kind="command", name="/xero stores") == 1
    assert grew(before, after, name, kind="command", name="/xero other") == 1
    assert grew(before, after, name, kind="unverified", name="other") == 1
    assert "invented-label" not in text
    seconds = "xero_bot_slack_request_duration_seconds_count"
    assert grew(before, after, seconds, kind="command", name="/xero stores") == 1


async def test_api_requests_are_counted_by_the_mounted_route_template_never_the_store(
    web_deps: Dependencies,
) -> None:
    key = await domain.api_keys.create(web_deps, name="pos-sync", actor="test")
    _, before = await scrape()
    app = metrics_app(web_deps)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BOT,
        headers={"Authorization": f"Bearer {key}"},
    ) as api:
        assert (await api.get("/api/v1/stores/secret-group/S001")).status_code == 404
        assert (await api.post("/api/v1/stores/secret-group/S001/token")).status_code == 404
        assert (await api.get("/api/v1/no-such-route")).status_code == 404
    text, after = await scrape()
    route = "xero_bot_http_requests_total"
    one = "/api/v1/stores/{group}/{store_code}"
    assert grew(before, after, route, route=one, method="GET", status="404") == 1
    assert grew(before, after, route, route=f"{one}/token", method="POST", status="404") == 1
    assert grew(before, after, route, route="/api/v1", method="GET", status="404") == 1
    assert "secret-group" not in text
