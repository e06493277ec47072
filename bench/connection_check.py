"""How long does the connection check take for 1,000 and 10,000 grants, and does its memory
stay flat?

What runs: the Xero emulator served by uvicorn on a random loopback port in its own process,
seeded with `--grants` Xero users, each with one organisation connected (every fifth with
two: 1.2 connections per grant); 1% of the organisations are then disconnected on Xero's
side and 1% downgraded to Starter. For each size and backend (a SQLite file, and PostgreSQL
when `--postgres` answers) a fresh database is migrated and seeded directly (customers,
one store per organisation, grants holding the emulator's tokens, connections, links), then
`domain.health.check_connections` runs twice, each in a fresh process so its peak RSS is its
own (VmHWM, reset just before the check): first with every plan due (a connections call per
grant and an organisation call per connection), then again straight after (plans not due:
a connections call per grant).

Figures per run: wall time, grants per second, the Xero calls the emulator received (by
endpoint, retries included) and the check's own `calls_made`, the counts found, and the
checking process's RSS before the check and at its peak; then the peak's growth from the
smallest to the largest size.

Run: `.venv/bin/python bench/connection_check.py [--grants 1000 10000] [--no-postgres]
[--postgres URL]`. A benchmark, not a test: it always exits 0 and removes what it made.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
import uuid
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from servers import _serve
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from bot.common.vault import Vault
from bot.settings import generate_encryption_key
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory, transaction
from storage.migrate import upgrade
from storage.models import (
    ConnectionStatus,
    Customer,
    GrantStatus,
    Store,
    StoreLink,
    StoreStatus,
    XeroConnection,
    XeroGrant,
    utcnow,
)

CLIENT_ID, SECRET = "bench", "bench-secret"
REDIRECT = "http://bot.bench/xero/callback"
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
ENDPOINTS = ("token", "connections", "organisation")
BATCH = 2000

Seeded = list[tuple[str, str, str, list[tuple[str, str, str, str]]]]
"""(user id, access token, refresh token, [(connection id, tenant id, name, event)]) per grant."""


# --- the emulator's process ------------------------------------------------------------------


def run_emulator(conn: Connection, grants: int) -> None:
    """Seed the emulator in memory, send the grants' tokens, then serve it."""
    emulator = XeroEmulator(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        access_token_lifetime=timedelta(hours=6),
    )
    seeded: Seeded = []
    tenants = []
    for n in range(grants):
        user = f"bench-user-{n}"
        emulator.add_user(user_id=user, email=f"{user}@bench.test", name=f"User {n}")
        orgs = [
            emulator.add_organisation(f"Org {n}.{k}", users=[user])
            for k in range(2 if n % 5 == 4 else 1)
        ]
        tenants.extend(orgs)
        back = emulator.authorise(
            user_id=user,
            tenant_ids=[org.tenant_id for org in orgs],
            redirect_uri=REDIRECT,
            state="s",
        )
        code = parse_qs(urlsplit(back).query)["code"][0]
        tokens = emulator.token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            client_id=CLIENT_ID,
        )
        seeded.append(
            (
                user,
                str(tokens["access_token"]),
                str(tokens["refresh_token"]),
                [
                    (c.id, c.tenant_id, c.tenant_name, c.auth_event_id)
                    for c in emulator.connections_of(user)
                ],
            )
        )
    for index, org in enumerate(tenants):
        if index % 100 == 7:
            emulator.disconnect_organisation(org.tenant_id)
        elif index % 100 == 57:
            org.plan_class = "STARTER"

    async def calls(_request: Request) -> Response:
        return JSONResponse(
            {endpoint: emulator.call_count(endpoint) for endpoint in ENDPOINTS}
            | {"cpu": time.process_time()}
        )

    app = Starlette(routes=[Route("/bench/calls", calls), Mount("/", emulator.app)])
    asyncio.run(_serve(app, conn, lambda url: {"url": url, "seeded": seeded}))


# --- the database ------------------------------------------------------------------------------


