"""The event stream of a backtest: bars, quotes and trades of many symbols in time order.

A bar becomes known when it closes, so its event time is its close: ``ts + timeframe``,
or with an exchange calendar the close of its session when that comes first (a daily
bar at 16:00 New York for XNYS, not at the next midnight); quotes and trades at their
own time. At equal times quotes come first, then trades, then bars, each
by symbol. The stream is a few aligned numpy arrays, so the engine loop touches no frames.

Rows keep the order they come in whenever each symbol's rows are in time order, as a
store returns them (symbol by symbol, or time by time across symbols): reordering ten
million rows costs more than the rest of building the stream, and a loop that reads
time-ordered rows in event order reads memory in sequence. Anything else is sorted by
symbol and time. :class:`SymbolRows` gives each symbol's rows, for features and history.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from cift.core.calendars import bar_closes
from cift.core.errors import ValidationError
from cift.model import Timeframe
from cift.model.schemas import DataKind, conform

QUOTE, TRADE, BAR = 0, 1, 2


@dataclass(frozen=True)
class SymbolRows:
    """Each symbol's rows in time order: symbol ``s`` has ``order[starts[s]:starts[s + 1]]``.
    When the rows already run symbol by symbol, ``order`` is None: each row is its own
    place."""

    order: np.ndarray | None
    starts: np.ndarray

    @classmethod
    def of(cls, symbol: np.ndarray, symbols: int, order: np.ndarray | None = None) -> SymbolRows:
        """The symbol order of rows whose symbols are ``symbol`` (indexes < ``symbols``)
        and in which each symbol's rows are in time order (``order``: that order, when
        already known)."""
        starts = np.zeros(symbols + 1, dtype=np.int64)
        np.cumsum(np.bincount(symbol, minlength=symbols), out=starts[1:])
        if order is None and not _ascending(symbol):
            order = stable_order(symbol, symbols)
        return cls(order, starts)

    @cached_property
    def place(self) -> np.ndarray:
        """Each row's place in ``order``."""
        assert self.order is not None
        place = np.empty_like(self.order)
        place[self.order] = np.arange(self.order.size)
        return place

    def gather(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (one row per row) with its rows symbol by symbol."""
        return frame if self.order is None else frame[self.order]

    def scatter(self, values: np.ndarray) -> array[float]:
        """Values given symbol by symbol, as doubles (:func:`doubles`) in row order."""
        if self.order is None:
            return doubles(values)
        rows = array("d", [0.0]) * values.size
        np.frombuffer(rows, dtype=np.float64)[self.order] = values
        return rows

    def latest(self, symbol: int, row: int, count: int) -> slice | np.ndarray:
        """The rows of ``symbol``'s last ``count`` values up to ``row``, oldest first."""
        at = row if self.order is None else int(self.place[row])
        first = max(int(self.starts[symbol]), at - count + 1)
        return slice(first, at + 1) if self.order is None else self.order[first : at + 1]


@dataclass
class Columns:
    """One kind of data as arrays; each symbol's rows in time order (see the module)."""

    frame: pl.DataFrame
    symbol: np.ndarray
    ts: np.ndarray
    values: dict[str, np.ndarray]
    symbols: int
    order: np.ndarray | None = None
    """The rows' symbol order, when building the stream had to find it."""

    @cached_property
    def by_symbol(self) -> SymbolRows:
        """Each symbol's rows (found once, when first needed)."""
        return SymbolRows.of(self.symbol, self.symbols, self.order)


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
    in_time, order = _each_symbol_in_time(symbol, ts, len(symbols))
    if not in_time:
        rows = rows.sort(index, "ts", maintain_order=True)
        symbol, ts = _keys(rows, index)
        order = None  # now symbol by symbol
    numeric = [c for c, t in rows.schema.items() if t.is_numeric() and c != "ts"]
    return Columns(
        frame=rows,
        symbol=symbol,
        ts=ts,
        values={c: rows.get_column(c).cast(pl.Float64).to_numpy() for c in numeric},
        symbols=len(symbols),
        order=order,
    )


def _keys(rows: pl.DataFrame, index: pl.Expr) -> tuple[np.ndarray, np.ndarray]:
    """Each row's symbol index and time (ns)."""
    keys = rows.select(index.alias("symbol"), pl.col("ts").dt.epoch("ns"))
    return keys.get_column("symbol").to_numpy(), keys.get_column("ts").to_numpy()


def _each_symbol_in_time(
    symbol: np.ndarray, ts: np.ndarray, symbols: int
) -> tuple[bool, np.ndarray | None]:
    """Whether each symbol's rows are in time order, checked in one pass when the rows
    run symbol by symbol or time by time, else through the symbol order, which comes
    back too (so that it is found once)."""
    if _ascending(ts) or _ascending_within(ts, symbol):
        return True, None
    order = stable_order(symbol, symbols)
    return _ascending_within(ts[order], symbol[order]), order


def _ascending(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


def _ascending_within(values: np.ndarray, groups: np.ndarray) -> bool:
    """Rows run group by group (ascending) with ``values`` not decreasing in each."""
    same = groups[1:] == groups[:-1]
    return bool(np.all((groups[1:] > groups[:-1]) | (same & (values[1:] >= values[:-1]))))


def stable_order(symbol: np.ndarray, symbols: int) -> np.ndarray:
    """Row numbers by symbol index, rows of one symbol in their order: a radix sort when
    the indexes fit 16 bits, as they do for any universe a backtest holds."""
    narrow = symbol.astype(np.int16) if symbols <= np.iinfo(np.int16).max else symbol
    return np.argsort(narrow, kind="stable")


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
    codes, rows, times = _order(parts)
    return EventStream(
        symbols=names,
        kind=codes,
        row=rows,
        time=times,
        bars=kinds[BAR],
        quotes=kinds[QUOTE],
        trades=kinds[TRADE],
    )


def _order(parts: list[tuple[int, Columns, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """Every event's kind, row and time in the stream's order: time, then kind, symbol and
    row. A single kind whose rows already are in that order (bars time by time) is
    taken as it is; otherwise each part is put in (symbol, row) order and, the parts
    being in kind order, a stable sort on time alone gives the stream's order."""
    if len(parts) == 1:
        code, columns, times = parts[0]
        if _ascending_within(columns.symbol, times):
            rows = np.arange(times.size)
            return np.full(times.size, code, dtype=np.int8), rows, times
    by_symbol = [
        np.arange(t.size) if c.by_symbol.order is None else c.by_symbol.order for _, c, t in parts
    ]
    times = np.concatenate([t[rows] for (_, _, t), rows in zip(parts, by_symbol, strict=True)])
    order = np.argsort(times, kind="stable")
    codes = np.concatenate([np.full(len(t), code, dtype=np.int8) for code, _, t in parts])
    return codes[order], np.concatenate(by_symbol)[order], times[order]
