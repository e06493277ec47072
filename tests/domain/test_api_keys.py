"""API keys: made once, listed without their secret, counted, revoked; and the operator's
`xero-bot api-key` command end to end, in a process of its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import domain
from bot.domain import Dependencies
from bot.domain.api_keys import UsageCounter
from bot.domain.errors import Conflict, InvalidRequest, NotFound
from bot.settings import generate_encryption_key
from storage.engine import create_engine, session_factory, transaction
from storage.migrate import upgrade
from storage.models import ApiKey
from tests.conftest import Clock
from tests.domain.posting_helpers import audited

pytestmark = pytest.mark.asyncio


async def key_row(deps: Dependencies, name: str) -> ApiKey:
    async with transaction(deps.sessions, read_only=True) as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.name == name))
    assert row is not None
    return row


async def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(deps: Dependencies) -> None:
    key = await domain.api_keys.create(deps, name=" POS-Sync ", actor="cli:ops")

    prefix, key_id, secret = key.split("_", 2)
    assert prefix == "xbk"
    assert len(key_id) == 12
    assert len(secret) == 43
    row = await key_row(deps, "pos-sync")
    assert row.key_id == key_id
    assert secret not in row.secret_hash
    assert key not in row.secret_hash
    assert (row.created_by, row.uses, row.first_used_at, row.revoked_at) == (
        "cli:ops",
        0,
        None,
        None,
    )
    [view] = await domain.api_keys.listing(deps)
    assert view.name == "pos-sync"
    assert secret not in repr(view)
    assert key_id not in repr(view)
    assert await audited(deps, "api_key.created") == [{"key": "pos-sync"}]


async def test_a_key_authenticates_until_it_is_revoked(deps: Dependencies) -> None:
    key = await domain.api_keys.create(deps, name="pos-sync", actor="cli:ops")

    caller = await domain.api_keys.authenticate(deps, presented=key)
    assert caller is not None
    assert caller.name == "pos-sync"
    assert caller.first_use

    await domain.api_keys.revoke(deps, name="pos-sync", actor="cli:ops")
    assert await domain.api_keys.authenticate(deps, presented=key) is None
    [view] = await domain.api_keys.listing(deps)
    assert view.revoked_at is not None
    [revoked] = await audited(deps, "api_key.revoked")
    assert revoked["key"] == "pos-sync"
    assert revoked["uses"] == 0


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"), id="wrong-secret"),
        pytest.param(lambda key: "xbk_" + "a" * 12 + key[16:], id="unknown-id"),
        pytest.param(lambda key: key[:-2], id="short"),
        pytest.param(lambda key: key.replace("xbk_", "xbz_"), id="wrong-prefix"),
        pytest.param(lambda key: key + " ", id="trailing-space"),
        pytest.param(lambda _key: "", id="empty"),
    ],
)
async def test_a_key_not_exactly_as_made_is_refused(deps: Dependencies, mangle: object) -> None:
    key = await domain.api_keys.create(deps, name="pos-sync", actor="cli:ops")
    assert callable(mangle)
    assert await domain.api_keys.authenticate(deps, presented=mangle(key)) is None
    assert (await key_row(deps, "pos-sync")).first_used_at is None


async def test_names_are_checked_and_kept_after_revocation(deps: Dependencies) -> None:
    await domain.api_keys.create(deps, name="pos-sync", actor="cli:ops")

    with pytest.raises(Conflict, match=r"already a key named pos-sync.*e\.g\. pos-sync-2\."):
        await domain.api_keys.create(deps, name="POS-SYNC", actor="cli:ops")
    await domain.api_keys.revoke(deps, name="pos-sync", actor="cli:ops")
    with pytest.raises(Conflict, match="already a key named pos-sync"):
        await domain.api_keys.create(deps, name="pos-sync", actor="cli:ops")
    for bad in ("", "-sync", "pos sync", "pos_sync", "é", "a" * 65):
        with pytest.raises(InvalidRequest, match="1 to 64 lower-case letters") as raised:
            await domain.api_keys.create(deps, name=bad, actor="cli:ops")
        assert raised.value.field == "name"
    with pytest.raises(NotFound, match="no key named nope"):
        await domain.api_keys.revoke(deps, name="nope", actor="cli:ops")
    with pytest.raises(Conflict, match="revoked already"):
        await domain.api_keys.revoke(deps, name="pos-sync", actor="cli:ops")
    assert [view.name for view in await domain.api_keys.listing(deps)] == ["pos-sync"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_first_use_is_audited_once_when_twenty_requests_race(
    deps: Dependencies,
) -> None:
    key = await domain.api_keys.create(deps, name="pos-sync", actor="cli:ops")

    callers = await asyncio.gather(
        *(domain.api_keys.authenticate(deps, presented=key) for _ in range(20))
    )

    assert all(caller is not None for caller in callers)
    assert sum(1 for caller in callers if caller and caller.first_use) == 1
    assert await audited(deps, "api_key.first_used") == [{"key": "pos-sync"}]
    assert (await key_row(deps, "pos-sync")).first_used_at == deps.clock()


async def test_uses_are_counted_in_memory_and_written_together(
    deps: Dependencies, clock: Clock
) -> None:
    key = await domain.api_keys.create(deps, name="pos-sync", actor="cli:ops")
    other = await domain.api_keys.create(deps, name="reports", actor="cli:ops")
    usage = UsageCounter()
    caller = await domain.api_keys.authenticate(deps, presented=key)
    second = await domain.api_keys.authenticate(deps, presented=other)
    assert caller is not None
    assert second is not None

    for _ in range(3):
        await usage.count(deps, caller)
    assert (await key_row(deps, "pos-sync")).uses == 0, "written only every few seconds"
    clock.advance(seconds=2)
    await usage.count(deps, second)
    clock.advance(seconds=4)
    await usage.count(deps, caller)  # 6 s after the first: written now
    row = await key_row(deps, "pos-sync")
    assert (row.uses, row.last_used_at) == (4, clock())
    assert (await key_row(deps, "reports")).uses == 1

    await usage.count(deps, caller)
    await usage.flush(deps)
    await usage.flush(deps)  # nothing more to write
    assert (await key_row(deps, "pos-sync")).uses == 5
    [view, _] = await domain.api_keys.listing(deps)
    assert (view.name, view.uses, view.last_used_at) == ("pos-sync", 5, clock())


# --- the CLI, as an operator runs it --------------------------------------------------------


def run_cli(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "api-key", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_cli_creates_lists_and_revokes_keys(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = create_engine(database)
    await upgrade(engine)
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": database,
        "TOKEN_ENCRYPTION_KEYS": generate_encryption_key(),
    }

    created = await asyncio.to_thread(run_cli, environment, "create", "--name", "pos-sync")
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[0]
    assert key.startswith("xbk_")
    assert len(key) == 4 + 12 + 1 + 43
    assert created.stdout.count(key) == 1
    assert "shown only now" in created.stdout

    listed = await asyncio.to_thread(run_cli, environment, "list")
    assert listed.returncode == 0, listed.stderr
    assert "pos-sync" in listed.stdout
    assert "active" in listed.stdout
    secret = key.split("_", 2)[2]
    assert secret not in listed.stdout
    assert key.split("_")[1] not in listed.stdout

    revoked = await asyncio.to_thread(run_cli, environment, "revoke", "pos-sync")
    assert revoked.returncode == 0, revoked.stderr
    assert "Revoked the API key pos-sync" in revoked.stdout
    listed = await asyncio.to_thread(run_cli, environment, "list")
    assert "revoked" in listed.stdout

    unknown = await asyncio.to_thread(run_cli, environment, "revoke", "nope")
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert unknown.stderr.splitlines() == [
        "xero-bot: There is no key named nope. `xero-bot api-key list` lists them."
    ], "one line, without Alembic's notes of the schema check"

    async with transaction(session_factory(engine), read_only=True) as session:
        row = await session.scalar(select(ApiKey))
    await engine.dispose()
    assert row is not None
    assert row.revoked_at is not None
    assert secret not in row.secret_hash
