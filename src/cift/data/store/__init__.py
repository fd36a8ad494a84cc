"""Market-data stores: the embedded Parquet catalog (default) and QuestDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cift.data.store.base import CompactResult, MarketStore, WriteResult

if TYPE_CHECKING:
    from cift.core.settings import Settings


def open_store(settings: Settings) -> MarketStore:
    """The store ``CIFT_MARKET_STORE`` selects."""
    from cift.data.store import embedded

    return embedded.create(settings)


__all__ = ["CompactResult", "MarketStore", "WriteResult", "open_store"]
