"""Problems the sync service reports: audited, the store's connection checked at once (and
the helpdesk alerted when it is broken), not checked again within the minute."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest

from bot.domain import Dependencies
from bot.domain.notify import ConsentEvent, Reminder, StoresAlert
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from sandbox.xero_emulator.faults import Endpoint
from storage.models import StoreStatus
from tests.conftest import Clock
from tests.domain.posting_helpers import audited, connected, ready_store
from tests.domain_helpers import registered
from tests.handlers.api.api_helpers import ok, problem, store_status

pytestmark = pytest.mark.asyncio

PATH = "/api/v1/stores/acme/S001/problems"
XERO_CALLS: tuple[Endpoint, ...] = (
    "token",
    "connections",
    "organisation",
    "accounts",
    "tax_rates",
    "contacts",
)


class Recording:
    """A notifier that keeps the alerts it was given."""

    def __init__(self) -> None:
        self.alerts: list[StoresAlert] = []

    async def consent_changed(self, event: ConsentEvent) -> str | None:
        return None

    async def stores_alert(self, alert: StoresAlert) -> str | None:
        self.alerts.append(alert)
        return f"C0ALERTS/{len(self.alerts)}"

    async def link_reminder(self, reminder: Reminder) -> None:
        return None


@pytest.fixture
def web_deps(web_deps: Dependencies) -> Dependencies:
    return replace(web_deps, notifier=Recording())


def alerts(deps: Dependencies) -> list[StoresAlert]:
    assert isinstance(deps.notifier, Recording)
    return deps.notifier.alerts


def xero_calls(emulator: XeroEmulator) -> dict[str, int]:
    return {endpoint: emulator.call_count(endpoint) for endpoint in XERO_CALLS}


async def test_a_problem_with_a_connection_gone_at_xero_alerts_the_helpdesk_at_once(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    store = await ready_store(web_deps, cloudpos, emulator)
    emulator.disconnect_organisation(store.organisation.tenant_id)
    before = xero_calls(emulator)

    response = await api.post(
        PATH, json={"kind": "forbidden", "detail": "Xero said 403 AuthorizationUnsuccessful"}
    )

    assert ok(response) == {"check": "checked", "status": "needs_reconnect", "broken": True}
    assert emulator.call_count("connections") == before["connections"] + 1
    assert await store_status(web_deps, "S001") == StoreStatus.NEEDS_RECONNECT
    [reported] = await audited(web_deps, "sync.problem")
    assert reported == {
        "store": "S001",
        "kind": "forbidden",
        "problem": "Xero said 403 AuthorizationUnsuccessful",
    }
    [alert] = alerts(web_deps)
    assert alert.customer_id == store.customer_id
    assert alert.attention is not None
    assert not alert.resolved
    listed = ok(await api.get("/api/v1/stores/acme/S001"))
    assert (listed["status"], listed["ready_at"]) == ("needs_reconnect", None)

    # Reported again at once: nothing more is asked of Xero, no second alert.
    calls = xero_calls(emulator)
    again = ok(await api.post(PATH, json={"kind": "forbidden", "detail": "403 again"}))
    assert again["check"] in ("recently_checked", "not_connected")
    assert again["status"] == "needs_reconnect"
    assert xero_calls(emulator) == calls
    assert len(alerts(web_deps)) == 1
    assert len(await audited(web_deps, "sync.problem")) == 2


async def test_a_healthy_store_is_checked_once_a_minute_however_often_it_is_reported(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    before = emulator.call_count("connections")

    first = ok(await api.post(PATH, json={"kind": "other", "detail": "timeout posting"}))
    assert first == {"check": "checked", "status": "connected", "broken": False}
    assert emulator.call_count("connections") == before + 1

    calls = xero_calls(emulator)
    clock.advance(seconds=50)
    for _ in range(3):
        again = ok(await api.post(PATH, json={"kind": "unauthorized", "detail": "401"}))
        assert again == {"check": "recently_checked", "status": "connected", "broken": False}
    other_store = await api.post("/api/v1/stores/acme/S002/problems", json={"kind": "forbidden"})
    assert ok(other_store)["check"] == "recently_checked", "the same grant was just checked"
    assert xero_calls(emulator) == calls
    assert alerts(web_deps) == []
    assert len(await audited(web_deps, "sync.problem")) == 5

    clock.advance(seconds=15)
    tokens = emulator.call_count("token")
    later = ok(await api.post(PATH, json={"kind": "unauthorized", "detail": "401"}))
    assert later["check"] == "checked"
    assert emulator.call_count("token") == tokens + 1, "unauthorized: the token is renewed"
    assert emulator.call_count("connections") == calls["connections"] + 1


async def test_a_problem_whose_refresh_is_refused_marks_the_stores_for_reconnection(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    emulator.revoke_user("xero-user-1")
    clock.advance(seconds=1)

    body = ok(await api.post(PATH, json={"kind": "unauthorized", "detail": "401 from Xero"}))

    assert body == {"check": "checked", "status": "needs_reconnect", "broken": True}
    assert await store_status(web_deps, "S002") == StoreStatus.NEEDS_RECONNECT
    assert len(alerts(web_deps)) == 1

    # Known broken now: later reports are recorded, never checked again, never alerted again.
    calls = xero_calls(emulator)
    clock.advance(minutes=5)
    for kind in ("unauthorized", "forbidden"):
        again = ok(await api.post(PATH, json={"kind": kind, "detail": "401 again"}))
        assert again == {"check": "not_connected", "status": "needs_reconnect", "broken": False}
    assert xero_calls(emulator) == calls
    assert len(alerts(web_deps)) == 1


async def test_a_store_with_no_organisation_is_recorded_but_not_checked(
    api: httpx.AsyncClient, web_deps: Dependencies, cloudpos: CloudPosEmulator
) -> None:
    await registered(web_deps, cloudpos, name="Acme", stores=1)

    body = ok(await api.post(PATH, json={"kind": "other"}))

    assert body == {"check": "not_connected", "status": "not_connected", "broken": False}
    [reported] = await audited(web_deps, "sync.problem")
    assert reported["problem"] == ""


async def test_the_detail_is_stored_without_control_characters(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    ok(await api.post(PATH, json={"kind": "plan", "detail": "bad\x00 plan\x1b[31m é"}))
    [reported] = await audited(web_deps, "sync.problem")
    assert reported["problem"] == "bad plan[31m é"


async def test_a_token_quoted_in_the_detail_is_not_kept(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    api_key: str,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQ"
    detail = f"POST /Invoices 401 (Authorization: Bearer {jwt}; our key {api_key})"
    ok(await api.post(PATH, json={"kind": "unauthorized", "detail": detail}))
    [reported] = await audited(web_deps, "sync.problem")
    assert jwt not in reported["problem"]
    assert api_key not in reported["problem"]
    assert reported["problem"].startswith("POST /Invoices 401 (Authorization: Bearer ~")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "weird", "detail": "x"}, "kind"),
        ({"detail": "x"}, "kind"),
        ({"kind": 3}, "kind"),
        ({"kind": "other", "detail": "x" * 1001}, "detail"),
        ({"kind": "other", "detail": ["x"]}, "detail"),
        ([{"kind": "other"}], "body"),
    ],
)
async def test_a_bad_report_is_400_naming_the_field(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    body: object,
    field: str,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    calls = xero_calls(emulator)

    answer = problem(await api.post(PATH, json=body), 400)

    assert answer["field"] == field
    assert await audited(web_deps, "sync.problem") == []
    assert xero_calls(emulator) == calls


async def test_a_body_that_is_not_json_is_refused(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    await connected(web_deps, cloudpos, emulator)

    problem(await api.post(PATH, content=b"kind=other"), 415)
    problem(await api.post(PATH, data={"kind": "other"}), 415)
    not_json = await api.post(
        PATH, content=b"{kind: other", headers={"Content-Type": "application/json"}
    )
    assert problem(not_json, 400)["field"] == "body"
    problem(
        await api.post(PATH, content=b'{"kind":"other","detail":"' + b"x" * 17000 + b'"}',
                       headers={"Content-Type": "application/json"}),
        413,
    )  # fmt: skip
    assert await audited(web_deps, "sync.problem") == []


async def test_a_report_for_an_unknown_store_is_404(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    problem(await api.post("/api/v1/stores/acme/S404/problems", json={"kind": "other"}), 404)
    problem(await api.post("/api/v1/stores/other/S001/problems", json={"kind": "other"}), 404)
    assert await audited(web_deps, "sync.problem") == []


async def test_reports_racing_for_one_store_check_it_once(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    before = emulator.call_count("connections")

    answers = await asyncio.gather(
        *(api.post(PATH, json={"kind": "other", "detail": f"run {n}"}) for n in range(10))
    )

    checks = sorted(ok(answer)["check"] for answer in answers)
    assert checks == ["checked"] + ["recently_checked"] * 9
    assert all(ok(answer)["broken"] is False for answer in answers)
    assert len(await audited(web_deps, "sync.problem")) == 10
    assert emulator.call_count("connections") == before + 1


async def test_a_problem_while_xero_is_down_marks_nothing_broken_and_is_checked_once(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    await ready_store(web_deps, cloudpos, emulator)
    emulator.fail_next("connections", status=503, times=None)

    body = ok(await api.post(PATH, json={"kind": "forbidden", "detail": "403"}))

    assert body == {"check": "checked", "status": "ready", "broken": False}
    assert await store_status(web_deps, "S001") == StoreStatus.CONNECTED
    assert alerts(web_deps) == []
    assert len(await audited(web_deps, "sync.problem")) == 1

    # Still down: later reports within the minute do not each ask Xero again.
    calls = emulator.call_count("connections")
    for _ in range(3):
        again = ok(await api.post(PATH, json={"kind": "unauthorized", "detail": "401"}))
        assert again == {"check": "recently_checked", "status": "ready", "broken": False}
    assert emulator.call_count("connections") == calls
    assert len(await audited(web_deps, "sync.problem")) == 4
    clock.advance(seconds=61)
    later = ok(await api.post(PATH, json={"kind": "other", "detail": "timeout"}))
    assert later["check"] == "checked"
    assert emulator.call_count("connections") > calls
