"""Shared fixtures: isolated settings, real PostgreSQL databases, Redis, QuestDB and Kafka.

Tests that need a server run against the real one, started by ``deploy/local/services.py``
(see ``tests/servers.py``). Outside CI a server that cannot start skips its tests with the
reason; with ``CI=true`` it is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy import make_url

from cift.core.settings import Environment, Settings, load_settings
from cift.data.store.questdb.client import PgClient
from cift.data.store.questdb.ddl import TableNames, quote
from cift.data.store.questdb.sql import Query
from cift.data.store.questdb.store import QuestDBStore
from tests.fresh import Reap, reaped
from tests.schema import create_postgres, drop_postgres
from tests.servers import Servers, server_missing

SettingsFactory = Callable[..., Settings]


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """The real servers of this session; those it started are stopped at its end."""
    running = Servers()
    yield running
    running.stop_started()


@pytest.fixture(scope="session")
def postgres_admin_url(servers: Servers) -> str:
    """A superuser URL of the real PostgreSQL server (its ``postgres`` database)."""
    return servers.address("postgres", "CIFT_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's CIFT_* variables or .env file."""
    for name in list(os.environ):
        if name.startswith("CIFT_") and not name.startswith("CIFT_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def reap() -> Iterator[Reap]:
    """``reap(process)`` returns the process and kills it when the test ends, failed or
    not, if it is still running (``tests.fresh.reaped``)."""
    with reaped() as track:
        yield track


@pytest.fixture
def calendar_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the exchange calendars built during the test, in order (each takes
    about 0.3 s, so how often one is built is worth a test)."""
    import exchange_calendars as xcals

    built: list[str] = []
    build = xcals.get_calendar

    def counted(name: str, **kwargs: Any) -> xcals.ExchangeCalendar:
        built.append(name)
        return build(name, **kwargs)

    monkeypatch.setattr(xcals, "get_calendar", counted)
    return built


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


@contextmanager
def _database(admin_url: str, *, schema: bool) -> Iterator[str]:
    """A new database for the block (at the newest schema, or empty), dropped afterwards."""
    url = make_url(admin_url).set(database=f"cift_test_{secrets.token_hex(6)}")
    try:
        create_postgres(url, schema=schema)
    except psycopg.OperationalError as exc:
        server_missing("PostgreSQL", exc)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        drop_postgres(url)


@pytest.fixture
def postgres_database(postgres_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the newest schema for one test, dropped afterwards
    (a copy of a template migrated once per test process: see ``tests/schema.py``)."""
    with _database(postgres_admin_url, schema=True) as url:
        yield url


@pytest.fixture
def empty_postgres_database(postgres_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database with no schema yet, for the tests of migrating."""
    with _database(postgres_admin_url, schema=False) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_settings(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Settings:
    """Settings on each metadata backend in turn: the embedded SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return make_settings()
    url = request.getfixturevalue("postgres_database")
    return make_settings(database_url=url)


@pytest.fixture
def redis_url(servers: Servers) -> str:
    """The URL of the real Redis server."""
    url = servers.address("redis", "CIFT_TEST_REDIS_URL")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        server_missing("Redis", exc)
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def questdb_endpoints(servers: Servers) -> tuple[str, str]:
    """The real QuestDB's PostgreSQL-wire URL and ILP configuration string."""
    pg_url = servers.address("questdb", "CIFT_TEST_QUESTDB_PG_URL")
    ilp_conf = servers.address("questdb", "CIFT_TEST_QUESTDB_ILP_CONF")
    return pg_url, ilp_conf


@pytest.fixture(scope="session")
def mlflow_uri(servers: Servers) -> str:
    """The URL of the real MLflow tracking server (runs and registry persist across
    tests: name models uniquely)."""
    return servers.address("mlflow", "CIFT_TEST_MLFLOW_TRACKING_URI")


def drop_tables(client: PgClient, prefix: str) -> None:
    """Drop every table whose name starts with ``prefix``."""
    for (name,) in client.rows(Query("SELECT table_name FROM tables()")):
        if str(name).startswith(prefix):
            client.execute(f"DROP TABLE IF EXISTS {quote(str(name))}")


@pytest.fixture
def questdb_factory(questdb_endpoints: tuple[str, str]) -> Iterator[Callable[[], QuestDBStore]]:
    """Make QuestDB stores, each under a table prefix of its own; dropped afterwards."""
    pg_url, ilp_conf = questdb_endpoints
    made: list[QuestDBStore] = []

    def make() -> QuestDBStore:
        names = TableNames(f"t{secrets.token_hex(5)}_")
        store = QuestDBStore(PgClient(pg_url), ilp_conf, names)
        made.append(store)
        return store

    yield make
    for store in made:
        assert isinstance(store.client, PgClient)
        drop_tables(store.client, store.names.prefix)
        store.close()
