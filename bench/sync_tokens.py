"""The sync service's token endpoint under load: two `xero-bot serve` replicas on PostgreSQL.

What runs: a new PostgreSQL database (dropped at the end), migrated, with `--customers`
customers of `--stores` stores each; every customer connected its stores through the Xero
emulator's real consent flow (in-process, before anything is served), each as a Xero user of
its own, so there is one grant per customer. Then `--expired` of the grants (spread evenly)
have their access token made expired. The emulator is served over HTTP by uvicorn in a thread
of this process; `--servers` `xero-bot serve` processes (SCHEDULED_JOBS=off) run on the
database with Xero pointed at it, their output in a temporary folder.

The load: `--concurrency` clients (aiohttp, keep-alive) send `POST
/api/v1/stores/{group}/{code}/token` with one API key until `--requests` are done: request n
asks for store n mod stores (so the expired grants are asked for from the start, by several
clients at once), at replica (n + n div stores) mod servers, so each store is asked of every
replica. `--warmup` unmeasured requests go first, to stores whose token is still valid.

The figures: requests per second, p50/p99 latency (send to end of body), errors (anything
but a 200 with a token, or a failed connection), answers with another store's organisation,
grants for which callers got more than one access token, each replica's CPU (100% is one core)
and the ERROR lines it logged, and the refreshes Xero got (its token endpoint, refresh grants)
against the grants that had expired: they must be equal (OK/MISMATCH), since the grant's lease
lets one caller of one replica refresh a token set while every other waits for its result.

Run (from the repository root, PostgreSQL at 127.0.0.1:5432 as user postgres, or
`--postgres URL` / TEST_POSTGRES_URL):

    python bench/sync_tokens.py [--requests 5000] [--concurrency 16] [--customers 20]
        [--stores 5] [--expired 8] [--servers 2] [--warmup 200]

A benchmark, not a test: it always exits 0, and it removes the database and files it made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

import aiohttp
import httpx
import uvicorn
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot import domain
from bot.clients.cloudpos import CloudPosClient
from bot.clients.xero import XeroClient
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.settings import generate_encryption_key
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory, transaction
from storage.migrate import upgrade
from storage.models import (
    Customer,
    Store,
    StoreLink,
    StoreStatus,
    XeroConnection,
    XeroGrant,
    utcnow,
)

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
CLIENT_ID = "bench"
SECRET = "bench-secret"  # noqa: S105 - the emulator's own fake client secret
BOT = "http://bot.bench"
XERO = "http://xero.bench"  # in-process, while seeding
NOWHERE = "http://127.0.0.1:9"  # Slack and Cloud POS: never called here
BROWSER = "bench-browser"
START_SECONDS = 60


@dataclass(frozen=True)
class Target:
    group: str
    code: str
    grant: int
    tenant_id: str


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    wrong_tenant: int = 0
    tokens: defaultdict[int, set[str]] = field(default_factory=lambda: defaultdict(set))

    def error(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what[:200]


# --- the database ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def new_database(admin_url: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database next to `admin_url`'s, dropped on leaving."""
    name = f"xerobot_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def no_sleep(_seconds: float) -> None:
    return None


@contextlib.asynccontextmanager
async def seeding_deps(
    engine: AsyncEngine, key: str, emulator: XeroEmulator
) -> AsyncIterator[Dependencies]:
    """The domain on `engine`, its Xero the emulator in-process (for the consents)."""
    xero = XeroClient(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        redirect_uri=f"{BOT}/xero/callback",
        scopes=("offline_access", "accounting.settings.read"),
        authorize_url=f"{XERO}/identity/connect/authorize",
        token_url=f"{XERO}/identity/connect/token",
        revoke_url=f"{XERO}/identity/connect/revocation",
        api_url=f"{XERO}/api",
        transport=emulator.transport(),
        sleep=no_sleep,
    )
    cloudpos = CloudPosClient(base_url=NOWHERE, sleep=no_sleep)
    try:
        yield Dependencies(
            sessions=session_factory(engine),
            vault=Vault([key]),
            cloudpos=cloudpos,
            xero=xero,
            public_base_url=BOT,
        )
    finally:
        await xero.aclose()
        await cloudpos.aclose()


