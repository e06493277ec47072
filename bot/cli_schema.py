"""What every command that uses the database checks first."""

from __future__ import annotations

from bot.settings import Settings, SettingsError
from storage.engine import create_engine, missing_sqlite_file
from storage.migrate import is_current


async def require_current_schema(settings: Settings) -> None:
    """Checked before anything else runs; a SQLite file is never created by this check."""
    missing = missing_sqlite_file(settings.database_url)
    if missing is not None:
        raise SettingsError(
            f"There is no database at {missing}: run `xero-bot migrate` first to create it, "
            "or set DATABASE_URL to the database to use."
        )
    engine = create_engine(settings.database_url)
    try:
        if not await is_current(engine):
            raise SettingsError("The database schema is out of date: run `xero-bot migrate` first.")
    finally:
        await engine.dispose()
