"""The QuestDB market-data store: ILP/HTTP ingestion and SQL over the PostgreSQL wire."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cift.core.errors import ConfigurationError
from cift.data.store.base import time_bounds

if TYPE_CHECKING:
    from cift.core.settings import Settings
    from cift.data.store.questdb.store import QuestDBStore


def create(settings: Settings) -> QuestDBStore:
    """The store on the server named by ``CIFT_QUESTDB_PG_URL`` and ``CIFT_QUESTDB_ILP_CONF``."""
    try:
        from cift.data.store.questdb.client import PgClient
        from cift.data.store.questdb.ddl import TableNames
        from cift.data.store.questdb.store import QuestDBStore
    except ImportError as exc:
        raise ConfigurationError(
            f"CIFT_MARKET_STORE=questdb needs the QuestDB clients ({exc.name} is missing); "
            "pip install 'cift[questdb]'."
        ) from None
    client = PgClient(settings.questdb_pg_url.get_secret_value())
    names = TableNames(settings.questdb_table_prefix)
    conf = settings.questdb_ilp_conf.get_secret_value()
    return QuestDBStore(client, conf, names, time_bounds(settings))


__all__ = ["create"]
