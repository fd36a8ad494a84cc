"""The event stream of a backtest: bars, quotes and trades of many symbols in time order.

A bar becomes known when it closes, so its event time is its close: ``ts + timeframe``,
or with an exchange calendar the close of its session when that comes first (a daily
bar at 16:00 New York for XNYS, not at the next midnight); quotes and trades at their
own time. At equal times quotes come first, then trades, then bars, each
by symbol. The stream is a few aligned numpy arrays, so the engine loop touches no frames.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
import polars as pl

from cift.core.errors import ValidationError
from cift.model import Timeframe
from cift.model.schemas import DataKind, conform

QUOTE, TRADE, BAR = 0, 1, 2


@dataclass
class Columns:
    """One kind of data as arrays, rows ordered by symbol then time."""

    frame: pl.DataFrame
    symbol: np.ndarray
    ts: np.ndarray
    values: dict[str, np.ndarray]


@dataclass
class EventStream:
    symbols: list[str]
    kind: np.ndarray
    row: np.ndarray
    time: np.ndarray
    bars: Columns | None
    quotes: Columns | None
    trades: Columns | None

    def __len__(self) -> int:
        return int(self.kind.shape[0])


def doubles(values: np.ndarray) -> array[float]:
    """Values as a flat array of doubles: indexing and iterating it is as quick as a
    list's, at a quarter of the memory, and the garbage collector has nothing to scan
    in it (a list of floats is scanned at every collection while it lives). One copy."""
    flat = array("d")
    flat.frombytes(np.ascontiguousarray(values, dtype=np.float64).data.cast("B"))
    return flat


def longs(values: np.ndarray) -> array[int]:
    """Integer values (times, rows, symbol indexes) as a flat array of int64."""
    flat = array("q")
    flat.frombytes(np.ascontiguousarray(values, dtype=np.int64).data.cast("B"))
    return flat


def _columns(frame: pl.DataFrame, kind: DataKind, symbols: dict[str, int]) -> Columns:
    rows = conform(frame, kind).collect()
    index = pl.col("symbol").cast(pl.Enum(list(symbols))).to_physical().cast(pl.Int64)
    symbol, ts = _keys(rows, index)
    if not _in_order(symbol, ts):  # a frame read from the store in order skips the sort
        rows = rows.sort(index, "ts", maintain_order=True)
        symbol, ts = _keys(rows, index)
    numeric = [c for c, t in rows.schema.items() if t.is_numeric() and c != "ts"]
    return Columns(
        frame=rows,
        symbol=symbol,
        ts=ts,
        values={c: rows.get_column(c).cast(pl.Float64).to_numpy() for c in numeric},
    )


def _keys(rows: pl.DataFrame, index: pl.Expr) -> tuple[np.ndarray, np.ndarray]:
    """Each row's symbol index and time (ns)."""
    keys = rows.select(index.alias("symbol"), pl.col("ts").dt.epoch("ns"))
    return keys.get_column("symbol").to_numpy(), keys.get_column("ts").to_numpy()


def _in_order(symbol: np.ndarray, ts: np.ndarray) -> bool:
    """Ordered by symbol index, then time."""
    same = symbol[1:] == symbol[:-1]
    return bool(np.all((symbol[1:] > symbol[:-1]) | (same & (ts[1:] >= ts[:-1]))))


def _event_times(
    code: int, ts: np.ndarray, timeframe: Timeframe | None, calendar: str | None
) -> np.ndarray:
    if code != BAR:
        return ts
    return bar_close_times(ts, timeframe, calendar)


def bar_close_times(
    ts: np.ndarray, timeframe: Timeframe | None, calendar: str | None = None
) -> np.ndarray:
    """When bars opened at ``ts`` (ns) close: one timeframe later, or at their session's
    close on ``calendar`` when that comes first; ``ts`` itself without a timeframe."""
    if timeframe is None:
        return ts
    if calendar is None:
        return ts + timeframe.nanos
    # Imported here: exchange calendars bring pandas, which a run without one never needs.
    from cift.core.calendars import bar_closes

    return bar_closes(ts, timeframe.nanos, calendar)


def build(
    bars: pl.DataFrame | None,
    timeframe: Timeframe | None,
    quotes: pl.DataFrame | None = None,
    trades: pl.DataFrame | None = None,
    calendar: str | None = None,
) -> EventStream:
    """Merge the given data into one stream; bars close per ``calendar`` when given."""
    frames = [f for f in (bars, quotes, trades) if f is not None and not f.is_empty()]
    if not frames:
        raise ValidationError("A backtest needs data: bars, quotes or trades, none are given.")
    if bars is not None and timeframe is None:
        raise ValidationError("Bars need their timeframe to know when each one closes.")
    names = sorted(set().union(*(f.get_column("symbol").unique().to_list() for f in frames)))
    index = {symbol: i for i, symbol in enumerate(names)}
    parts: list[tuple[int, Columns, np.ndarray]] = []
    kinds: dict[int, Columns | None] = {}
    for code, frame, kind in (
        (QUOTE, quotes, DataKind.QUOTES),
        (TRADE, trades, DataKind.TRADES),
        (BAR, bars, DataKind.BARS),
    ):
        if frame is None or frame.is_empty():
            kinds[code] = None
            continue
        columns = _columns(frame, kind, index)
        kinds[code] = columns
        parts.append((code, columns, _event_times(code, columns.ts, timeframe, calendar)))
    # Each part is in (symbol, row) order and the parts in kind order, so a stable sort on
    # time alone gives the stream's order: time, then kind, symbol and row.
    times = np.concatenate([t for _, _, t in parts])
    order = np.argsort(times, kind="stable")
    codes = np.concatenate([np.full(len(t), code, dtype=np.int8) for code, _, t in parts])
    rows = np.concatenate([np.arange(len(t)) for _, _, t in parts])
    return EventStream(
        symbols=names,
        kind=codes[order],
        row=rows[order],
        time=times[order],
        bars=kinds[BAR],
        quotes=kinds[QUOTE],
        trades=kinds[TRADE],
    )
