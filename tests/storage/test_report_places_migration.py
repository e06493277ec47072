"""Migration 0005 moves the Slack thread of a link into the front door's own reference,
and no migration since loses the rows that hang off the tables it alters (SQLite rebuilds
a table to drop a column, and dropping the old one would cascade)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine
from storage.migrate import alembic_config, upgrade

ISSUED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def _links_of_stores(engine: AsyncEngine) -> list[tuple[int, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT consent_request_id, store_id FROM consent_request_stores")
        )
        return [(row[0], row[1]) for row in rows]


async def test_slack_columns_become_report_places_and_back(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0004")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO customers (id, name, name_key, cloudpos_group, licence, "
                    "api_key_encrypted, created_at, updated_at) VALUES (1, 'Acme', 'acme', 'acme', "
                    "'ProPlus', 'x', :at, :at)"
                ),
                {"at": ISSUED},
            )
            for row_id, channel, ts, choice in ((1, "C1", "111.1", "222.2"), (2, None, None, None)):
                await connection.execute(
                    text(
                        "INSERT INTO consent_requests (id, token_hash, customer_id, issued_by, "
                        "slack_channel_id, slack_message_ts, slack_choice_ts, status, "
                        "created_at, expires_at) VALUES (:id, :hash, 1, 'U1', :channel, :ts, "
                        ":choice, 'issued', :at, :at)"
                    ),
                    {
                        "id": row_id,
                        "hash": f"h{row_id}",
                        "channel": channel,
                        "ts": ts,
                        "choice": choice,
                        "at": ISSUED,
                    },
                )
            await connection.execute(
                text(
                    "INSERT INTO stores (id, customer_id, code, name, active_in_cloudpos, "
                    "status, status_changed_at) VALUES (1, 1, 'S001', 'Leeds', true, "
                    "'consent_sent', :at)"
                ),
                {"at": ISSUED},
            )
            await connection.execute(
                text(
                    "INSERT INTO consent_request_stores (consent_request_id, store_id) "
                    "VALUES (1, 1)"
                )
            )
        await upgrade(engine)
        assert await _links_of_stores(engine) == [(1, 1)]
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT id, report_to, choice_report FROM consent_requests ORDER BY id")
            )
            assert [tuple(row) for row in rows] == [(1, "C1/111.1", "222.2"), (2, None, None)]
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade, "0004")
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT slack_channel_id, slack_message_ts, slack_choice_ts "
                    "FROM consent_requests ORDER BY id"
                )
            )
            assert [tuple(row) for row in rows] == [("C1", "111.1", "222.2"), (None, None, None)]
        assert await _links_of_stores(engine) == [(1, 1)]
    finally:
        await engine.dispose()
