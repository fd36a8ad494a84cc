"""Migrations upgrade and downgrade cleanly, and match the models exactly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.db import migrate
from cift.db.engine import create_db_engine
from cift.db.models import Base
from tests.conftest import SettingsFactory

TABLES = {
    "users",
    "backfill_checkpoints",
    "api_keys",
    "sessions",
    "trading_accounts",
    "model_configurations",
    "backtests",
    "training_jobs",
    "audit_log",
    "alerts",
    "alert_deliveries",
    "orders",
    "order_events",
    "fills",
    "positions",
    "cash_movements",
    "trading_halts",
    "account_days",
    "trading_runs",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_settings(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Settings:
    """Settings on a metadata database with no schema yet: the embedded SQLite file, then
    an empty PostgreSQL database."""
    if request.param == "sqlite":
        return make_settings()
    return make_settings(database_url=request.getfixturevalue("empty_postgres_database"))


def test_upgrade_creates_every_table_and_reaches_head(db_settings: Settings) -> None:
    engine = create_db_engine(db_settings)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    engine.dispose()


def test_models_and_migrations_do_not_differ(db_settings: Settings) -> None:
    engine = create_db_engine(db_settings)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_downgrade_to_base_then_upgrade_again(db_settings: Settings) -> None:
    engine = create_db_engine(db_settings)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    engine.dispose()


def test_unknown_revision_is_a_clear_error(db_settings: Settings) -> None:
    engine = create_db_engine(db_settings)
    with pytest.raises(ValidationError, match="'nope'"):
        migrate.upgrade(engine, "nope")
    engine.dispose()


def test_processes_started_together_on_a_new_database_take_turns_migrating(
    db_settings: Settings,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIFT_")}
    env |= {"CIFT_HOME": str(db_settings.home)}
    if db_settings.database_url is not None:
        env["CIFT_DATABASE_URL"] = db_settings.database_url.get_secret_value()
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-m", "cift", "db", "upgrade"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in upgrades]
    assert [p.returncode for p in upgrades] == [0, 0, 0], outputs
    engine = create_db_engine(db_settings)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
