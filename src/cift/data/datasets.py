"""Which stored dataset a request means when it leaves the kind or the bar length out.

The CLI and the API ask the same way: a kind or timeframe that is not given is the one
stored, when only one is; several stored give an error that lists them, never a silent
pick (a default of one-minute bars used to answer "nothing" for a store of daily bars).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cift.core.errors import NotFoundError, ValidationError
from cift.data.store import MarketStore
from cift.model import DataKind, Timeframe
from cift.model.symbols import canonical_symbol
from cift.model.validation import check_symbols


def pick_dataset(
    store: MarketStore, symbol: str, kind: DataKind | None, timeframe: Timeframe | None
) -> tuple[DataKind, Timeframe | None]:
    """The kind and timeframe of ``symbol``'s data: as given, or the only ones stored."""
    symbol = canonical_symbol(symbol)
    coverage = store.coverage(kind).filter(pl.col("symbol") == symbol)
    if timeframe is not None:
        coverage = coverage.filter(pl.col("timeframe") == str(timeframe))
    stored = sorted({(k, tf or "") for k, tf in coverage.select("kind", "timeframe").iter_rows()})
    if not stored:
        what = f"{kind.value}{f' of {timeframe}' if timeframe else ''}" if kind else "data"
        raise NotFoundError(f"No {what} stored for {symbol!r}; see 'cift data ls'.")
    if len(stored) > 1:
        choices = ", ".join(f"{k} {tf}".strip() for k, tf in stored)
        raise ValidationError(
            f"{symbol} has several datasets stored ({choices}); name the kind and timeframe of one."
        )
    found_kind, found_tf = stored[0]
    return DataKind(found_kind), Timeframe.parse(found_tf) if found_tf else None


def bar_timeframe(
    store: MarketStore, symbols: Sequence[str] | None, timeframe: Timeframe | None
) -> Timeframe | None:
    """The bar length to read for ``symbols`` (all when None): as given, or the only one
    stored for them; None when they have no bars at all."""
    if timeframe is not None:
        return timeframe
    coverage = store.coverage(DataKind.BARS)
    if symbols:
        coverage = coverage.filter(pl.col("symbol").is_in(check_symbols(symbols) or ()))
    stored = sorted(set(coverage.get_column("timeframe").drop_nulls().to_list()))
    if len(stored) > 1:
        raise ValidationError(
            f"Bars of several timeframes are stored ({', '.join(stored)}); name one."
        )
    return Timeframe.parse(stored[0]) if stored else None
