"""The ``files`` provider: CSV and Parquet files as a source of market data."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import polars as pl
from loguru import logger

from cift.core.errors import ValidationError
from cift.core.timeutil import STORABLE_RANGE
from cift.data.files import FileMapping, load
from cift.model import DataKind, Timeframe

from ..base import RateLimit

PAGE_ROWS = 1_000_000


class FilesProvider:
    """Serves the rows of local files for symbols and a time range."""

    name = "files"
    kinds = frozenset(DataKind)
    rate_limit: RateLimit | None = None

    def __init__(self, paths: Sequence[Path], mapping: FileMapping | None = None) -> None:
        if not paths:
            raise ValidationError("The files provider needs at least one file path.")
        self.paths = list(paths)
        self.mapping = mapping or FileMapping()

    def _pages(
        self,
        kind: DataKind,
        symbols: Sequence[str],
        start: datetime,
        end: datetime,
        timeframe: Timeframe | None = None,
    ) -> Iterator[pl.DataFrame]:
        wanted = set(symbols)
        low, high = (
            pl.lit(start).cast(pl.Datetime("ns", "UTC")),
            pl.lit(end).cast(pl.Datetime("ns", "UTC")),
        )
        for path in self.paths:
            loaded = load(path, self.mapping)
            if loaded.kind is not kind:
                continue
            if loaded.unstorable.height:
                logger.warning(
                    "{}: {} row(s) skipped, their time is outside {} "
                    "(cift data import counts them as time_out_of_bounds)",
                    path,
                    loaded.unstorable.height,
                    STORABLE_RANGE,
                )
            if timeframe is not None and loaded.timeframe != timeframe:
                continue
            rows = loaded.frame.filter(
                pl.col("symbol").is_in(wanted) & (pl.col("ts") >= low) & (pl.col("ts") < high)
            )
            yield from rows.iter_slices(PAGE_ROWS)

    def bars(
        self, symbols: Sequence[str], start: datetime, end: datetime, timeframe: Timeframe
    ) -> Iterator[pl.DataFrame]:
        return self._pages(DataKind.BARS, symbols, start, end, timeframe)

    def trades(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        return self._pages(DataKind.TRADES, symbols, start, end)

    def quotes(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        return self._pages(DataKind.QUOTES, symbols, start, end)

    def close(self) -> None:
        """Nothing stays open between pages."""
