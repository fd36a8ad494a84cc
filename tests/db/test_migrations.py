"""Migrations upgrade and downgrade cleanly, and match the models exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.db import migrate
from cift.db.engine import create_db_engine
from cift.db.models import Base
from tests.conftest import SettingsFactory
from tests.fresh import fresh_python

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


def test_the_head_is_alembics_head() -> None:
    assert (
        migrate.head_revision() == ScriptDirectory(str(migrate.MIGRATIONS_DIR)).get_current_head()
    )


def test_a_merge_script_is_the_head_alembic_finds(tmp_path: Path) -> None:
    """Branches and their merge (a tuple ``down_revision``), in plain and annotated
    assignments among other statements: the head read from the source is Alembic's."""
    versions = tmp_path / "versions"
    versions.mkdir()
    scripts = {
        "a": 'revision = "a"\ndown_revision = None\nbranch_labels = None\n',
        "b": 'import sqlalchemy as sa\nrevision: str = "b"\ndown_revision: str | None = "a"\n',
        "c": 'import sqlalchemy as sa\nrevision = "c"\ndown_revision = "a"\nT = sa.table("t")\n',
        "d": '"""Merge."""\nrevision = "d"\ndown_revision = ("b", "c")\n',
    }
    for name, source in scripts.items():
        (versions / f"{name}.py").write_text(source + "def upgrade():\n    pass\n")
    assert migrate._script_ids(versions / "d.py", 0) == ("d", ("b", "c"))
    assert migrate._script_ids(versions / "a.py", 0) == ("a", ())
    assert migrate.head_of(versions) == ScriptDirectory(str(tmp_path)).get_current_head() == "d"
    (versions / "d.py").unlink()  # two branches left unmerged
    with pytest.raises(ValidationError, match=r"2 newest revisions \['b', 'c'\].*merge script"):
        migrate.head_of(versions)


def test_opening_a_database_at_head_does_not_load_alembic(make_settings: SettingsFactory) -> None:
    """Every command opens the metadata database; at the newest schema that takes no
    Alembic (0.1-0.2 s of imports), while a database behind it is still migrated."""
    home = make_settings().home
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from cift.core.settings import load_settings\n"
        "from cift.db.opening import metadata_sessions\n"
        "with metadata_sessions(load_settings(home=Path(sys.argv[1]))):\n    pass\n"
        "print('alembic' in sys.modules)\n"
    )
    assert fresh_python(script, str(home)) == ["True"]  # a new home: migrated
    assert fresh_python(script, str(home)) == ["False"]  # at head
