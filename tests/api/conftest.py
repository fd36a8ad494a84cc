"""An API app on a migrated database, and a client for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cift.api.app import create_app
from cift.core.settings import Settings
from cift.db import migrate
from cift.db.engine import create_db_engine
from tests.conftest import SettingsFactory

AppFactory = Callable[..., FastAPI]


def migrated(settings: Settings) -> Settings:
    engine = create_db_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    return settings


@pytest.fixture
def make_app(make_settings: SettingsFactory) -> AppFactory:
    """Build an app on a freshly migrated embedded database, with setting overrides."""

    def factory(**overrides: object) -> FastAPI:
        return create_app(migrated(make_settings(**overrides)))

    return factory


@pytest.fixture
def app(make_app: AppFactory) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
