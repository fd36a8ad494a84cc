"""Market-data stores: the embedded Parquet catalog (default) and QuestDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cift.data.store.base import CompactResult, MarketStore, WriteResult

if TYPE_CHECKING:
    from cift.core.settings import Settings


def open_store(settings: Settings) -> MarketStore:
    """The store ``CIFT_MARKET_STORE`` selects."""
    if settings.market_store == "questdb":
        from cift.data.store import questdb

        return questdb.create(settings)
    from cift.data.store import embedded

    return embedded.create(settings)


__all__ = ["CompactResult", "MarketStore", "WriteResult", "open_store"]