async def connect(deps: Dependencies, emulator: XeroEmulator, customer_id: int, n: int) -> None:
    """Customer `n` consents at Xero as a user of its own, for an organisation of its own,
    and links every store to it."""
    user = f"bench-user-{n:02}"
    emulator.add_user(user_id=user, email=f"{user}@bench.test", name=f"Bench {n}")
    organisation = emulator.add_organisation(
        f"Bench Org {n:02}", plan_class="STANDARD", users=[user]
    )
    link = await domain.links.issue(deps, customer_id=customer_id, store_codes=None, actor="b")
    token = link.url.rsplit("/", 1)[-1]
    url = await domain.consent.start(deps, token=token, browser_id=BROWSER)
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    pkce: dict[str, Any] = {
        key: query[key] for key in ("code_challenge", "code_challenge_method") if key in query
    }
    back = emulator.authorise(
        user_id=user,
        tenant_ids=[organisation.tenant_id],
        redirect_uri=query["redirect_uri"],
        state=query["state"],
        scope=query.get("scope", ""),
        **pkce,
    )
    code = parse_qs(urlsplit(back).query)["code"][0]
    attempt = await domain.consent.verify_callback(deps, state=query["state"], browser_id=BROWSER)
    view = await domain.consent.complete(deps, attempt=attempt, code=code)
    option = view.organisations[0].connection_id
    await domain.choice.confirm(
        deps, token=token, choices={store.code: option for store in view.stores}, actor="customer"
    )