async def seed_database(database_url: str, key: str, seeded: Seeded) -> None:
    """Migrate and insert the rows a consent per grant would have left, in bulk."""
    engine = create_engine(database_url)
    vault = Vault([key])
    now = utcnow()
    try:
        await upgrade(engine)
        customers, stores, grants, connections, links = [], [], [], [], []
        connection_id = 0
        for n, (user, access, refresh, tenants) in enumerate(seeded, start=1):
            customers.append(
                {"id": n, "name": f"Customer {n}", "name_key": f"customer {n}",
                 "cloudpos_group": f"group-{n}", "licence": "ProPlus",
                 "api_key_encrypted": vault.encrypt(f"key-{n}")}
            )  # fmt: skip
            grants.append(
                {"id": n, "xero_user_id": user, "user_email": f"{user}@bench.test",
                 "access_token_encrypted": vault.encrypt(access),
                 "refresh_token_encrypted": vault.encrypt(refresh),
                 "access_token_expires_at": now + timedelta(hours=5),
                 "scopes": "offline_access accounting.settings.read",
                 "status": GrantStatus.ACTIVE, "refreshed_at": now}
            )  # fmt: skip
            for k, (xero_id, tenant_id, name, event) in enumerate(tenants, start=1):
                connection_id += 1
                connections.append(
                    {"id": connection_id, "grant_id": n, "xero_connection_id": xero_id,
                     "tenant_id": tenant_id, "tenant_name": name, "plan_class": "STANDARD",
                     "edition": "BUSINESS", "auth_event_id": event,
                     "status": ConnectionStatus.ACTIVE}
                )  # fmt: skip
                stores.append(
                    {"id": connection_id, "customer_id": n, "code": f"S{k:03}",
                     "name": f"Store {n}.{k}", "status": StoreStatus.CONNECTED}
                )  # fmt: skip
                links.append(
                    {"store_id": connection_id, "connection_id": connection_id,
                     "linked_by": "bench", "active": True}
                )  # fmt: skip
        async with transaction(session_factory(engine)) as session:
            for model, rows in (
                (Customer, customers), (XeroGrant, grants), (XeroConnection, connections),
                (Store, stores), (StoreLink, links),
            ):  # fmt: skip
                for start in range(0, len(rows), BATCH):
                    await session.execute(insert(model), rows[start : start + BATCH])
    finally:
        await engine.dispose()


async def new_postgres_database(admin_url: str) -> str | None:
    """A fresh PostgreSQL database's URL, or None when PostgreSQL does not answer."""
    import asyncpg

    url = make_url(admin_url)
    name = f"xerobot_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, database=url.database,
            password=url.password, timeout=5,
        )  # fmt: skip
    except (OSError, asyncpg.PostgresError) as error:
        print(f"PostgreSQL skipped: {error}")
        return None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(admin_url: str, database_url: str) -> None:
    import asyncpg

    url = make_url(admin_url)
    admin = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database,
        password=url.password, timeout=5,
    )  # fmt: skip
    try:
        await admin.execute(
            f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'
        )
    finally:
        await admin.close()


# --- the checking process ----------------------------------------------------------------------


def status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM its peak),
    in KiB. Not `ru_maxrss`: that survives the exec of a spawned process, so it would show
    the parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux 4.0+)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def run_check(conn: Connection, database_url: str, key: str, xero_url: str) -> None:
    """One `check_connections` in this fresh process: its figures down `conn`."""
    conn.send(asyncio.run(_check(database_url, key, xero_url)))


async def _check(database_url: str, key: str, xero_url: str) -> dict[str, Any]:
    from bot import domain
    from bot.clients.cloudpos import CloudPosClient
    from bot.clients.xero import XeroClient
    from bot.domain import Dependencies

    engine = create_engine(database_url)
    xero = XeroClient(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        redirect_uri=REDIRECT,
        scopes=("offline_access", "accounting.settings.read"),
        authorize_url=f"{xero_url}/identity/connect/authorize",
        token_url=f"{xero_url}/identity/connect/token",
        revoke_url=f"{xero_url}/identity/connect/revocation",
        api_url=f"{xero_url}/api",
    )
    deps = Dependencies(
        sessions=session_factory(engine),
        vault=Vault([key]),
        cloudpos=CloudPosClient(base_url="http://127.0.0.1:9"),
        xero=xero,
        public_base_url="http://bot.bench",
    )
    async with httpx.AsyncClient(base_url=xero_url) as bench:
        before = (await bench.get("/bench/calls")).json()
        rss_before = status_kib("VmRSS")
        reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        result = await domain.health.check_connections(deps)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        after = (await bench.get("/bench/calls")).json()
    await xero.aclose()
    await engine.dispose()
    return {
        "wall": wall,
        "cpu": cpu,
        "xero_cpu": after["cpu"] - before["cpu"],
        "calls": {endpoint: after[endpoint] - before[endpoint] for endpoint in ENDPOINTS},
        "result": result,
        "rss_before": rss_before,
        "rss_peak": status_kib("VmHWM"),
    }


