"""A migrated SQLite metadata database for the model-configuration tests."""

from tests.security.conftest import db, settings

__all__ = ["db", "settings"]
