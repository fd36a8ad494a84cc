"""`cift db revision` writes a migration holding exactly the model changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, Table, inspect

from cift.core.errors import ValidationError
from cift.db import migrate
from cift.db.engine import create_db_engine
from cift.db.models import Base
from tests.conftest import SettingsFactory


@pytest.fixture
def scratch_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    return copy


def test_revision_captures_a_new_table(
    scratch_migrations: Path, make_settings: SettingsFactory
) -> None:
    engine = create_db_engine(make_settings())
    with pytest.raises(ValidationError, match="cift db upgrade"):
        migrate.new_revision(engine, "too early")
    migrate.upgrade(engine)
    probe = Table(
        "probe_notes",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("note", String(20)),
    )
    try:
        path = migrate.new_revision(engine, "add probe notes")
    finally:
        Base.metadata.remove(probe)
    text = path.read_text()
    assert path.parent == scratch_migrations / "versions"
    assert "op.create_table(" in text
    assert '"probe_notes"' in text or "'probe_notes'" in text
    previous_head = migrate.current_revision(engine)
    assert f"down_revision: str | None = {previous_head!r}" in text
    migrate.upgrade(engine)
    assert inspect(engine).has_table("probe_notes")
    assert migrate.current_revision(engine) not in (None, previous_head)
    engine.dispose()
