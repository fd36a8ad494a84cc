"""Migrated metadata databases (SQLite, then PostgreSQL) for the execution tests."""

from tests.security.conftest import any_db, any_db_settings, db, settings

__all__ = ["any_db", "any_db_settings", "db", "settings"]
