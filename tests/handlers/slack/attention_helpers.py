"""What the attention tests start from: troubles put straight into the database (the
connection check that finds them is tested on its own), and how to read the blocks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot import domain
from bot.domain import Dependencies
from handlers.slack.blocks.common import when
from sandbox.cloudpos_emulator import CloudPosEmulator
from storage.engine import transaction
from storage.models import (
    ConnectionStatus,
    Customer,
    GrantStatus,
    JobRun,
    Store,
    StoreLink,
    StoreStatus,
    XeroConnection,
    XeroGrant,
)
from tests.conftest import Clock
from tests.domain_helpers import registered
from tests.slack_fixtures import AGENT, Slack

ACME = "Acme <script>alert(1)</script>"
ACME_LTD = "Acme Ltd <b>bold</b>"
ZETA = "Zeta & Sons"
ZETA_LTD = "Zeta <!channel> Ltd"


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text of the blocks, as Slack would render it (mrkdwn or plain)."""
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            if "text" in element:
                found.append(element["text"])
    return found


def shown(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(texts(blocks))


def within_block_kit(blocks: list[dict[str, Any]], *, most: int) -> None:
    assert 0 < len(blocks) <= most
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert all(len(element["text"]) <= 2000 for element in block["elements"])


async def organisations(deps: Dependencies, named: dict[str, str]) -> dict[str, int]:
    """One Xero user's active connections to organisations {tenant id: name}: their ids."""
    async with transaction(deps.sessions) as session:
        grant = XeroGrant(
            xero_user_id="xero-user-1",
            access_token_encrypted="-",
            refresh_token_encrypted="-",
            access_token_expires_at=deps.clock() + timedelta(minutes=30),
            status=GrantStatus.ACTIVE,
        )
        session.add(grant)
        await session.flush()
        connections = {
            tenant: XeroConnection(
                grant_id=grant.id,
                xero_connection_id=f"connection-{tenant}",
                tenant_id=tenant,
                tenant_name=name,
                auth_event_id="auth-event-1",
                status=ConnectionStatus.ACTIVE,
            )
            for tenant, name in named.items()
        }
        session.add_all(connections.values())
        await session.flush()
        return {tenant: connection.id for tenant, connection in connections.items()}


async def store(
    deps: Dependencies,
    customer_id: int,
    code: str,
    *,
    connection_id: int | None = None,
    **columns: Any,
) -> None:
    """Set a store's columns; with `connection_id`, link it to that organisation first."""
    async with transaction(deps.sessions) as session:
        row = await session.scalar(
            select(Store).where(Store.customer_id == customer_id, Store.code == code)
        )
        assert row is not None
        if connection_id is not None:
            session.add(
                StoreLink(store_id=row.id, connection_id=connection_id, linked_by="customer")
            )
            row.status = StoreStatus.CONNECTED
        for name, value in columns.items():
            setattr(row, name, value)


async def job_ran(deps: Dependencies, job: str, *, outcome: str, error: str | None = None) -> None:
    now = deps.clock()
    async with transaction(deps.sessions) as session:
        session.add(
            JobRun(
                job=job,
                holder="host-1:42:abcd",
                started_at=now - timedelta(hours=1),
                finished_at=now - timedelta(minutes=58),
                outcome=outcome,
                counts={"grants_checked": 4},
                error=error,
            )
        )


async def troubles(slack: Slack, cloudpos: CloudPosEmulator, clock: Clock) -> Slack:
    """Three broken stores of two customers, one plan flagged, 4 of the starter tier's 5
    organisations connected, two links waiting (one expiring in 5 hours), one job run."""
    deps = slack.deps
    acme = await registered(deps, cloudpos, name=ACME, stores=3)
    zeta = await registered(deps, cloudpos, name=ZETA, stores=2)
    calm = await registered(deps, cloudpos, name="Calm", stores=1)
    ids = await organisations(
        deps, {"t-acme": ACME_LTD, "t-zeta": ZETA_LTD, "t-3": "Spare One", "t-4": "Spare Two"}
    )
    now = clock.now
    await store(
        deps,
        acme.id,
        "S001",
        connection_id=ids["t-acme"],
        name="<script>till</script>",
        status=StoreStatus.NEEDS_RECONNECT,
        status_changed_at=now - timedelta(hours=3),
    )
    await store(
        deps,
        acme.id,
        "S002",
        connection_id=ids["t-acme"],
        attention_reason=f"{ACME_LTD} was disconnected on Xero's side",
        attention_since=now - timedelta(days=1),
    )
    await store(
        deps,
        zeta.id,
        "S001",
        connection_id=ids["t-zeta"],
        attention_reason=f"{ZETA_LTD} is on a plan Xero lets no app post to: posting will fail.",
        attention_since=now - timedelta(days=2),
    )
    async with transaction(deps.sessions) as session:
        await session.execute(
            update(XeroConnection)
            .where(XeroConnection.tenant_id == "t-zeta")
            .values(
                plan_flagged_since=now - timedelta(days=2), plan_class="STARTER", edition="BUSINESS"
            )
        )
    await domain.links.issue(deps, customer_id=calm.id, store_codes=None, actor=f"slack:{AGENT}")
    clock.advance(days=1)
    await domain.links.issue(
        deps,
        customer_id=zeta.id,
        store_codes=["S002"],
        actor=f"slack:{AGENT}",
        lifetime=timedelta(hours=5),
    )
    await job_ran(deps, "connection_check", outcome="ok")
    return slack


def assert_the_troubles(blocks: list[dict[str, Any]], clock: Clock) -> None:
    text = shown(blocks)
    assert "3 stores need attention* (2 customers)" in text
    acme, zeta = (t for t in texts(blocks) if t.startswith(("*Acme", "*Zeta")))
    assert acme.startswith("*Acme &lt;script&gt;alert(1)&lt;/script&gt;* · 2 stores\n")
    assert (
        "• `S001` &lt;script&gt;till&lt;/script&gt; · Acme Ltd &lt;b&gt;bold&lt;/b&gt; — Xero no "
        "longer accepts the authorisation: the customer must connect again with a new link. · "
        f"since {when(clock.now - timedelta(days=1, hours=3))}"
    ) in acme
    assert (
        "• `S002` acme &lt;script&gt;alert(1)&lt;/script&gt; store 2 · Acme Ltd &lt;b&gt;bold"
        "&lt;/b&gt; — Acme Ltd &lt;b&gt;bold&lt;/b&gt; "
        f"was disconnected on Xero's side · since {when(clock.now - timedelta(days=2))}"
    ) in acme
    assert zeta.startswith(
        "*Zeta &amp; Sons* · 1 store\n• `S001` zeta &amp; sons store 1 · Zeta &lt;!channel&gt; Ltd"
    )

    assert "*:hourglass_flowing_sand: 2 links wait for the customer*, oldest first" in text
    assert f"• Link #1 · Calm · `S001` · issued by <@{AGENT}> 24 hours ago" in text
    assert f"• Link #2 · Zeta &amp; Sons · `S002` · issued by <@{AGENT}> under an hour ago" in text
    assert "*:alarm_clock: 1 link expires within a day*" in text
    assert (
        f"• Link #2 · Zeta &amp; Sons · `S002` · expires {when(clock.now + timedelta(hours=5))} "
        "(in 5 hours)"
    ) in text
    assert "*:no_entry: 1 organisation flagged for a Xero plan that cannot be integrated*" in text
    assert (
        "• *Zeta &lt;!channel&gt; Ltd* · plan STARTER BUSINESS · Zeta &amp; Sons · since "
        f"{when(clock.now - timedelta(days=3))}"
    ) in text
    assert "Xero connections: 4 of the 5 the app's starter tier allows." in text
    assert ":warning: The app has 4 of the 5 Xero organisations" in text
    assert "• `connection_check` started" in text
    assert ", ok" in text
    for raw in ("<script", "<b>", "<!channel>", "& "):
        assert raw not in json.dumps(blocks)


async def many_broken_stores(deps: Dependencies) -> None:
    """200 broken stores: 10 of "Aardvark", with long names, then one each of 190 customers."""
    long_reason = "Xero & Cloud POS disagree <about> this store; " * 6
    async with transaction(deps.sessions) as session:
        owners = [("Aardvark", 10), *((f"Customer {n:03d}", 1) for n in range(190))]
        for name, stores in owners:
            customer = Customer(
                name=name,
                name_key=name.casefold(),
                cloudpos_group=name.casefold(),
                licence="Pro Plus",
                api_key_encrypted="-",
            )
            session.add(customer)
            await session.flush()
            session.add_all(
                Store(
                    customer_id=customer.id,
                    code=f"S{n:03d}",
                    name=f"{name} store {n} " + "&" * 150,
                    status=StoreStatus.NEEDS_RECONNECT,
                    attention_reason=long_reason if name == "Aardvark" else None,
                )
                for n in range(stores)
            )


def the_rest(blocks: list[dict[str, Any]]) -> str:
    (rest,) = [t for t in texts(blocks) if t.startswith("…and ") and "customers" in t]
    return rest


def assert_many_within(blocks: list[dict[str, Any]], *, most: int) -> None:
    """The 200 broken stores of `many_broken_stores`, as many as fit, the rest counted."""
    within_block_kit(blocks, most=most)
    assert "*:red_circle: 200 stores need attention* (191 customers)" in shown(blocks)
    (aardvark,) = [t for t in texts(blocks) if t.startswith("*Aardvark*")]
    assert aardvark.startswith("*Aardvark* · 10 stores\n• `S000` Aardvark store 0 &amp;")
    listed = aardvark.count("\n• ")
    assert 0 < listed < 10
    assert aardvark.endswith(f"\n…and {10 - listed} more stores")
    singles = [t for t in texts(blocks) if t.startswith("*Customer ")]
    assert singles[0].startswith("*Customer 000* · 1 store\n• `S000`")
    assert the_rest(blocks) == (
        f"…and {190 - len(singles)} more customers with {190 - len(singles)} stores that "
        "need attention."
    )
    assert len(blocks) > most - 10  # as many customers as fit, not a handful
