"""The API's keys as the sync service meets them, and the stores it reads: every store once
across pages, filtered by status, one by its group and code, with the set-up only of the
organisation the store is linked to."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

from bot import domain
from bot.domain import Dependencies
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.xero_emulator import XeroEmulator
from storage.engine import transaction
from storage.models import Store, StoreSetup
from tests.conftest import Clock
from tests.domain.posting_helpers import audited, connected, ready_store, set_up
from tests.domain_helpers import AGENT, connected_organisation, registered
from tests.handlers.api.api_helpers import grants, ok, problem
from tests.web_fixtures import BOT

pytestmark = pytest.mark.asyncio


def client(app: Starlette, authorization: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BOT, headers=headers)


def unauthorized(response: httpx.Response) -> None:
    body = problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="xero-bot"'
    assert "Bearer" in body["detail"]


# --- keys -----------------------------------------------------------------------------------


async def test_a_key_works_until_revoked(
    api: httpx.AsyncClient, api_app: Starlette, api_key: str, web_deps: Dependencies
) -> None:
    assert ok(await api.get("/api/v1/stores")) == {"stores": [], "next_cursor": None}
    [view] = await domain.api_keys.listing(web_deps)
    assert view.first_used_at is not None

    await domain.api_keys.revoke(web_deps, name="pos-sync", actor="test")

    unauthorized(await api.get("/api/v1/stores"))
    unauthorized(await api.get("/api/v1/events"))
    async with client(api_app, f"Bearer {api_key}") as again:
        unauthorized(await again.post("/api/v1/stores/acme/S001/token"))


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="no-key"),
        pytest.param("Bearer    ", id="blank-key"),
        pytest.param("Basic cG9zOnN5bmM=", id="basic"),
        pytest.param("Token {key}", id="wrong-scheme"),
        pytest.param("{key}", id="no-scheme"),
        pytest.param("Bearer not-a-key", id="malformed"),
        pytest.param("Bearer xbk_aaaaaaaaaaaa_{secret}", id="unknown-id"),
        pytest.param("Bearer {key_id_part}_{wrong}", id="wrong-secret"),
        pytest.param("Bearer {key}x", id="too-long"),
    ],
)
async def test_no_valid_key_is_401_saying_how_to_authenticate(
    api_app: Starlette, api_key: str, web_deps: Dependencies, authorization: str | None
) -> None:
    secret = api_key.split("_", 2)[2]
    wrong = ("B" if secret[0] != "B" else "C") + secret[1:]
    if authorization is not None:
        authorization = authorization.format(
            key=api_key,
            secret=secret,
            key_id_part="_".join(api_key.split("_")[:2]),
            wrong=wrong,
        )
    async with client(api_app, authorization) as caller:
        unauthorized(await caller.get("/api/v1/stores"))
        unauthorized(await caller.get("/api/v1/stores/acme/S001"))
        unauthorized(await caller.post("/api/v1/stores/acme/S001/problems", json={}))
    [view] = await domain.api_keys.listing(web_deps)
    assert (view.first_used_at, view.uses) == (None, 0)


async def test_the_scheme_is_not_case_sensitive_and_the_description_needs_no_key(
    api_app: Starlette, api_key: str
) -> None:
    async with client(api_app, f"bearer {api_key}") as caller:
        ok(await caller.get("/api/v1/stores"))
    async with client(api_app, None) as anyone:
        description = ok(await anyone.get("/api/v1/openapi.json"))
    assert "/api/v1/stores" in description["paths"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_twenty_first_requests_at_once_audit_one_first_use(
    api: httpx.AsyncClient, web_deps: Dependencies
) -> None:
    answers = await asyncio.gather(*(api.get("/api/v1/stores") for _ in range(20)))

    assert [answer.status_code for answer in answers] == [200] * 20
    assert await audited(web_deps, "api_key.first_used") == [{"key": "pos-sync"}]
    [view] = await domain.api_keys.listing(web_deps)
    assert view.first_used_at == web_deps.clock()


# --- stores ---------------------------------------------------------------------------------


async def many_stores(
    deps: Dependencies, cloudpos: CloudPosEmulator, emulator: XeroEmulator, clock: Clock
) -> None:
    """acme: S001 ready, S002 and S003 connected; beta (another Xero user): S001 and S002
    needing reconnection; gamma: S001 not connected."""
    acme = await connected(deps, cloudpos, emulator, stores=3)
    await set_up(deps, emulator, acme, "S001")
    await domain.posting.mark_ready(deps, customer_id=acme.customer_id, store_code="S001",
                                    actor=AGENT)  # fmt: skip
    await connected_organisation(
        deps, cloudpos, emulator, name="Beta", organisation="Beta Ltd", user="xero-user-2"
    )
    beta_grant = (await grants(deps))[-1]
    assert beta_grant.xero_user_id == "xero-user-2"
    emulator.revoke_user("xero-user-2")
    clock.advance(seconds=1)
    with pytest.raises(domain.errors.XeroGrantRevoked):
        await domain.grants.fresh_access_token(
            deps, grant_id=beta_grant.id, refreshed_before=deps.clock()
        )
    await registered(deps, cloudpos, name="Gamma", stores=1)


async def test_pages_list_every_store_once(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    await many_stores(web_deps, cloudpos, emulator, clock)
    everything = ok(await api.get("/api/v1/stores"))
    assert everything["next_cursor"] is None
    names = [(s["group"], s["store_code"]) for s in everything["stores"]]
    assert len(names) == 6

    for limit in (1, 2, 4, 5, 6):
        seen: list[tuple[str, str]] = []
        cursor: str | None = None
        pages = 0
        while True:
            params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
            page = ok(await api.get("/api/v1/stores", params=params))
            assert 1 <= len(page["stores"]) <= limit
            seen += [(s["group"], s["store_code"]) for s in page["stores"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == names, limit
        assert pages == -(-6 // limit), limit


async def test_stores_are_filtered_by_status(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
    clock: Clock,
) -> None:
    await many_stores(web_deps, cloudpos, emulator, clock)

    async def codes(status: str, **extra: str) -> list[tuple[str, str, str]]:
        page = ok(await api.get("/api/v1/stores", params={"status": status, **extra}))
        return [(s["group"], s["store_code"], s["status"]) for s in page["stores"]]

    assert await codes("ready") == [("acme", "S001", "ready")]
    assert await codes("connected") == [
        ("acme", "S002", "connected"),
        ("acme", "S003", "connected"),
    ]
    assert await codes("needs_reconnect") == [
        ("beta", "S001", "needs_reconnect"),
        ("beta", "S002", "needs_reconnect"),
    ]
    assert await codes("not_connected") == [("gamma", "S001", "not_connected")]
    assert await codes("disconnected") == []
    first = ok(await api.get("/api/v1/stores", params={"status": "connected", "limit": "1"}))
    assert [s["store_code"] for s in first["stores"]] == ["S002"]
    rest = await codes("connected", cursor=first["next_cursor"])
    assert rest == [("acme", "S003", "connected")]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "broken"}, "status"),
        ({"status": ""}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"cursor": "czEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MA"}, "cursor"),
        ({"cursor": "x" * 41}, "cursor"),
        ({"cursor": "cw"}, "cursor"),
        ({"cursor": "czk5OTk5OTk5OTk5"}, "cursor"),  # s99999999999: beyond 32-bit store ids
        ({"cursor": "\u00e9t\u00e9"}, "cursor"),
    ],
)
async def test_a_bad_query_is_400_naming_the_field(
    api: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    body = problem(await api.get("/api/v1/stores", params=params), 400)
    assert body["field"] == field
    assert body["type"] == "urn:xero-bot:problem:invalid-request"


async def test_one_store_by_group_and_code_with_its_set_up(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    store = await ready_store(web_deps, cloudpos, emulator)
    choices = await set_up(web_deps, emulator, store, "S001")

    body = ok(await api.get("/api/v1/stores/acme/S001"))

    assert body["group"] == "acme"
    assert body["store_code"] == "S001"
    assert body["customer_name"] == "Acme"
    assert body["status"] == "ready"
    assert body["tenant_id"] == store.organisation.tenant_id
    assert body["organisation_name"] == "Acme Ltd"
    assert body["ready_at"].endswith("Z")
    setup = body["setup"]
    assert setup["sales_account_id"] == choices.sales_account_id
    assert setup["tax_type"] == "OUTPUT2"
    assert setup["rounding_account_id"] == choices.rounding_account_id
    assert setup["contact"]["id"] == choices.contact_id
    assert setup["invoice_status"] == "DRAFT"
    assert {p["tender_id"]: p["account_id"] for p in setup["payments"]} == choices.payments
    other = ok(await api.get("/api/v1/stores/acme/S002"))
    assert (other["status"], other["setup"]) == ("connected", None)


async def test_an_unknown_store_is_404(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    await connected(web_deps, cloudpos, emulator)
    for path in (
        "/api/v1/stores/acme/S999",
        "/api/v1/stores/nobody/S001",
        "/api/v1/stores/ACME/S001",
        "/api/v1/stores/acme/S001%0A",
        "/api/v1/stores/acme/" + "S" * 101,
    ):
        body = problem(await api.get(path), 404)
        assert "store" in body["detail"] or "route" in body["detail"], path
    problem(await api.get("/api/v1/nothing-here"), 404)
    problem(await api.delete("/api/v1/stores/acme/S001"), 405)


async def test_the_set_up_is_shown_only_for_the_organisation_the_store_is_linked_to(
    api: httpx.AsyncClient,
    web_deps: Dependencies,
    cloudpos: CloudPosEmulator,
    emulator: XeroEmulator,
) -> None:
    store = await connected(web_deps, cloudpos, emulator)
    await set_up(web_deps, emulator, store, "S001")
    await set_up(web_deps, emulator, store, "S002")
    assert ok(await api.get("/api/v1/stores/acme/S001"))["setup"] is not None

    # A set-up kept from another organisation (as after relinking) names accounts this one
    # does not have: not shown.
    async with transaction(web_deps.sessions) as session:
        await session.execute(
            update(StoreSetup)
            .where(
                StoreSetup.store_id
                == select(Store.id).where(Store.code == "S001").scalar_subquery()
            )
            .values(tenant_id="another-tenant")
        )
    first = ok(await api.get("/api/v1/stores/acme/S001"))
    assert first["tenant_id"] == store.organisation.tenant_id
    assert first["setup"] is None

    # Disconnected, the store keeps its set-up but has no organisation to post to.
    await domain.organisations.disconnect(
        web_deps, customer_id=store.customer_id, tenant_id=store.organisation.tenant_id,
        actor=AGENT,
    )  # fmt: skip
    second = ok(await api.get("/api/v1/stores/acme/S002"))
    assert (second["status"], second["tenant_id"], second["setup"]) == ("disconnected", None, None)
    async with transaction(web_deps.sessions, read_only=True) as session:
        assert len(list(await session.scalars(select(StoreSetup)))) == 2
