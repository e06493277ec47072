"""Does a slow Xero refresh make other customers wait for the database?

Why: on SQLite every writing transaction takes the one database write lock (`BEGIN
IMMEDIATE`). A refresh of a Xero token that calls Xero inside its transaction holds that lock
for as long as Xero takes, and every other write (another customer's link, a confirmation)
queues behind it, failing with "database is locked" after the 30 s busy timeout.

What runs: a migrated SQLite file, the Xero emulator in memory with its token endpoint
answering after `--xero-seconds`, one customer connected through the emulator and another
customer with stores. The access token is brought near expiry, a refresh starts, and
`--delay` seconds later an agent issues a consent link for the other customer; the figure
is how long that issue took (it needs no Xero call at all).

Run: `.venv/bin/python bench/refresh_lock.py [--xero-seconds 4] [--delay 0.3]`.
To compare with an older checkout: `PYTHONPATH=/path/to/old/checkout python bench/...`.
A benchmark, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from bot import domain
from bot.clients.cloudpos import CloudPosClient
from bot.clients.xero import XeroClient
from bot.common.vault import Vault
from bot.domain import Dependencies
from bot.settings import generate_encryption_key
from sandbox.xero_emulator import XeroEmulator
from storage.engine import create_engine, session_factory, transaction
from storage.migrate import upgrade
from storage.models import Customer, Store, StoreStatus, XeroGrant, utcnow

BOT, XERO = "http://bot.bench", "http://xero.bench"
BROWSER = "bench-browser"
SECRET = "bench-secret"  # noqa: S105 - the emulator's own fake client secret


async def no_sleep(_seconds: float) -> None:
    return None


def add_customer(name: str, stores: int, vault: Vault) -> Customer:
    customer = Customer(
        name=name,
        name_key=name.casefold(),
        cloudpos_group=name.casefold(),
        licence="ProPlus",
        api_key_encrypted=vault.encrypt(f"key-{name}"),
    )
    customer.stores = [
        Store(code=f"S{n:03d}", name=f"{name} {n}", status=StoreStatus.NOT_CONNECTED)
        for n in range(1, stores + 1)
    ]
    return customer


async def connect(deps: Dependencies, emulator: XeroEmulator, customer_id: int) -> None:
    link = await domain.links.issue(deps, customer_id=customer_id, store_codes=None, actor="b")
    token = link.url.rsplit("/", 1)[-1]
    url = await domain.consent.start(deps, token=token, browser_id=BROWSER)
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    pkce: dict[str, Any] = {
        key: query[key] for key in ("code_challenge", "code_challenge_method") if key in query
    }
    back = emulator.authorise(
        user_id="bench-user",
        tenant_ids=[tenant.tenant_id for tenant in emulator.organisations],
        redirect_uri=query["redirect_uri"],
        state=query["state"],
        **pkce,
    )
    code = parse_qs(urlsplit(back).query)["code"][0]
    attempt = await domain.consent.verify_callback(deps, state=query["state"], browser_id=BROWSER)
    view = await domain.consent.complete(deps, attempt=attempt, code=code)
    option = view.organisations[0].connection_id
    await domain.choice.confirm(
        deps, token=token, choices={store.code: option for store in view.stores}, actor="customer"
    )


async def run(xero_seconds: float, delay: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}")
        await upgrade(engine)
        key = generate_encryption_key()
        vault = Vault([key])
        emulator = XeroEmulator(client_id="bench", client_secret=SECRET)
        emulator.add_user(user_id="bench-user", email="b@bench.test", name="Bench")
        emulator.add_organisation("Bench Ltd", plan_class="STANDARD", users=["bench-user"])
        xero = XeroClient(
            client_id="bench",
            client_secret=SECRET,
            redirect_uri=f"{BOT}/xero/callback",
            scopes=("offline_access", "accounting.settings.read"),
            authorize_url=f"{XERO}/identity/connect/authorize",
            token_url=f"{XERO}/identity/connect/token",
            revoke_url=f"{XERO}/identity/connect/revocation",
            api_url=f"{XERO}/api",
            transport=httpx.ASGITransport(app=emulator.app),
            sleep=no_sleep,
            timeout=120,
        )
        deps = Dependencies(
            sessions=session_factory(engine),
            vault=vault,
            cloudpos=CloudPosClient(base_url="http://127.0.0.1:9", sleep=no_sleep),
            xero=xero,
            public_base_url=BOT,
        )
        async with transaction(session_factory(engine)) as session:
            session.add_all([add_customer("Connected", 3, vault), add_customer("Other", 3, vault)])
        await connect(deps, emulator, customer_id=1)
        async with transaction(session_factory(engine)) as session:
            grant = await session.scalar(select(XeroGrant))
            assert grant is not None
            grant.access_token_expires_at = utcnow() + timedelta(minutes=1)
            grant_id = grant.id

        emulator.fail_next("token", status=200, delay=xero_seconds)
        started = time.perf_counter()
        refreshing = asyncio.create_task(domain.grants.access_token(deps, grant_id=grant_id))
        await asyncio.sleep(delay)
        issued_at = time.perf_counter()
        try:
            await domain.links.issue(deps, customer_id=2, store_codes=None, actor="bench")
            outcome = "issued"
        except Exception as error:  # a benchmark reports, it does not stop
            outcome = f"failed: {type(error).__name__}: {str(error)[:80]}"
        issue_took = time.perf_counter() - issued_at
        await refreshing
        refresh_took = time.perf_counter() - started
        await xero.aclose()
        await engine.dispose()
    print(f"Xero token endpoint delay     {xero_seconds:6.2f} s")
    print(f"refresh took                  {refresh_took:6.2f} s")
    print(f"other customer's link {outcome} after {issue_took:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--xero-seconds", type=float, default=4.0)
    parser.add_argument("--delay", type=float, default=0.3)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.xero_seconds, arguments.delay))


if __name__ == "__main__":
    main()
