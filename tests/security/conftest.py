"""Fixtures for the security tests: a migrated metadata database on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cift.audit import Actor
from cift.core.settings import Settings
from cift.db.engine import session_factory
from cift.db.models import Role, User
from cift.identity import users
from tests.conftest import SettingsFactory
from tests.schema import migrated_engine

FAST_HASHING: dict[str, Any] = {"argon2_memory_kib": 8192, "argon2_time_cost": 1}
"""Cheaper Argon2id parameters so tests that create many users stay quick."""
PASSWORD = "correct horse battery staple"
ROBOT = Actor(None, "tests")


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings(**FAST_HASHING)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_settings(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Settings:
    """Settings on the embedded SQLite file, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return make_settings(**FAST_HASHING)
    url = request.getfixturevalue("postgres_database")
    return make_settings(database_url=url, **FAST_HASHING)


def _migrated_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = migrated_engine(settings)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def db(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated SQLite database."""
    yield from _migrated_sessions(settings)


@pytest.fixture
def any_db(any_db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated database, SQLite then PostgreSQL."""
    yield from _migrated_sessions(any_db_settings)


def make_user(
    db: sessionmaker[Session], settings: Settings, name: str, role: Role = Role.TRADER
) -> User:
    return users.create_user(
        db,
        settings,
        ROBOT,
        username=name,
        email=f"{name}@example.com",
        password=PASSWORD,
        role=role,
    )
