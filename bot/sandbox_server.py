"""The whole system in one process for trying it out: bot, emulators, a fake Slack, a console.

Everything listens on one loopback port. The bot is configured exactly as in production,
except that its Xero, Cloud POS and Slack URLs point at the emulators mounted beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import secrets
import signal
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import scheduler
from bot.app import create_app
from bot.common.redaction import install_redaction
from bot.domain import Dependencies, api_keys
from bot.domain import jobs as domain_jobs
from bot.services import dependencies_for
from bot.settings import Settings
from sandbox.cloudpos_emulator import CloudPosEmulator
from sandbox.console import ConsoleUser, console_routes
from sandbox.fake_slack import SignedRequest, SlackDriver, Workspace
from sandbox.fake_slack import create_app as create_fake_slack
from sandbox.xero_emulator import XeroEmulator, snapshot
from storage.engine import create_engine
from storage.migrate import upgrade

# Not secrets: the sandbox's own key, Slack secret and Xero client, known to its emulators.
ENCRYPTION_KEY = "c2FuZGJveC1zYW5kYm94LXNhbmRib3gtc2FuZGJveCE="
SIGNING_SECRET = "sandbox-signing-secret"  # noqa: S105
XERO_CLIENT = ("sandbox-client", "sandbox-secret")
CHANNEL = "C0HELPDESK"
ALERTS = ("C0ALERTS", "xero-alerts")
"""The channel the bot alerts of broken stores in (SLACK_ALERTS_CHANNEL), and its name."""
USERS = (
    ConsoleUser("U0AGENT", "Ada Agent", "helpdesk agent"),
    ConsoleUser("U0ADMIN", "Sam Admin", "helpdesk admin"),
    ConsoleUser("U0OUTSIDER", "Olly Outsider", "not helpdesk"),
)
DEMO_KEY, LOWER_LICENCE_KEY = "acme-pro-plus-key", "corner-shop-key"
log = logging.getLogger(__name__)


@dataclass
class Sandbox:
    app: Starlette
    settings: Settings
    workspace: Workspace
    xero: XeroEmulator
    cloudpos: CloudPosEmulator


def build_sandbox(*, base_url: str, database_url: str, xero_file: Path | None = None) -> Sandbox:
    """The sandbox app for `base_url` (where it will listen), seeded with demo data.

    With `xero_file` the Xero emulator is loaded from it when it exists and saved to it
    after every change, so a kept database never holds connections Xero does not know.
    """
    workspace = Workspace(base_url=f"{base_url}/slack-api")
    xero = XeroEmulator(client_id=XERO_CLIENT[0], client_secret=XERO_CLIENT[1])
    cloudpos = CloudPosEmulator()
    seed(workspace, xero, cloudpos)
    xero_app: ASGIApp = xero.app
    if xero_file is not None:
        if xero_file.exists():
            snapshot.load(xero, xero_file)
        else:
            snapshot.save(xero, xero_file)
        xero_app = SavedAfterChanges(xero_app, lambda: snapshot.save(xero, xero_file))
    settings = Settings(
        database_url=database_url,
        public_base_url=base_url,
        token_encryption_keys=(ENCRYPTION_KEY,),
        xero_client_id=XERO_CLIENT[0],
        xero_client_secret=XERO_CLIENT[1],
        xero_authorize_url=f"{base_url}/xero-emulator/identity/connect/authorize",
        xero_token_url=f"{base_url}/xero-emulator/identity/connect/token",
        xero_revoke_url=f"{base_url}/xero-emulator/identity/connect/revocation",
        xero_api_url=f"{base_url}/xero-emulator/api",
        cloudpos_api_url=f"{base_url}/cloudpos",
        slack_bot_token=workspace.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=f"{base_url}/slack-api/api/",
        helpdesk_users=frozenset({"U0AGENT"}),
        admin_users=frozenset({"U0ADMIN"}),
        slack_alerts_channel=ALERTS[0],
    )

    async def deliver(request: SignedRequest) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            return await client.post("/slack/events", content=request.body, headers=request.headers)

    async def run_jobs() -> list[str]:
        """The console's "Run jobs now": the sandbox runs no jobs on a schedule (a person
        trying it out should not wait hours, nor be surprised), so they run on demand."""
        deps: Dependencies = app.state.deps  # set while the app runs (its lifespan)
        return [await run_job(deps, job) for job in scheduler.default_jobs(settings)]

    driver = SlackDriver(workspace, SIGNING_SECRET, deliver)
    emulator_pages = {"content-security-policy": "default-src 'self' 'unsafe-inline'"}
    app = create_app(
        settings,
        slack_client=AsyncWebClient(token=workspace.bot_token, base_url=settings.slack_api_url),
        extra_routes=[
            Route("/", lambda _request: RedirectResponse("/sandbox/")),
            Mount(
                "/sandbox",
                routes=console_routes(
                    workspace=workspace,
                    driver=driver,
                    users=USERS,
                    channel_id=CHANNEL,
                    channels=[ALERTS[0]],
                    run_jobs=run_jobs,
                    links=[
                        ("Cloud POS emulator (API keys)", "/cloudpos/"),
                        ("Xero emulator (faults, disconnect the app)", "/xero-emulator/"),
                    ],
                ),
            ),
            Mount("/slack-api", app=create_fake_slack(workspace)),
            Mount("/xero-emulator", app=WithHeaders(xero_app, emulator_pages)),
            Mount("/cloudpos", app=WithHeaders(cloudpos.app, emulator_pages)),
        ],
    )
    return Sandbox(app, settings, workspace, xero, cloudpos)


def seed(workspace: Workspace, xero: XeroEmulator, cloudpos: CloudPosEmulator) -> None:
    """Demo data: Slack people and channels, two Cloud POS customers, a Xero user, four plans.
    The stores' tenders differ as real ones do (the web shop takes no cash)."""
    for user in USERS:
        workspace.add_user(user.user_id, user.name)
    workspace.add_channel(*ALERTS)
    till = [("T1", "Cash", "Cash"), ("T2", "Card", "Card"), ("T3", "Gift card", "GiftCard")]
    cloudpos.add_account(
        DEMO_KEY,
        group="Acme Bikes",
        licence="ProPlus",
        stores=[
            ("S001", "Acme Bikes Leeds"),
            ("S002", "Acme Bikes York"),
            ("S003", "Acme Bikes Hull"),
            ("S004", "Acme Bikes Online"),
        ],
        tenders={
            "S001": [*till, ("T4", "Voucher", "Voucher")],
            "S002": till,
            "S003": till[:2],
            "S004": [("T5", "Card (online)", "Card"), till[2]],
        },
    )
    cloudpos.add_account(
        LOWER_LICENCE_KEY, group="Corner Shop", licence="Pro", stores=[("C001", "Corner Shop")]
    )
    owner = xero.add_user(user_id="xero-olive", email="olive@acme.test", name="Olive Owner")
    for name, plan in (
        ("Acme Bikes Ltd", "STANDARD"),
        ("Acme Bikes Trading", "PREMIUM"),
        ("Acme Starter", "STARTER"),
        ("Acme Trial", "TRIAL"),
    ):
        xero.add_organisation(name, plan_class=plan, users=[owner.user_id])


