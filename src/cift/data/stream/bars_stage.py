"""The bars stage: trades from the bus into live bars, stored and published.

A window's bar is made once event time (the newest trade seen, less the allowed
lateness) has passed the window's end, by the same aggregation as ``cift data`` over
the same trades (sorted by the store's key), so a live bar equals the batch bar. A trade
batch is acknowledged once every trade in it belongs to a bar that is stored; on a
restart the redelivered trades of windows already stored are dropped, not counted twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import polars as pl

from cift.data.aggregate import trades_to_bars, window_start
from cift.data.bus import Delivery, EventBus
from cift.data.store.base import MarketStore
from cift.data.stream.metrics import StageMetrics
from cift.data.stream.stage import (
    Outcome,
    StageStats,
    consume,
    newest_ns,
    publish_waiting,
    symbol_values,
)
from cift.model import KEY_COLUMNS, SCHEMAS, DataKind, Timeframe

BARS_GROUP = "bars"
IDLE_SECONDS = 10.0
"""Wall time after which a quiet symbol's open windows are closed anyway."""
_WINDOW = "_window"


class LiveBars:
    """Trades in, bars of closed windows out."""

    def __init__(
        self,
        timeframe: Timeframe,
        *,
        lateness_ns: int = 0,
        idle_seconds: float = IDLE_SECONDS,
        made_until: dict[str, int] | None = None,
    ) -> None:
        self.timeframe = timeframe
        self.lateness_ns = lateness_ns
        self.idle_seconds = idle_seconds
        self._heard: dict[str, float] = {}  # symbol -> when its last trade came (monotonic)
        self.made_until: dict[str, int] = dict(made_until or {})
        """Per symbol, the open time (ns) of the newest bar made (or found stored)."""
        self.newest: dict[str, int] = {}
        """Per symbol, the time (ns) of its newest trade: its own event time."""
        self.late_trades = 0
        self._open = pl.DataFrame(schema=SCHEMAS[DataKind.TRADES] | {_WINDOW: pl.Int64()})

    def add(self, trades: pl.DataFrame) -> pl.DataFrame:
        """Take a batch of trades; the bars of the windows that closed.

        Event time is each symbol's own: the bus keeps a symbol's trades in order but
        not the order between symbols (Kafka partitions are read at their own pace), so
        one symbol's trades never close another's window. A symbol that has sent nothing
        for ``idle_seconds`` has its windows closed once another symbol's trades are past
        their end, so a quiet symbol's bar (and the trades behind it) is not held
        forever."""
        fresh = self._admit(trades)
        latest = fresh.group_by("symbol").agg(pl.col("ts").dt.epoch("ns").max())
        now = time.monotonic()
        for symbol, newest in latest.iter_rows():
            self.newest[symbol] = max(self.newest.get(symbol, newest), newest)
            self._heard[symbol] = now
        edges = symbol_values(self.newest, "_edge").with_columns(
            pl.col("_edge") - self.lateness_ns - self.timeframe.nanos
        )
        marked = self._open.join(edges, on="symbol", how="left")
        window = marked.get_column(_WINDOW)
        closed = (window <= marked.get_column("_edge")).fill_null(False)
        quiet = [s for s, heard in self._heard.items() if now - heard >= self.idle_seconds]
        if quiet:
            passed = max(self.newest.values()) - self.timeframe.nanos
            closed = closed | (marked.get_column("symbol").is_in(quiet) & (window <= passed))
        return self._take(closed)

    def flush(self) -> pl.DataFrame:
        """The bars of every window still open (the stream has ended)."""
        return self._take(pl.Series([True] * self._open.height, dtype=pl.Boolean))

    @property
    def oldest_open_ns(self) -> int | None:
        """The open time of the oldest window still collecting trades."""
        if self._open.is_empty():
            return None
        value: int = self._open.get_column(_WINDOW).min()  # type: ignore[assignment]
        return value

    def _admit(self, trades: pl.DataFrame) -> pl.DataFrame:
        """The trades of windows not made yet, each key once; late ones counted."""
        rows = trades.select(list(SCHEMAS[DataKind.TRADES])).with_columns(
            window_start(self.timeframe).dt.epoch("ns").alias(_WINDOW)
        )
        joined = rows.join(symbol_values(self.made_until, "_made"), on="symbol", how="left")
        keep = pl.col("_made").is_null() | (pl.col(_WINDOW) > pl.col("_made"))
        fresh = joined.filter(keep).drop("_made")
        self.late_trades += rows.height - fresh.height
        self._open = pl.concat([self._open, fresh]).unique(
            list(KEY_COLUMNS[DataKind.TRADES]), keep="first", maintain_order=True
        )
        return fresh

    def _take(self, closed: pl.Series) -> pl.DataFrame:
        ready = self._open.filter(closed)
        self._open = self._open.filter(~closed)
        bars = self._bars(ready)
        newest = bars.group_by("symbol").agg(pl.col("ts").dt.epoch("ns").max())
        self.made_until.update(dict(newest.iter_rows()))
        return bars

    def _bars(self, trades: pl.DataFrame) -> pl.DataFrame:
        ordered = trades.drop(_WINDOW).sort(list(KEY_COLUMNS[DataKind.TRADES]))
        return trades_to_bars(ordered.lazy(), self.timeframe).collect()


def made_until(store: MarketStore, timeframe: Timeframe) -> dict[str, int]:
    """The open time of each symbol's newest stored bar of ``timeframe``."""
    stored = store.coverage(DataKind.BARS).filter(pl.col("timeframe") == str(timeframe))
    return dict(stored.select("symbol", pl.col("last").dt.epoch("ns")).iter_rows())


def bars_stage(
    bus: EventBus,
    store: MarketStore,
    stop: threading.Event,
    *,
    timeframe: Timeframe,
    lateness_ns: int = 0,
    final: bool = False,
    group: str = BARS_GROUP,
    consumer: str = "bars-1",
    metrics: StageMetrics | None = None,
    on_progress: Callable[[StageStats], None] | None = None,
) -> StageStats:
    """Make bars of ``timeframe`` from the ``trades`` topic until ``stop`` is set; each
    bar is stored, then published to ``bars``. When stopped, the open windows' bars are
    made from the trades so far if the stream has ended (``final``); otherwise their
    trades stay unacknowledged, to be read again by the next run."""
    live = LiveBars(timeframe, lateness_ns=lateness_ns, made_until=made_until(store, timeframe))
    held: list[tuple[int, Delivery]] = []  # with the newest trade time of each

    def settle(bars: pl.DataFrame) -> Outcome:
        if not bars.is_empty():
            store.write(DataKind.BARS, bars, timeframe=timeframe)
            publish_waiting(bus, DataKind.BARS.value, bars, stop)
        oldest = live.oldest_open_ns
        done = [d for newest, d in held if oldest is None or newest < oldest]
        held[:] = [(newest, d) for newest, d in held if oldest is not None and newest >= oldest]
        if metrics is not None:
            metrics.late.labels(metrics.stage, DataKind.TRADES.value).set(live.late_trades)
        return Outcome(bars.height, done)

    def work(deliveries: Sequence[Delivery]) -> Outcome:
        held.extend((newest_ns(d.frame) or 0, d) for d in deliveries)
        if not deliveries:
            return Outcome(0, ())
        trades = pl.concat([d.frame for d in deliveries], how="vertical_relaxed")
        return settle(live.add(trades))

    return consume(
        bus,
        DataKind.TRADES.value,
        group,
        consumer,
        work,
        stop,
        metrics=metrics,
        on_progress=on_progress,
        on_stop=(lambda: settle(live.flush())) if final else None,
    )
