"""The `xero-bot` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import sys
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot import cli_api_keys, cli_help, scheduler
from bot.cli_schema import require_current_schema
from bot.common.redaction import install_redaction
from bot.common.vault import Vault, VaultError
from bot.domain import grants
from bot.domain.errors import DomainError
from bot.domain.grants import KeepAliveReport
from bot.domain.results import ConnectionCheck
from bot.logformat import configure_logging, log_format
from bot.maintenance import rotate_keys
from bot.services import dependencies_for
from bot.settings import (
    ALL_SERVICE_SETTINGS,
    SLACK_SETTINGS,
    Settings,
    SettingsError,
    generate_encryption_key,
)
from storage.engine import create_engine, describe_failure, session_factory
from storage.migrate import upgrade

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        configure_logging(log_format())
        return int(args.run(args) or 0)
    except (SettingsError, VaultError, DomainError) as error:
        print(f"xero-bot: {error}", file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as error:
        print(f"xero-bot: {describe_failure(error, _configured_database())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xero-bot",
        description="Slack bot that connects Cloud POS stores to Xero organisations.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(
        name: str, summary: str, variables: tuple[Sequence[str], Sequence[str]] | None
    ) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=cli_help.environment(*variables) if variables else None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    serve = command(
        "serve",
        "run the bot: Slack's endpoint and the customer pages, with uvicorn",
        cli_help.SERVE,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_positive_int, default=8000, help="port (8000)")
    serve.set_defaults(run=_serve)

    sandbox = command(
        "sandbox",
        "try everything locally: the bot, a Slack console and Xero and Cloud POS emulators "
        "(needs no environment variables)",
        None,
    )
    sandbox.add_argument("--port", type=_positive_int, default=8000, help="port (8000)")
    sandbox.add_argument(
        "--database", type=Path, help="SQLite file to keep (default: a new temporary one)"
    )
    sandbox.add_argument("--reset", action="store_true", help="delete --database first")
    sandbox.set_defaults(run=_sandbox)

    migrate = command("migrate", "create or upgrade the database schema", cli_help.MIGRATE)
    migrate.set_defaults(run=_migrate)

    rotate = command(
        "rotate-keys",
        "re-encrypt every stored secret under the first encryption key",
        cli_help.ROTATE_KEYS,
    )
    rotate.set_defaults(run=_rotate_keys)

    key = command("generate-key", "print a new key for TOKEN_ENCRYPTION_KEYS", None)
    key.set_defaults(run=_generate_key)

    keep_alive = command(
        "keep-alive",
        "refresh Xero grants unused for a while (run daily: Xero drops them after 60 days)",
        cli_help.KEEP_ALIVE,
    )
    keep_alive.add_argument(
        "--days", type=_positive_int, default=30, help="refresh grants unused this long (30)"
    )
    keep_alive.set_defaults(run=_keep_alive)

    check = command(
        "check-connections",
        "check every Xero connection now, as `serve` does every CONNECTION_CHECK_HOURS, "
        "and print what it found",
        cli_help.CHECK_CONNECTIONS,
    )
    check.set_defaults(run=_check_connections)
    cli_api_keys.add_commands(command)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import create_app

    settings = Settings.from_env(required=(*ALL_SERVICE_SETTINGS, *SLACK_SETTINGS))

    async def run() -> None:
        await require_current_schema(settings)
        app = create_app(settings, run_jobs=True)
        config = serve_config(app, host=args.host, port=args.port, settings=settings)
        if not settings.slack_app_token:
            await uvicorn.Server(config).serve()
            return
        socket_mode = AsyncSocketModeHandler(app.state.slack_bolt, settings.slack_app_token)
        await socket_mode.connect_async()  # type: ignore[no-untyped-call]  # untyped in Bolt
        try:
            await uvicorn.Server(config).serve()
        finally:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]

    asyncio.run(run())
    return 0


def serve_config(app: ASGIApp, *, host: str, port: int, settings: Settings) -> uvicorn.Config:
    """How `serve` runs uvicorn: its lines through our handler, with secrets redacted.

    Forwarded headers (`X-Forwarded-For`, `-Proto`) are believed only from the addresses in
    FORWARDED_ALLOW_IPS, so behind a proxy the rate limit sees each customer's address and
    nobody else can choose the address they are limited under.
    """
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=list(settings.forwarded_allow_ips) or None,
        log_level="info",
        log_config=None,  # uvicorn's lines go through our handler: one format
    )
    install_redaction()
    return config


def _sandbox(args: argparse.Namespace) -> int:
    """The port is taken first: a busy one is a single line, before any file is made.

    Without `--database` the SQLite file lives in a temporary folder removed on exit.
    """
    from bot.sandbox_server import PortUnavailable, build_sandbox, listen, serve_sandbox

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
        await require_current_schema(settings)
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
        await require_current_schema(settings)
        async with dependencies_for(settings) as deps:
            return await grants.keep_alive(deps, unused_for=timedelta(days=args.days))

    report = asyncio.run(run())
    print(
        f"Refreshed {report.refreshed} Xero grants; {report.needs_reconnect} need the customer "
        f"to reconnect; {report.failed} failed and will be tried again next run. Revoked "
        f"{report.revoked} grants left with no organisation ({report.not_revoked} could not be)."
    )
    return 1 if report.failed or report.not_revoked else 0


def _check_connections(_args: argparse.Namespace) -> int:
    """One line per count; exit 1 with one line when the check could not be made."""
    settings = Settings.from_env(required=ALL_SERVICE_SETTINGS)

    async def run() -> ConnectionCheck | None:
        await require_current_schema(settings)
        async with dependencies_for(settings) as deps:
            return await scheduler.run_now(deps, scheduler.connection_check_job(settings))

    try:
        check = asyncio.run(run())
    except DomainError as error:
        print(f"xero-bot: the connection check failed: {error.message}", file=sys.stderr)
        return 1
    if check is None:
        print(
            "xero-bot: another process is running the connection check right now; try again "
            "once it has finished.",
            file=sys.stderr,
        )
        return 1
    for name, value in dataclasses.asdict(check).items():
        print(f"{name.replace('_', ' ')}: {value}")
    return 0


def _configured_database() -> str:
    try:
        return Settings.from_env().database_url
    except SettingsError:
        return Settings().database_url


def _version() -> str:
    try:
        return metadata.version("xero-bot")
    except metadata.PackageNotFoundError:
        return "(not installed)"


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