async def run_job(deps: Dependencies, job: scheduler.Job[Any]) -> str:
    """Run `job` now, as the scheduler would (leased, recorded): one line on how it went. A
    failure is that line, not an error, so the jobs after it still run."""
    try:
        result = await scheduler.run_now(deps, job)
    except Exception as error:
        log.warning("sandbox: job %s failed", job.name, exc_info=True)
        return f"{job.name}: failed ({domain_jobs.describe(error)})"
    if result is None:
        return f"{job.name}: not run, it is running already"
    counts = domain_jobs.counts_of(result)
    return f"{job.name}: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "done")


class WithHeaders:
    """Serves an emulator with its own headers (its pages are not the bot's to lock down)."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = [(name.encode(), value.encode()) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PortUnavailable(Exception):
    """The sandbox cannot listen on its port; the message is the one line the person sees."""


def listen(port: int) -> socket.socket:
    """A socket bound to 127.0.0.1:`port`, taken before anything else is built or migrated.

    Binding first means a busy port is one plain sentence (not uvicorn's log line and two
    tracebacks), and nothing has been created that would need cleaning up.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: restart at once
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortUnavailable(
                f"port {port} is already in use on 127.0.0.1; "
                f"choose another with --port, e.g. xero-bot sandbox --port {port + 1}"
            ) from None
        raise PortUnavailable(
            f"cannot listen on 127.0.0.1:{port} ({error.strerror}); choose another with --port"
        ) from None
    return sock


