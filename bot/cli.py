"""The `xero-bot` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.domain.grants import KeepAliveReport
from bot.errors import DomainError
from bot.maintenance import rotate_keys
from bot.services import connection_service
from bot.settings import (
    ALL_SERVICE_SETTINGS,
    SLACK_SETTINGS,
    Settings,
    SettingsError,
    generate_encryption_key,
)
from bot.vault import Vault, VaultError
from storage.engine import create_engine, session_factory
from storage.migrate import is_current, upgrade


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return int(args.run(args) or 0)
    except (SettingsError, VaultError, DomainError) as error:
        print(f"xero-bot: {error}", file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as error:
        print(
            f"xero-bot: cannot use the database in DATABASE_URL ({type(error).__name__}); "
            "check that it is running and reachable.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xero-bot",
        description="Slack bot that connects Cloud POS stores to Xero organisations.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="run the bot: Slack's endpoint and the customer pages, with uvicorn"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_positive_int, default=8000, help="port (8000)")
    serve.set_defaults(run=_serve)

    sandbox = commands.add_parser(
        "sandbox",
        help="try everything locally: the bot, a Slack console and Xero and Cloud POS emulators",
    )
    sandbox.add_argument("--port", type=_positive_int, default=8000, help="port (8000)")
    sandbox.add_argument(
        "--database", type=Path, help="SQLite file to keep (default: a new temporary one)"
    )
    sandbox.add_argument("--reset", action="store_true", help="delete --database first")
    sandbox.set_defaults(run=_sandbox)

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(run=_migrate)

    rotate = commands.add_parser(
        "rotate-keys", help="re-encrypt every stored secret under the first encryption key"
    )
    rotate.set_defaults(run=_rotate_keys)

    key = commands.add_parser("generate-key", help="print a new key for TOKEN_ENCRYPTION_KEYS")
    key.set_defaults(run=_generate_key)

    keep_alive = commands.add_parser(
        "keep-alive",
        help="refresh Xero grants unused for a while (run daily: Xero drops them after 60 days)",
    )
    keep_alive.add_argument(
        "--days", type=_positive_int, default=30, help="refresh grants unused this long (30)"
    )
    keep_alive.set_defaults(run=_keep_alive)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import create_app

    settings = Settings.from_env(required=(*ALL_SERVICE_SETTINGS, *SLACK_SETTINGS))

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            if not await is_current(engine):
                raise SettingsError(
                    "The database schema is out of date: run `xero-bot migrate` first."
                )
        finally:
            await engine.dispose()
        app = create_app(settings)
        config = uvicorn.Config(
            app, host=args.host, port=args.port, proxy_headers=True, log_level="info"
        )
        if not settings.slack_app_token:
            await uvicorn.Server(config).serve()
            return
        socket_mode = AsyncSocketModeHandler(app.state.slack_bolt, settings.slack_app_token)
        await socket_mode.connect_async()
        try:
            await uvicorn.Server(config).serve()
        finally:
            await socket_mode.close_async()

    asyncio.run(run())
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    """The port is taken first: a busy one is a single line, before any file is made.

    Without `--database` the SQLite file lives in a temporary folder removed on exit.
    """
    from bot.sandbox.server import PortUnavailable, build_sandbox, listen, serve_sandbox

    try:
        sock = listen(args.port)
    except PortUnavailable as error:
        print(f"xero-bot: {error}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(sock.close)
        xero_file = None
        if args.database is None:
            folder = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="xero-bot-sandbox-"))
            database = Path(folder) / "sandbox.sqlite3"
        else:
            database = args.database.resolve()
            if args.reset:
                for leftover in database.parent.glob(f"{database.name}*"):
                    leftover.unlink()
            xero_file = database.with_name(f"{database.name}.xero-emulator.json")
            if database.exists() and not xero_file.exists():
                print(
                    f"Note: {database} is kept from a run that did not keep the Xero emulator "
                    f"({xero_file.name}), so Xero starts afresh and knows none of its "
                    "connections: they fail when the bot next calls Xero. Use --reset to "
                    "start clean.",
                    flush=True,
                )
        base_url = f"http://127.0.0.1:{args.port}"
        sandbox = build_sandbox(
            base_url=base_url, database_url=f"sqlite+aiosqlite:///{database}", xero_file=xero_file
        )
        asyncio.run(serve_sandbox(sandbox, sock=sock, database=database, xero_file=xero_file))
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    settings = Settings.from_env()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("Database schema is up to date.")
    return 0


def _rotate_keys(_args: argparse.Namespace) -> int:
    settings = Settings.from_env(required=["TOKEN_ENCRYPTION_KEYS"])

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            report = await rotate_keys(
                session_factory(engine), Vault(settings.token_encryption_keys)
            )
        finally:
            await engine.dispose()
        print(
            f"Re-encrypted {report.api_keys} Cloud POS API keys and {report.grants} Xero grants "
            f"({report.consents_in_progress} consents in progress) under the first key. Older "
            "keys can now be removed from TOKEN_ENCRYPTION_KEYS."
        )

    asyncio.run(run())
    return 0


def _keep_alive(args: argparse.Namespace) -> int:
    settings = Settings.from_env(required=ALL_SERVICE_SETTINGS)

    async def run() -> KeepAliveReport:
        async with connection_service(settings) as service:
            return await service.keep_grants_alive(unused_for=timedelta(days=args.days))

    report = asyncio.run(run())
    print(
        f"Refreshed {report.refreshed} Xero grants; {report.needs_reconnect} need the customer "
        f"to reconnect; {report.failed} failed and will be tried again next run. Revoked "
        f"{report.revoked} grants left with no organisation ({report.not_revoked} could not be)."
    )
    return 1 if report.failed or report.not_revoked else 0


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return number


def _generate_key(_args: argparse.Namespace) -> int:
    print(generate_encryption_key())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
