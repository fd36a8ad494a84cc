"""Store fixtures: the embedded catalog in a temporary folder and QuestDB on the real
server (``questdb_factory`` in the root conftest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cift.data.store.base import MarketStore
from cift.data.store.embedded import EmbeddedStore
from cift.data.store.questdb.store import QuestDBStore

BACKENDS = ["embedded", "questdb"]
StoreFactory = Callable[[], MarketStore]


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
