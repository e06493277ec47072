"""The three servers `slack_summary.py` measures against, each run in its own process.

Every entry point binds a random loopback port, serves with uvicorn (warnings only, no access
log), sends `{"url": ...}` (plus extras) down `conn` once it answers, and stops on SIGTERM or
when the parent process is gone.
"""

from __future__ import annotations

import asyncio
import cProfile
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.fernet import Fernet
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from bot.app import create_app
from bot.common.vault import Vault
from bot.settings import Settings
from sandbox import fake_slack
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

SIGNING_SECRET = "bench-signing-secret"  # noqa: S105 - loopback only, never a real secret
BOT_TOKEN = "xoxb-bench"  # noqa: S105
USER_ID = "U0BENCH"
CHANNEL_ID = "C0HELPDESK"
CUSTOMER = "Bench Retail"
STORES, ORGANISATIONS = 200, 20
NOWHERE = "http://127.0.0.1:9"  # Xero and Cloud POS: never called by `/xero summary`


async def _cpu(_request: Request) -> Response:
    """CPU seconds this process has used, all threads (aiosqlite's too)."""
    return JSONResponse({"cpu": time.process_time()})


CPU = Route("/bench/cpu", _cpu)


def run_fake_slack(conn: Connection, response_urls: int) -> None:
    """The fake Slack, with `response_urls` response URLs issued up front for the load."""
    workspace = fake_slack.Workspace(bot_token=BOT_TOKEN)
    workspace.add_user(USER_ID, "bench")

    async def posts(_request: Request) -> Response:
        """The posts to response URLs: all, the summaries, and our error messages."""
        calls = workspace.calls_to("response_url")
        texts = [str(call.args.get("text", "")) for call in calls]
        failures = [text for text in texts if text.startswith((":boom:", ":warning:"))]
        return JSONResponse(
            {
                "posts": len(calls),
                "summaries": sum(text.startswith("Xero summary") for text in texts),
                "failures": len(failures),
                "first_failure": failures[0] if failures else "",
            }
        )

    app = Starlette(
        routes=[
            CPU,
            Route("/bench/posts", posts),
            Mount("/", fake_slack.create_app(workspace)),
        ]
    )

    def ready(url: str) -> dict[str, Any]:
        workspace.base_url = url
        urls = [
            workspace.response_url(channel_id=CHANNEL_ID, user_id=USER_ID)
            for _ in range(response_urls)
        ]
        return {"url": url, "response_urls": urls}

    asyncio.run(_serve(app, conn, ready))


def run_ours(conn: Connection, database: str, slack_url: str, profile: str | None) -> None:
    """Our app as `xero-bot serve` builds it, on a migrated and seeded SQLite file.

    Its log goes to `<database>.log`; with `profile`, its event loop thread is profiled
    with cProfile and the statistics written there on exit.
    """
    # Append mode: uvicorn's dictConfig closes this handler, and only then does it reopen.
    Path(f"{database}.log").write_text("")
    logging.basicConfig(
        filename=f"{database}.log", level=logging.WARNING, format="%(levelname)s %(message)s"
    )
    database_url = f"sqlite+aiosqlite:///{database}"
    key = Fernet.generate_key().decode()

    async def main() -> None:
        await _seed(database_url, Vault((key,)))
        sock = _free_socket()
        settings = Settings(
            database_url=database_url,
            public_base_url=_url(sock),
            token_encryption_keys=(key,),
            xero_client_id="bench",
            xero_client_secret="bench",  # noqa: S106
            xero_authorize_url=f"{NOWHERE}/authorize",
            xero_token_url=f"{NOWHERE}/token",
            xero_revoke_url=f"{NOWHERE}/revoke",
            xero_api_url=NOWHERE,
            cloudpos_api_url=NOWHERE,
            web_rate_limit_per_minute=1_000_000,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=f"{slack_url}/api/",
            helpdesk_users=frozenset({USER_ID}),
        )
        # No `deps=`: the lifespan builds them with `bot.services.dependencies_for`,
        # and the Slack client from the settings, exactly as `xero-bot serve` does.
        app = create_app(settings, extra_routes=[CPU])
        await _serve(app, conn, lambda url: {"url": url}, sock)

    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    try:
        asyncio.run(main())
    finally:
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(profile)


def run_bare(conn: Connection, slack_url: str) -> None:
    """A Bolt `AsyncApp` that only acks `/xero`: the floor any Bolt app on uvicorn pays."""
    bolt = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=f"{slack_url}/api/"),
    )

    @bolt.command("/xero")
    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    app = Starlette(routes=[CPU, Route("/slack/events", events, methods=["POST"])])
    asyncio.run(_serve(app, conn, lambda url: {"url": url}))


async def _seed(database_url: str, vault: Vault) -> None:
    """Migrate, then add the customer with its stores all linked, unless a reused file has it."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with transaction(session_factory(engine)) as session:
            if await session.scalar(select(Customer.id).where(Customer.name == CUSTOMER)):
                return
            customer = Customer(
                name=CUSTOMER, name_key=CUSTOMER.casefold(), cloudpos_group="bench-retail",
                licence="ProPlus", api_key_encrypted=vault.encrypt("bench-api-key"),
            )  # fmt: skip
            customer.stores = [
                Store(code=f"S{n:04}", name=f"Store {n}", status=StoreStatus.CONNECTED)
                for n in range(STORES)
            ]
            grant = XeroGrant(
                xero_user_id="bench-xero-user", access_token_encrypted=vault.encrypt("a"),
                refresh_token_encrypted=vault.encrypt("r"), access_token_expires_at=utcnow(),
                status=GrantStatus.ACTIVE,
            )  # fmt: skip
            organisations = [
                XeroConnection(
                    grant=grant, xero_connection_id=f"bench-c{n}", tenant_id=f"bench-t{n}",
                    tenant_name=f"Bench Org {n:02}", plan_class="STANDARD", auth_event_id="e",
                    status=ConnectionStatus.ACTIVE,
                )
                for n in range(ORGANISATIONS)
            ]  # fmt: skip
            session.add_all([customer, grant, *organisations])
            session.add_all(
                StoreLink(store=store, connection=organisations[n % ORGANISATIONS], linked_by="b")
                for n, store in enumerate(customer.stores)
            )
    finally:
        await engine.dispose()


async def _serve(
    app: ASGIApp,
    conn: Connection,
    ready: Callable[[str], dict[str, Any]],
    sock: socket.socket | None = None,
) -> None:
    sock = sock or _free_socket()
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    # uvicorn re-raises SIGTERM once it has shut down: let that return, so a profile is saved.
    signal.signal(signal.SIGTERM, lambda *_: None)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(3000):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        if task.done():
            await task  # its exception says why
        raise RuntimeError("uvicorn did not start")
    conn.send(ready(_url(sock)))
    parent = os.getppid()
    while not task.done():
        if os.getppid() != parent:  # orphaned: the load generator is gone
            server.should_exit = True
        await asyncio.wait([task], timeout=1.0)
    sock.close()


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()
    return f"http://{host}:{port}"
