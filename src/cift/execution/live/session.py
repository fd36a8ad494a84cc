"""A trading session in one process: the live feed through the bus into the store and live
bars (the streaming stages), and the runner trading on the bars as one more consumer.

The runner reads the ``bars`` topic as its own consumer group (``trade-<run id>``), and
acknowledges a batch once every bar in it has been processed; its features are warmed up
from the stored bars before the run's first live bar (:func:`prepare`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest.config import BacktestConfig
from cift.core.settings import Settings
from cift.core.timeutil import from_ns
from cift.data.bus import Delivery, EventBus
from cift.data.providers.live import LiveFeed
from cift.data.store.base import MarketStore
from cift.data.stream.board import Board
from cift.data.stream.stage import Outcome, StageStats, consume
from cift.db.models import BrokerKind, TradingAccount
from cift.db.models.ledger import TradingRun
from cift.execution.brokers.alpaca.factories import create_broker
from cift.execution.brokers.base import Broker
from cift.execution.brokers.paper import PaperBroker
from cift.execution.live.runner import LiveRunner, cash_of, positions_of
from cift.execution.metrics import TradingMetrics
from cift.features.live.pipeline import Downstream, run_all
from cift.features.pipeline import FeatureSet
from cift.model import DataKind
from cift.strategy.base import Strategy, StrategyParams

WARMUP_BARS = 500
"""Stored bars per symbol read before the first live one, to warm the features up."""
Progress = Callable[[str, StageStats], None]


def account_runner(
    db: sessionmaker[Session],
    settings: Settings,
    run: TradingRun,
    strategy_cls: type[Strategy],
    params: StrategyParams,
    config: BacktestConfig,
    metrics: TradingMetrics | None = None,
) -> LiveRunner:
    """A runner on the run's account's broker: the paper venue (its simulated account
    started from the ledger), or Alpaca (paper or live endpoint by the account's mode)."""
    with db() as session:
        account = session.get(TradingAccount, run.account_id)
        assert account is not None
    broker: Broker
    if account.broker is BrokerKind.PAPER:
        broker = PaperBroker(
            list(run.symbols),
            config,
            cash=float(cash_of(db, run.account_id)),
            positions=positions_of(db, run.account_id),
        )
    else:
        broker = create_broker(settings, account)
    return LiveRunner(db, settings, run, strategy_cls, params, broker, config, metrics)


def prepare(runner: LiveRunner, store: MarketStore, start: datetime) -> datetime:
    """Start the runner from the store: reconcile with the broker, warm the features up on
    the stored bars before the run, and for a resumed run trade the stored bars it has
    not seen yet (made while it was down); where the live feed should start."""
    runner.start()
    symbols, timeframe, resumed = runner.symbols, runner.timeframe, bool(runner.done)
    end = None if resumed else start
    read = store.read(DataKind.BARS, symbols=symbols, timeframe=timeframe, end=end)
    stored = read.collect().sort("symbol", "ts")
    done = pl.DataFrame(
        {"symbol": symbols, "_done": [runner.done.get(s, -1) for s in symbols]},
        schema={"symbol": pl.String, "_done": pl.Int64},
    )
    # a new run has seen every stored bar (they are all before its start)
    marked = stored.join(done, on="symbol").with_columns(
        ((pl.col("ts").dt.epoch("ns") <= pl.col("_done")) | (not resumed)).alias("_seen")
    )
    seen = marked.filter("_seen")
    if resumed:  # from the run's first bar again: the features' sums stay the same
        origin = pl.col("symbol").replace_strict(runner.origin, default=None, return_dtype=pl.Int64)
        seen = seen.filter(origin.is_null() | (pl.col("ts").dt.epoch("ns") >= origin))
    else:
        seen = seen.group_by("symbol", maintain_order=True).tail(WARMUP_BARS)
    for symbol, newest in (
        seen.group_by("symbol").agg(pl.col("ts").max().dt.epoch("ns")).iter_rows()
    ):
        runner.done[symbol] = max(runner.done.get(symbol, newest), newest)
    unseen = marked.filter(~pl.col("_seen")).drop("_done", "_seen")
    runner.process(seen.drop("_done", "_seen"))
    # bars stored while down: in time order across symbols, as live (a symbol whose bars
    # stop earlier holds the others back until the feed brings its own)
    runner.on_bars(unseen)
    if resumed:
        return from_ns(min(runner.done.values()) + timeframe.nanos)
    return start


def runner_stage(
    runner: LiveRunner, bus: EventBus, stop: threading.Event, **common: object
) -> StageStats:
    """The runner as a consumer of the ``bars`` topic."""

    def work(deliveries: Sequence[Delivery]) -> Outcome:
        if not deliveries:
            runner.idle()
            return Outcome(0, ())
        bars = pl.concat([d.frame for d in deliveries], how="vertical_relaxed")
        return Outcome(runner.on_bars(bars), deliveries)

    return consume(
        bus,
        DataKind.BARS.value,
        f"trade-{runner.run_id}",
        "trader-1",
        work,
        stop,
        **common,  # type: ignore[arg-type]
    )


def trade(
    runner: LiveRunner,
    *,
    bus: EventBus,
    board: Board,
    feed: LiveFeed,
    store: MarketStore,
    feature_set: FeatureSet,
    stop: threading.Event,
    cancel_open: bool,
    on_progress: Progress | None = None,
    also: Sequence[Downstream] = (),
) -> dict[str, StageStats]:
    """Trade until ``stop`` is set (or the feed ends): stream, make bars, and run the
    strategy on them (and ``also`` the other consumers given, such as the alert
    checks); then drain every stage and stop the runner."""
    symbols = list(runner.symbols)
    downstream = Downstream("trade", runner_stage, {"runner": runner})
    try:
        return run_all(
            bus,
            board,
            feed,
            store,
            symbols,
            [DataKind.TRADES],
            runner.timeframe,
            feature_set,
            stop,
            measured=True,
            on_progress=on_progress,
            downstream=[downstream, *also],
        )
    finally:
        runner.stop(cancel_open=cancel_open)
