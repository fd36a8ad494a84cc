"""Store fixtures: the embedded catalog in a temporary folder and QuestDB on the real server.

Each QuestDB store gets its own table prefix (``t<hex>_``) on the shared server, so tests
never see each other's tables; its tables are dropped when the test ends.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cift.data.store.base import MarketStore
from cift.data.store.embedded import EmbeddedStore
from cift.data.store.questdb.client import PgClient
from cift.data.store.questdb.ddl import TableNames, quote
from cift.data.store.questdb.sql import Query
from cift.data.store.questdb.store import QuestDBStore
from tests.servers import Servers

BACKENDS = ["embedded", "questdb"]
StoreFactory = Callable[[], MarketStore]


@pytest.fixture(scope="session")
def questdb_endpoints(servers: Servers) -> tuple[str, str]:
    """The real QuestDB's PostgreSQL-wire URL and ILP configuration string."""
    pg_url = servers.address("questdb", "CIFT_TEST_QUESTDB_PG_URL")
    ilp_conf = servers.address("questdb", "CIFT_TEST_QUESTDB_ILP_CONF")
    return pg_url, ilp_conf


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


@pytest.fixture
def questdb_store(questdb_factory: Callable[[], QuestDBStore]) -> QuestDBStore:
    return questdb_factory()


@pytest.fixture(params=BACKENDS)
def store_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> StoreFactory:
    """Make empty stores of one backend: each test using it runs once per backend."""
    if request.param == "questdb":
        factory: Callable[[], QuestDBStore] = request.getfixturevalue("questdb_factory")
        return factory

    def embedded() -> MarketStore:
        return EmbeddedStore(Path(tmp_path_factory.mktemp("market")))

    return embedded


@pytest.fixture
def store(store_factory: StoreFactory) -> MarketStore:
    """An empty store, once on each backend."""
    return store_factory()
