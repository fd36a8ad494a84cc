"""The provider protocol: every source of historical market data looks the same.

A provider yields pages (Polars frames in the ``cift.model`` schema of the kind asked
for) for some symbols over ``[start, end)``: ``start`` inclusive, ``end`` exclusive,
both timezone-aware. Pages may hold several symbols; rows are not yet validated (the
store validates on write and reports what it rejects).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import polars as pl

from cift.core.errors import ValidationError
from cift.model import DataKind, Timeframe


@dataclass(frozen=True)
class RateLimit:
    """How many requests a provider allows per period."""

    requests: int
    per_seconds: float


@runtime_checkable
class MarketDataProvider(Protocol):
    """A source of historical bars, trades and quotes."""

    name: str
    kinds: frozenset[DataKind]
    rate_limit: RateLimit | None

    def bars(
        self, symbols: Sequence[str], start: datetime, end: datetime, timeframe: Timeframe
    ) -> Iterator[pl.DataFrame]:
        """Pages of bars whose open time lies in ``[start, end)``."""
        ...

    def trades(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        """Pages of trades in ``[start, end)``, oldest first per symbol."""
        ...

    def quotes(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        """Pages of top-of-book quotes in ``[start, end)``, oldest first per symbol."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


def fetch(
    provider: MarketDataProvider,
    kind: DataKind,
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    timeframe: Timeframe | None = None,
) -> Iterator[pl.DataFrame]:
    """Dispatch on ``kind``; a clear error when the provider lacks it or bars lack a timeframe."""
    if kind not in provider.kinds:
        offered = ", ".join(sorted(k.value for k in provider.kinds))
        raise ValidationError(
            f"Provider {provider.name!r} has no {kind.value}; it offers {offered}."
        )
    check_range(start, end)
    if kind is DataKind.BARS:
        if timeframe is None:
            raise ValidationError(f"Bars need a timeframe, e.g. {Timeframe.EXAMPLES}.")
        return provider.bars(symbols, start, end, timeframe)
    if kind is DataKind.TRADES:
        return provider.trades(symbols, start, end)
    return provider.quotes(symbols, start, end)


def check_range(start: datetime, end: datetime) -> None:
    """Refuse naive datetimes and empty or inverted ranges."""
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise ValidationError(f"{name} {value.isoformat()} has no time zone; pass UTC times.")
    if end <= start:
        raise ValidationError(
            f"The range is empty: end {end.isoformat()} is not after start {start.isoformat()}."
        )
