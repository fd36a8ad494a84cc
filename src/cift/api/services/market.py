"""Market data for the API: cursor-paginated reads, coverage and quality reports."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

import polars as pl

from cift.core.errors import ValidationError
from cift.core.timeutil import from_ns, parse_when
from cift.data.quality import QualityReport, check_store
from cift.data.store.base import MarketStore
from cift.model import DataKind, Timeframe


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: the last row's time (and trade id, for trades)."""

    ts_ns: int
    trade_id: str = ""

    def encode(self) -> str:
        raw = json.dumps([self.ts_ns, self.trade_id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            ts_ns, trade_id = json.loads(base64.urlsafe_b64decode(padded))
            return cls(int(ts_ns), str(trade_id))
        except (binascii.Error, ValueError, TypeError, json.JSONDecodeError):
            raise ValidationError(
                "The cursor is not one this API issued; pass the next_cursor of the previous "
                "page unchanged, or leave it out to start at the beginning."
            ) from None


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursor of the next page (None on the last one)."""

    rows: pl.DataFrame
    next_cursor: str | None


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
    low = parse_when(start) if start else None
    high = parse_when(end, end=True) if end else None
    if low is not None and high is not None and high <= low:
        raise ValidationError(f"end {end} is not after start {start}.")
    after = Cursor.decode(cursor) if cursor else None
    if after is not None:
        resume = from_ns(after.ts_ns)
        low = resume if low is None or resume > low else low
    tf = Timeframe.parse(timeframe or "1m") if kind is DataKind.BARS else None
    frame = store.read(kind, symbols=[symbol], start=low, end=high, timeframe=tf)
    if after is not None:
        ns = pl.col("ts").dt.epoch("ns")
        later = ns > after.ts_ns
        if kind is DataKind.TRADES:
            later = later | ((ns == after.ts_ns) & (pl.col("trade_id") > after.trade_id))
        frame = frame.filter(later)
    rows = frame.head(limit + 1).collect()
    if rows.height <= limit:
        return Page(rows, None)
    rows = rows.head(limit)
    last = rows.row(limit - 1, named=True)
    ts_ns = int(rows.get_column("ts").dt.epoch("ns")[limit - 1])
    next_cursor = Cursor(ts_ns, str(last.get("trade_id") or "")).encode()
    return Page(rows, next_cursor)


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
    return check_store(
        store,
        kind,
        symbols=symbols,
        timeframe=Timeframe.parse(timeframe or "1m") if kind is DataKind.BARS else None,
        start=parse_when(start) if start else None,
        end=parse_when(end, end=True) if end else None,
        calendar=calendar,
    )