async def seed(
    deps: Dependencies, emulator: XeroEmulator, *, customers: int, stores: int, expired: int
) -> tuple[list[Target], set[int], str]:
    """The stores to ask for, the grants whose access token is now expired, and an API key."""
    async with transaction(deps.sessions) as session:
        rows = [
            Customer(
                name=f"Bench {n:02}", name_key=f"bench {n:02}", cloudpos_group=f"bench-{n:02}",
                licence="ProPlus", api_key_encrypted=deps.vault.encrypt(f"key-{n}"),
                stores=[
                    Store(code=f"S{s:03}", name=f"Bench {n:02} {s}",
                          status=StoreStatus.NOT_CONNECTED)
                    for s in range(1, stores + 1)
                ],
            )
            for n in range(customers)
        ]  # fmt: skip
        session.add_all(rows)
        await session.flush()
        ids = [row.id for row in rows]
    for n, customer_id in enumerate(ids):
        await connect(deps, emulator, customer_id, n)
    async with transaction(deps.sessions) as session:
        found = await session.execute(
            select(Customer.cloudpos_group, Store.code, XeroGrant.id, XeroConnection.tenant_id)
            .join(Store, Store.customer_id == Customer.id)
            .join(StoreLink, (StoreLink.store_id == Store.id) & StoreLink.active.is_(True))
            .join(XeroConnection, XeroConnection.id == StoreLink.connection_id)
            .join(XeroGrant, XeroGrant.id == XeroConnection.grant_id)
            .order_by(Customer.id, Store.code)
        )
        targets = [Target(*row) for row in found]
        grants = list(await session.scalars(select(XeroGrant).order_by(XeroGrant.id)))
        chosen = {grants[k * len(grants) // expired].id for k in range(expired)}
        for grant in grants:
            if grant.id in chosen:
                grant.access_token_expires_at = utcnow() - timedelta(minutes=1)
    key = await domain.api_keys.create(deps, name="bench", actor="bench")
    return targets, chosen, key


# --- the servers -----------------------------------------------------------------------------


@contextlib.contextmanager
def emulator_over_http(emulator: XeroEmulator) -> Iterator[str]:
    """The emulator served by uvicorn on a random loopback port, in a thread of its own."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(emulator.app, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="xero", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Xero emulator did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    output: TextIO


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(folder: Path, env: dict[str, str], count: int) -> Iterator[list[Server]]:
    """`count` `xero-bot serve` processes, each answering /healthz; SIGTERM on leaving."""
    servers: list[Server] = []
    try:
        for n in range(count):
            port = free_port()
            log = folder / f"serve-{n}.log"
            output = log.open("w")
            process = subprocess.Popen(  # noqa: S603 - our own command line
                [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
                env=env, cwd=folder, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
            servers.append(Server(f"http://127.0.0.1:{port}", process, log, output))
        deadline = time.monotonic() + START_SECONDS
        for server in servers:
            while True:
                if server.process.poll() is not None:
                    raise RuntimeError(f"serve stopped: {server.log.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError("serve never answered /healthz")
                try:
                    if httpx.get(f"{server.url}/healthz", timeout=0.5).text == "ok":
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield servers
    finally:
        for server in servers:
            server.process.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
            server.output.close()


async def sessions_opened(database_url: str) -> int:
    """How many connections PostgreSQL has counted to the database so far (`sessions` in
    pg_stat_database; backends report it within about a second)."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            )
    finally:
        await engine.dispose()
    return int(count or 0)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the load --------------------------------------------------------------------------------


async def load(
    plan: list[tuple[str, Target]], key: str, concurrency: int, results: Results | None
) -> float:
    """Send every request of `plan` from `concurrency` clients; the seconds it took."""
    headers = {"Authorization": f"Bearer {key}"}
    next_request = iter(plan)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency), headers=headers
    ) as session:

        async def client() -> None:
            for url, target in next_request:
                started = time.perf_counter()
                try:
                    async with session.post(url) as response:
                        body = await response.read()
                        status = response.status
                except aiohttp.ClientError as error:
                    if results is not None:
                        results.error(f"{type(error).__name__}: {error}")
                    continue
                if results is None:
                    continue
                results.latencies.append(time.perf_counter() - started)
                if status != 200:
                    results.error(f"{status}: {body.decode(errors='replace')}")
                    continue
                answer = _json(body)
                if not answer.get("access_token"):
                    results.error(f"200 without a token: {body[:100]!r}")
                    continue
                results.tokens[target.grant].add(answer["access_token"])
                if answer.get("tenant_id") != target.tenant_id:
                    results.wrong_tenant += 1

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return time.perf_counter() - began


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def plan_of(
    targets: list[Target], servers: list[Server], requests: int
) -> list[tuple[str, Target]]:
    plan = []
    for n in range(requests):
        target = targets[n % len(targets)]
        server = servers[(n + n // len(targets)) % len(servers)]
        path = f"/api/v1/stores/{target.group}/{target.code}/token"
        plan.append((server.url + path, target))
    return plan


def refreshes(emulator: XeroEmulator) -> list[str]:
    """The refresh tokens Xero was asked to refresh with: one per refresh."""
    return [
        form["refresh_token"]
        for form in list(emulator.token_requests)
        if form.get("grant_type") == "refresh_token"
    ]


# --- the run ---------------------------------------------------------------------------------


async def run(arguments: argparse.Namespace) -> None:
    emulator = XeroEmulator(client_id=CLIENT_ID, client_secret=SECRET)
    key = generate_encryption_key()
    async with new_database(arguments.postgres) as database_url:
        engine = create_engine(database_url)
        try:
            await upgrade(engine)
            seeded = time.perf_counter()
            async with seeding_deps(engine, key, emulator) as deps:
                targets, expired, api_key = await seed(
                    deps, emulator, customers=arguments.customers, stores=arguments.stores,
                    expired=arguments.expired,
                )  # fmt: skip
            print(
                f"seeded {len(targets)} stores over {arguments.customers} grants "
                f"({len(expired)} expired) in {time.perf_counter() - seeded:.1f} s"
            )
        finally:
            await engine.dispose()
        with tempfile.TemporaryDirectory() as folder, emulator_over_http(emulator) as xero:
            env = {
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "DATABASE_URL": database_url,
                "PUBLIC_BASE_URL": BOT,
                "TOKEN_ENCRYPTION_KEYS": key,
                "XERO_CLIENT_ID": CLIENT_ID,
                "XERO_CLIENT_SECRET": SECRET,
                "XERO_AUTHORIZE_URL": f"{xero}/identity/connect/authorize",
                "XERO_TOKEN_URL": f"{xero}/identity/connect/token",
                "XERO_REVOKE_URL": f"{xero}/identity/connect/revocation",
                "XERO_API_URL": f"{xero}/api",
                "CLOUDPOS_API_URL": NOWHERE,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": "bench-signing-secret",
                "SLACK_API_URL": f"{NOWHERE}/api/",
                "SCHEDULED_JOBS": "off",
            }
            with serving(Path(folder), env, arguments.servers) as servers:
                await measure(arguments, emulator, servers, database_url, targets, expired, api_key)


async def measure(
    arguments: argparse.Namespace,
    emulator: XeroEmulator,
    servers: list[Server],
    database_url: str,
    targets: list[Target],
    expired: set[int],
    api_key: str,
) -> None:
    valid = [target for target in targets if target.grant not in expired]
    if arguments.warmup and valid:
        await load(plan_of(valid, servers, arguments.warmup), api_key, arguments.concurrency, None)
    warm_refreshes = len(refreshes(emulator))
    results = Results()
    plan = plan_of(targets, servers, arguments.requests)
    await asyncio.sleep(1.5)
    sessions = await sessions_opened(database_url)
    cpu = [cpu_seconds(server.process.pid) for server in servers]
    client_cpu = time.process_time()
    took = await load(plan, api_key, arguments.concurrency, results)
    client_cpu = time.process_time() - client_cpu
    cpu = [cpu_seconds(s.process.pid) - before for s, before in zip(servers, cpu, strict=True)]
    made = refreshes(emulator)
    await asyncio.sleep(1.5)
    sessions = await sessions_opened(database_url) - sessions - 1  # less our own
    users = [emulator.refresh_token_info(token) for token in made]
    twice = len(made) - len({info.user_id for info in users if info is not None})

    latencies = sorted(results.latencies)
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    several = sum(len(tokens) > 1 for tokens in results.tokens.values())
    ok = len(made) == len(expired) and twice == 0 and warm_refreshes == 0
    print(
        f"{arguments.requests} token requests, {arguments.concurrency} clients, "
        f"{len(servers)} replicas, {len(targets)} stores over "
        f"{len({target.grant for target in targets})} grants"
    )
    print(f"req/s            {arguments.requests / took:8.0f}   ({took:.2f} s)")
    print(f"p50 / p99 ms     {p50:8.1f} / {p99:.1f}")
    print(f"errors           {results.errors:8d}   {results.first_error}")
    print(f"wrong tenant     {results.wrong_tenant:8d}")
    print(f"grants with more than one access token answered: {several}")
    print(
        "server CPU       "
        + ", ".join(f"{seconds / took:.0%}" for seconds in cpu)
        + f"   client CPU {client_cpu / took:.0%}"
    )
    print(f"PostgreSQL connections opened during the run: {sessions}")
    for n, server in enumerate(servers):
        logged = server.log.read_text(errors="replace")
        errors = [line for line in logged.splitlines() if " ERROR " in line or "Traceback" in line]
        first = f": {errors[0][:160]}" if errors else ""
        print(f"replica {n} logged {len(errors)} errors{first}")
    print(
        f"refreshes at Xero {len(made)} (in the warm-up {warm_refreshes}, the same grant twice "
        f"{twice}); grants expired {len(expired)}: {'OK' if ok else 'MISMATCH'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--customers", type=int, default=20, help="one grant each")
    parser.add_argument("--stores", type=int, default=5, help="per customer")
    parser.add_argument("--expired", type=int, default=8, help="grants made expired")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--postgres", default=POSTGRES_URL, help="an existing database's URL")
    arguments = parser.parse_args()
    arguments.expired = max(0, min(arguments.expired, arguments.customers))
    try:
        asyncio.run(run(arguments))
    except KeyboardInterrupt:
        print("interrupted")
    except Exception:  # a benchmark reports, it does not fail
        traceback.print_exc()
        print("the benchmark did not complete")


if __name__ == "__main__":
    main()
