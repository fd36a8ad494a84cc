"""An API app on a migrated database, and a client for it signed in with an API key."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cift.api.app import create_app
from cift.audit import Actor
from cift.db.models import Role
from cift.identity import keys, users
from cift.identity.scopes import ROLE_SCOPES
from tests.conftest import SettingsFactory
from tests.schema import migrated

AppFactory = Callable[..., FastAPI]
FAST_HASHING = {"argon2_memory_kib": 8192, "argon2_time_cost": 1}
"""Cheaper Argon2id parameters so that fixtures creating users stay quick."""
PASSWORD = "correct horse battery staple"


def auth_headers(app: FastAPI, username: str = "tester", role: Role = Role.ADMIN) -> dict[str, str]:
    """Create a user with ``role`` and an API key with all of the role's scopes."""
    state = app.state.cift
    robot = Actor(None, "tests")
    user = users.create_user(
        state.db,
        state.settings,
        robot,
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        role=role,
    )
    _, key = keys.create_key(state.db, robot, user.id, "tests", ROLE_SCOPES[role])
    return {"X-API-Key": key}


@pytest.fixture
def make_app(make_settings: SettingsFactory) -> AppFactory:
    """Build an app on a freshly migrated embedded database, with setting overrides."""

    def factory(**overrides: object) -> FastAPI:
        return create_app(migrated(make_settings(**{**FAST_HASHING, **overrides})))

    return factory


@pytest.fixture
def app(make_app: AppFactory) -> FastAPI:
    return make_app()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_app(request: pytest.FixtureRequest, make_app: AppFactory) -> FastAPI:
    """An app on the embedded SQLite file, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return make_app()
    return make_app(database_url=request.getfixturevalue("postgres_database"))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client whose requests carry an admin's API key."""
    headers = auth_headers(app)
    with TestClient(app, raise_server_exceptions=False, headers=headers) as test_client:
        yield test_client
