"""Shared fixtures: isolated settings, real PostgreSQL databases and Redis.

Tests that need a server run against the real one. Outside CI a missing server skips
them with the reason; with ``CI=true`` a missing server is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy import make_url

from cift.core.settings import Environment, Settings, load_settings

POSTGRES_URL = os.environ.get(
    "CIFT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CIFT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SettingsFactory = Callable[..., Settings]


def server_missing(what: str, error: Exception) -> None:
    """Skip locally, fail in CI: CI must exercise every real backend."""
    message = f"{what} is not reachable ({error}); start it or set its CIFT_TEST_* URL"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's CIFT_* variables or .env file."""
    for name in list(os.environ):
        if name.startswith("CIFT_") and not name.startswith("CIFT_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Settings for a test: its own CIFT_HOME, test environment, TestClient's host allowed."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": Environment.TEST,
            "home": tmp_path / "home",
            "trusted_hosts": ["testserver", "localhost", "127.0.0.1"],
            **overrides,
        }
        return load_settings(**values)

    return factory


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin_url = make_url(POSTGRES_URL)
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"cift_test_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        server_missing("PostgreSQL", exc)
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_settings(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Settings:
    """Settings on each metadata backend in turn: the embedded SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return make_settings()
    url = request.getfixturevalue("postgres_database")
    return make_settings(database_url=url)


@pytest.fixture
def redis_url() -> str:
    """The URL of the real Redis server."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        server_missing("Redis", exc)
    finally:
        client.close()
    return REDIS_URL
