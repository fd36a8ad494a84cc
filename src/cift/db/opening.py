"""The one way to open the metadata database: an engine, its schema brought up to date,
sessions for the block, and the engine disposed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from cift.core.settings import Settings
from cift.db import migrate
from cift.db.engine import create_db_engine, session_factory


@contextmanager
def metadata_sessions(
    settings: Settings, *, upgrade: bool = True
) -> Iterator[sessionmaker[Session]]:
    """Sessions on ``settings``' metadata database for the block, migrated to the newest
    schema first (unless ``upgrade`` is False: a worker of a process that did it)."""
    engine = create_db_engine(settings)
    try:
        if upgrade:
            migrate.upgrade(engine)
        yield session_factory(engine)
    finally:
        engine.dispose()
