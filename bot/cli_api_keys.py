"""`xero-bot api-key`: the keys the POS→Xero sync service calls the API with."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from bot import cli_help
from bot.cli_schema import require_current_schema
from bot.domain import Dependencies, api_keys
from bot.services import dependencies_for
from bot.settings import Settings

_T = TypeVar("_T")

REQUIRED = cli_help.API_KEY[0]


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    parser = command(
        "api-key", "create, list and revoke the sync service's API keys", cli_help.API_KEY
    )
    actions = parser.add_subparsers(required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make a new key and print it, once")
    create.add_argument("--name", required=True, help="what the key is for, e.g. pos-sync")
    create.set_defaults(run=_create)
    listing = actions.add_parser("list", help="every key: created, last used, uses")
    listing.set_defaults(run=_list)
    revoke = actions.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("name", help="the key's name")
    revoke.set_defaults(run=_revoke)


def _create(args: argparse.Namespace) -> int:
    key = asyncio.run(
        _with_deps(lambda deps: api_keys.create(deps, name=args.name, actor=_actor()))
    )
    print(key)
    print(
        f"This is the API key {args.name.strip().lower()}. It is shown only now: store it "
        "where the sync service reads its secrets. It goes in `Authorization: Bearer <key>`."
    )
    return 0


def _list(_args: argparse.Namespace) -> int:
    keys = asyncio.run(_with_deps(api_keys.listing))
    if not keys:
        print("No API keys yet: `xero-bot api-key create --name pos-sync` makes one.")
        return 0
    print(f"{'NAME':<24} {'CREATED':<17} {'LAST USED':<17} {'USES':>8}  STATE")
    for key in keys:
        state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
        print(
            f"{key.name:<24} {_when(key.created_at):<17} {_when(key.last_used_at):<17} "
            f"{key.uses:>8}  {state}"
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    asyncio.run(_with_deps(lambda deps: api_keys.revoke(deps, name=args.name, actor=_actor())))
    print(f"Revoked the API key {args.name.strip().lower()}: requests with it now get 401.")
    return 0


async def _with_deps(work: Callable[[Dependencies], Awaitable[_T]]) -> _T:
    settings = Settings.from_env(required=REQUIRED)
    await require_current_schema(settings)
    async with dependencies_for(settings) as deps:
        return await work(deps)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:200]
    except (KeyError, OSError):
        return "cli"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"
