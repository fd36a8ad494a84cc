"""Migrated metadata databases (SQLite, then PostgreSQL) for the execution tests, and a
trader's paper account on each."""

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cift.core.settings import Settings
from cift.db.models import Role, TradingAccount
from cift.execution.accounts import AccountSpec, open_account
from tests.security.conftest import any_db, any_db_settings, db, make_user, settings

__all__ = ["any_db", "any_db_settings", "db", "settings"]


@pytest.fixture
def account(any_db: sessionmaker[Session], any_db_settings: Settings) -> TradingAccount:
    owner = make_user(any_db, any_db_settings, "trader", Role.TRADER)
    spec = AccountSpec(name="paper-1", initial_cash=Decimal(100_000))
    return open_account(any_db, owner.id, spec)
