"""A customer and the words after it, resolved in one read: how `/xero link` is typed."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.common.vault import Vault
from bot.domain import Dependencies, customers
from bot.domain.errors import Ambiguous, NotFound
from storage.engine import session_factory, transaction
from storage.models import Customer


async def deps_with(engine: AsyncEngine, *names: str) -> Dependencies:
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        for name in names:
            session.add(
                Customer(
                    name=name,
                    name_key=name.casefold(),
                    cloudpos_group=name.casefold().replace(" ", "-"),
                    licence="ProPlus",
                    api_key_encrypted="unused",
                )
            )
    return Dependencies(
        sessions=sessions,
        vault=Vault([Fernet.generate_key().decode()]),
        cloudpos=None,  # type: ignore[arg-type]  # no call leaves the database here
        xero=None,  # type: ignore[arg-type]
        public_base_url="https://bot.test",
    )


async def test_the_longest_leading_words_naming_a_customer_win(engine: AsyncEngine) -> None:
    deps = await deps_with(engine, "Acme", "Acme Bikes")
    found, rest = await customers.identify_leading(deps, words=("acme", "bikes", "S001", "S3"))
    assert (found.name, rest) == ("Acme Bikes", ("S001", "S3"))
    found, rest = await customers.identify_leading(deps, words=("Acme", "S001"))
    assert (found.name, rest) == ("Acme", ("S001",))


async def test_a_quoted_name_is_the_whole_name_and_read_once(engine: AsyncEngine) -> None:
    deps = await deps_with(engine, "Acme", "Acme Bikes", *(f"Shop {n}" for n in range(20)))
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        found, rest = await customers.identify_leading(
            deps, words=("Acme Bikes", "S001"), quoted=True
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert (found.name, rest) == ("Acme Bikes", ("S001",))
    assert len(statements) == 1, statements


async def test_a_quoted_name_is_not_cut_shorter(engine: AsyncEngine) -> None:
    deps = await deps_with(engine, "Acme")
    with pytest.raises(NotFound, match=r"No customer matches 'Acme Bikes'\. Did you mean Acme\?"):
        await customers.identify_leading(deps, words=("Acme Bikes", "S001"), quoted=True)


async def test_a_miss_names_the_longest_reading_with_suggestions(engine: AsyncEngine) -> None:
    deps = await deps_with(engine, "Zebra Cycles")
    with pytest.raises(NotFound, match=r"No customer matches 'Zebre Cycles S1'"):
        await customers.identify_leading(deps, words=("Zebre", "Cycles", "S1"))


async def test_several_matches_say_which_words_matched_them(engine: AsyncEngine) -> None:
    deps = await deps_with(engine, "Acme North", "Acme South")
    with pytest.raises(Ambiguous) as several:
        await customers.identify_leading(deps, words=("Acme", "S1"))
    assert several.value.query == "Acme"
    assert sorted(c.name for c in several.value.candidates) == ["Acme North", "Acme South"]
