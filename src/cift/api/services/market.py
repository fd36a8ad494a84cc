"""Market data for the API: cursor-paginated reads, coverage and quality reports."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from cift.core.errors import NothingMatchedError, ValidationError
from cift.core.timeutil import check_ns, from_ns, parse_when, range_end
from cift.data.datasets import bar_timeframe
from cift.data.quality import QualityReport, check_store
from cift.data.store.base import MarketStore
from cift.features.engine import compute
from cift.features.pipeline import stored_set_id
from cift.features.spec import name_columns, parse_call, split_calls
from cift.model import DataKind, Timeframe
from cift.model.schemas import empty_frame


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: the last row's time, and the value of the column
    that orders rows sharing a time (the trade id, for trades)."""

    ts_ns: int
    tie: str = ""

    def encode(self) -> str:
        raw = json.dumps([self.ts_ns, self.tie], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            ts_ns, tie = json.loads(base64.urlsafe_b64decode(padded))
            if not isinstance(tie, str):
                raise TypeError(tie)
            return cls(check_ns(ts_ns, "a cursor's time"), tie)
        except (binascii.Error, ValueError, TypeError, ValidationError):
            raise ValidationError(
                "The cursor is not one this API issued; pass the next_cursor of the previous "
                "page unchanged, or leave it out to start at the beginning."
            ) from None


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursor of the next page (None on the last one)."""

    rows: pl.DataFrame
    next_cursor: str | None


def window(
    start: str | None, end: str | None, after: Cursor | None
) -> tuple[datetime | None, datetime | None]:
    """The ``[low, high)`` time range to read: the user's range, moved past the cursor."""
    low = parse_when(start) if start else None
    high = range_end(start, end)
    if low is not None and high is not None and high <= low:
        raise ValidationError(f"end {end} is not after start {start}.")
    if after is not None:
        resume = from_ns(after.ts_ns)
        low = resume if low is None or resume > low else low
    return low, high


def paginate(frame: pl.LazyFrame, limit: int, after: Cursor | None, tie: str | None) -> Page:
    """Up to ``limit`` rows after the cursor; rows sharing a time are ordered by ``tie``."""
    if after is not None:
        ns = pl.col("ts").dt.epoch("ns")
        later = ns > after.ts_ns
        if tie is not None:
            later = later | ((ns == after.ts_ns) & (pl.col(tie) > after.tie))
        frame = frame.filter(later)
    rows = frame.head(limit + 1).collect()
    if rows.height <= limit:
        return Page(rows, None)
    rows = rows.head(limit)
    ts_ns = int(rows.get_column("ts").dt.epoch("ns")[limit - 1])
    last_tie = str(rows.item(limit - 1, tie)) if tie is not None else ""
    return Page(rows, Cursor(ts_ns, last_tie).encode())


def read_page(
    store: MarketStore,
    kind: DataKind,
    *,
    symbol: str,
    start: str | None,
    end: str | None,
    timeframe: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Rows of one symbol in ``[start, end)`` after ``cursor``, at most ``limit`` of them."""
    after = Cursor.decode(cursor) if cursor else None
    low, high = window(start, end, after)
    tf = None
    if kind is DataKind.BARS:
        tf = bar_timeframe(store, [symbol], Timeframe.parse(timeframe) if timeframe else None)
        if tf is None:  # no bars of this symbol: an empty page, like any unknown symbol
            return paginate(empty_frame(kind).lazy(), limit, after, None)
    frame = store.read(kind, symbols=[symbol], start=low, end=high, timeframe=tf)
    return paginate(frame, limit, after, "trade_id" if kind is DataKind.TRADES else None)


def compute_feature_page(
    store: MarketStore,
    *,
    symbol: str,
    features: str,
    start: str | None,
    end: str | None,
    timeframe: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Catalog features computed on the stored bars of ``[start, end)``, page by page
    (``timeframe``: the one stored for the symbol when not given).

    Every page computes over the whole range, so a value at t never depends on where a
    page starts (warm-up rows at the start of the range are null)."""
    calls = name_columns([parse_call(text) for text in split_calls(features)])
    after = Cursor.decode(cursor) if cursor else None
    low, high = window(start, end, None)
    tf = bar_timeframe(store, [symbol], Timeframe.parse(timeframe) if timeframe else None)
    if tf is None:
        raise NothingMatchedError(f"No bars stored for {symbol!r}; see GET /market/coverage.")
    bars = store.read(DataKind.BARS, symbols=[symbol], start=low, end=high, timeframe=tf).collect()
    columns = [column for call in calls for column in call.columns]
    values = compute(bars, calls).select("ts", *columns)
    return paginate(values.lazy(), limit, after, None)


def read_feature_page(
    store: MarketStore,
    set_id: str,
    *,
    symbol: str,
    start: str | None,
    end: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Stored values of a feature set for one symbol, page by page."""
    after = Cursor.decode(cursor) if cursor else None
    low, high = window(start, end, after)
    frame = store.read_features(stored_set_id(store, set_id), symbols=[symbol], start=low, end=high)
    return paginate(frame, limit, after, None)


def coverage(store: MarketStore, kind: DataKind | None) -> pl.DataFrame:
    """What the store holds."""
    return store.coverage(kind)


def quality(
    store: MarketStore,
    kind: DataKind,
    *,
    symbols: list[str] | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    calendar: str,
) -> QualityReport:
    """The quality report of stored rows."""
    chosen = Timeframe.parse(timeframe) if timeframe else None
    return check_store(
        store,
        kind,
        symbols=symbols,
        timeframe=bar_timeframe(store, symbols, chosen) if kind is DataKind.BARS else None,
        start=parse_when(start) if start else None,
        end=range_end(start, end),
        calendar=calendar,
    )
