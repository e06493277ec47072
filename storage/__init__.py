"""Persistence: SQLAlchemy engine and sessions, tables, Alembic migrations."""