class SavedAfterChanges:
    """Calls `save` after each request that may change the emulator (anything but GET)."""

    def __init__(self, app: ASGIApp, save: Callable[[], None]) -> None:
        self.app = app
        self.save = save

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD"):
                self.save()


async def serve_sandbox(
    sandbox: Sandbox, *, sock: socket.socket, database: Path, xero_file: Path | None = None
) -> None:
    """Migrate, serve on `sock` until Ctrl+C or SIGTERM, and say what to try."""
    engine = create_engine(sandbox.settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    api_key = await sandbox_api_key(sandbox.settings)
    host, port = sock.getsockname()[:2]
    server = _QuietServer(uvicorn.Config(sandbox.app, host=host, port=port, log_level="warning"))
    install_redaction()
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop, server.handle_exit, stop, None)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no event
        await asyncio.sleep(0.05)
    if server.started:
        base_url = sandbox.settings.public_base_url
        print(welcome(base_url, str(database), xero_file, api_key=api_key), flush=True)
    await serving
    print("Sandbox stopped.", flush=True)


class _QuietServer(uvicorn.Server):
    """Stops on Ctrl+C or SIGTERM and returns, rather than re-raising the signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def sandbox_api_key(settings: Settings) -> str:
    """A new key for trying the sync service's API (a kept database gathers one a run)."""
    async with dependencies_for(settings) as deps:
        return await api_keys.create(deps, name=f"sandbox-{secrets.token_hex(3)}", actor="sandbox")


def welcome(
    base_url: str, database: str, xero_file: Path | None = None, *, api_key: str = ""
) -> str:
    kept = (
        f"Xero emulator: {xero_file} (kept with the database; the Slack console starts empty)"
        if xero_file is not None
        else "The emulators and the Slack console keep nothing between runs."
    )
    api = (
        f"The sync service's API, with this run's key (once a store is ready for sync):\n"
        f"  curl -H 'Authorization: Bearer {api_key}' {base_url}/api/v1/stores?status=ready\n"
        if api_key
        else ""
    )
    return f"""
xero-bot sandbox is running. Open {base_url}/sandbox/ in your browser.

Try first, in the Slack console as Ada Agent (helpdesk agent):
  1. /xero customer add  → name "Acme Bikes", API key {DEMO_KEY}
     (the key {LOWER_LICENCE_KEY} shows the refusal of a licence below Pro Plus)
  2. /xero stores Acme Bikes → choose two stores → "Send link for selected" → open the link
  3. "Connect to Xero" → allow Acme Bikes Ltd and Acme Starter → pick an organisation, confirm
  4. /xero summary Acme Bikes (Ada may not disconnect, so she gets no Disconnect button)
  5. switch to Sam Admin → his own /xero summary Acme Bikes → "Disconnect from Xero"

The scheduled jobs run only when you press "Run jobs now" in the console's sidebar;
broken stores are alerted in #xero-alerts, and "Home" shows what needs attention.
Emulators: {base_url}/xero-emulator/ (Xero) and {base_url}/cloudpos/ (Cloud POS API keys).
{api}Database: {database}
{kept}
Press Ctrl+C to stop.
"""