def in_process(target: Any, *args: Any) -> Any:
    """Run `target(conn, *args)` in a fresh spawned process; what it sends back."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args))
    process.start()
    try:
        return parent.recv()
    finally:
        process.join(timeout=30)


# --- the run -----------------------------------------------------------------------------------


async def databases(
    size: int, key: str, seeded: Seeded, folder: Path, postgres: str | None
) -> list[tuple[str, str]]:
    """(backend, URL) of fresh databases seeded with the first `size` grants."""
    made = [("sqlite", f"sqlite+aiosqlite:///{folder / f'check-{size}.sqlite3'}")]
    if postgres and (url := await new_postgres_database(postgres)):
        made.append(("postgresql", url))
    for _backend, url in made:
        await seed_database(url, key, seeded[:size])
    return made


def report(backend: str, size: int, run: str, figures: dict[str, Any]) -> None:
    result, calls = figures["result"], figures["calls"]
    print(
        f"{backend:<10} {size:>6} {run:<11} {figures['wall']:7.2f} s "
        f"{size / figures['wall']:7.0f}/s  cpu {figures['cpu']:6.2f} s  "
        f"xero cpu {figures['xero_cpu']:6.2f} s  "
        f"calls conn {calls['connections']:>6} org {calls['organisation']:>6} "
        f"token {calls['token']:>3} (made {result.calls_made:>6})  "
        f"checked {result.grants_checked:>6} gone {result.connections_gone:>4} "
        f"flagged {result.plans_flagged:>4} unreachable {result.grants_unreachable:>3}  "
        f"RSS {figures['rss_before'] / 1024:6.1f} → peak {figures['rss_peak'] / 1024:6.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--grants", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", POSTGRES))
    parser.add_argument("--no-postgres", action="store_true")
    arguments = parser.parse_args()
    sizes = sorted(arguments.grants)
    postgres = None if arguments.no_postgres else arguments.postgres

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    emulator = context.Process(target=run_emulator, args=(child, sizes[-1]), daemon=True)
    seeding = time.perf_counter()
    emulator.start()
    ready = parent.recv()
    xero_url, seeded = ready["url"], ready["seeded"]
    print(f"Xero emulator at {xero_url}: {len(seeded)} grants, "
          f"{sum(len(t) for *_, t in seeded)} connections, seeded in "
          f"{time.perf_counter() - seeding:.1f} s")  # fmt: skip
    key = generate_encryption_key()
    peaks: dict[tuple[str, str], list[tuple[int, int]]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for size in sizes:
                made = asyncio.run(databases(size, key, seeded, Path(folder), postgres))
                for backend, url in made:
                    try:
                        for run in ("plans due", "plans done"):
                            figures = in_process(run_check, url, key, xero_url)
                            report(backend, size, run, figures)
                            peaks.setdefault((backend, run), []).append((size, figures["rss_peak"]))
                    finally:
                        if backend == "postgresql" and postgres:
                            asyncio.run(drop_postgres_database(postgres, url))
    finally:
        emulator.terminate()
        emulator.join(timeout=10)
    print()
    for (backend, run), points in peaks.items():
        (small, low), (large, high) = points[0], points[-1]
        if large != small:
            print(
                f"peak RSS growth {backend:<10} {run:<11} {small} → {large} grants: "
                f"{low / 1024:.1f} → {high / 1024:.1f} MiB ({(high - low) / 1024:+.1f} MiB)"
            )


if __name__ == "__main__":
    main()
