"""``cift stream``: the live stages, each as its own process or all in one.

A stage's process loads what its stage needs: the alert checks and the metadata database
(about half a second of imports) only for ``cift stream run``, which runs them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import typer
from rich.live import Live
from rich.table import Table

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.core.timeutil import parse_when, to_ns
from cift.data.bus import open_bus
from cift.data.providers.live import get_feed
from cift.data.store import MarketStore
from cift.data.stream import StageMetrics, bars_stage, store_stage
from cift.data.stream.board import Board, open_board
from cift.data.stream.ingest_stage import ingest
from cift.data.stream.stage import StageStats
from cift.features.live.pipeline import run_all
from cift.features.live.stage import features_stage
from cift.model import DataKind, Timeframe

from .console import console, print_json
from .context import (
    MetricsPortOption,
    cli_settings,
    market_store,
    metadata_db,
    optional_timeframe,
    serve_metrics,
    split_symbols,
)
from .entries import summary
from .feature_options import FEATURES_HELP, feature_set_from
from .live import (
    BUS_HELP,
    PROVIDER_HELP,
    SPEED_HELP,
    STORE_HELP,
    AlertsOption,
    feed_options,
    live_settings,
    seconds_of,
    stop_after,
    stop_on_signals,
)
from .stream_view import Reporter, stats_table

app = typer.Typer(help=summary("stream"))


def _metrics(settings: Settings, stage: str, port: int) -> StageMetrics:
    serve_metrics(settings, port)
    return StageMetrics(stage)


def _kinds(text: str) -> list[DataKind]:
    try:
        return [DataKind(k.strip()) for k in text.split(",") if k.strip()]
    except ValueError:
        raise ValidationError(f"Unknown kind in {text!r}; use trades, quotes or bars.") from None


StageRun = Callable[..., StageStats]
"""A consuming stage given the store, the board, the stop event, and ``metrics`` and
``on_progress`` as keywords."""


def _consume(settings: Settings, name: str, metrics_port: int, run: StageRun) -> None:
    """Run one consuming stage until Ctrl-C, showing it and posting it to the board."""
    stop = stop_on_signals()
    metrics = _metrics(settings, name, metrics_port)
    board = open_board(settings)
    reporter = Reporter(board, name)
    with market_store(settings) as market, Live(console=console) as live:
        stats = run(market, board, stop, metrics=metrics, on_progress=reporter.watching(live))
    reporter.final(stats)


BusOption = typer.Option(None, "--bus", help=BUS_HELP)
StoreOption = typer.Option(None, "--store", help=STORE_HELP)
PortOption = MetricsPortOption


@app.command("ingest")
def ingest_command(
    provider: str = typer.Option("synthetic", help=PROVIDER_HELP),
    symbols: str = typer.Option(..., help="Comma-separated symbols, e.g. AAPL,MSFT."),
    kinds: str = typer.Option("trades", help="Comma-separated kinds: trades, quotes, bars."),
    duration: str | None = typer.Option(None, help="Stop after this long (e.g. 30s, 5m)."),
    speed: float | None = typer.Option(
        None,
        min=0,
        help="Synthetic: simulated seconds per second (default 60; 1 real time; "
        "0 as fast as the bus takes it).",
    ),
    start: str | None = typer.Option(
        None, help="Synthetic: first simulated time (default: the open of the latest session)."
    ),
    bus: str | None = BusOption,
    metrics_port: int = PortOption,
) -> None:
    """Publish a live feed's events onto the bus until Ctrl-C (or --duration).

    Reconnects by itself (jittered back-off) and fills the gap from the provider's REST
    history; a refused key stops it at once with the reason.
    """
    settings = live_settings(bus, None)
    feed = get_feed(provider, settings, **feed_options(provider, speed, start))
    chosen = _kinds(kinds)
    stop = stop_on_signals()
    stop_after(stop, seconds_of(duration))
    metrics = _metrics(settings, "ingest", metrics_port)
    reporter = Reporter(open_board(settings), "ingest")
    with Live(console=console) as live:
        stats = asyncio.run(
            ingest(
                feed,
                open_bus(settings),
                split_symbols(symbols),
                chosen,
                stop,
                metrics=metrics,
                on_progress=reporter.watching(live),
            )
        )
    reporter.final(stats)


@app.command("store")
def store_command(
    kind: DataKind = typer.Option(DataKind.TRADES, help="Which topic to store."),
    group: str = typer.Option("store", help="Consumer group; one per store being fed."),
    consumer: str = typer.Option("store-1", help="This consumer's name within the group."),
    timeframe: str | None = typer.Option(None, help="Bar length, for --kind bars (e.g. 1m)."),
    replay_from: str | None = typer.Option(
        None, help="First read again what was published since this time (e.g. 2024-03-05T14:30Z)."
    ),
    bus: str | None = BusOption,
    store: str | None = StoreOption,
    metrics_port: int = PortOption,
) -> None:
    """Store what the bus carries into the market-data store, until Ctrl-C.

    Batches are acknowledged only once stored, so a crash loses nothing; the store skips
    rows it holds, so what is delivered twice is stored once.
    """
    settings = live_settings(bus, store)
    bars = optional_timeframe(timeframe)
    if (kind is DataKind.BARS) != (bars is not None):
        raise ValidationError("Bars need --timeframe (e.g. 1m), and only bars take one.")
    bus_ = open_bus(settings)
    if replay_from is not None:
        bus_.rewind(kind.value, group, to_ns(parse_when(replay_from)))

    def run(market: MarketStore, _board: Board, stop: threading.Event, **common: Any) -> StageStats:
        return store_stage(
            bus_, market, kind, stop, group=group, consumer=consumer, timeframe=bars, **common
        )

    _consume(settings, f"store-{kind.value}", metrics_port, run)


@app.command("bars")
def bars_command(
    timeframe: str = typer.Option("1m", help="Bar length, e.g. 1m, 5m."),
    lateness: str | None = typer.Option(
        None, help="How long after a window's end its trades may still arrive (e.g. 2s)."
    ),
    flush_on_stop: bool = typer.Option(
        False, help="When stopped, make the bars of open windows too (the stream has ended)."
    ),
    bus: str | None = BusOption,
    store: str | None = StoreOption,
    metrics_port: int = PortOption,
) -> None:
    """Make live bars from the trades topic: each is stored, then published to bars.

    Without --flush-on-stop, Ctrl-C leaves the open window's trades to the next run.
    """
    settings = live_settings(bus, store)
    late = Timeframe.parse(lateness).nanos if lateness else 0
    bus_ = open_bus(settings)

    def run(market: MarketStore, _board: Board, stop: threading.Event, **common: Any) -> StageStats:
        return bars_stage(
            bus_,
            market,
            stop,
            timeframe=Timeframe.parse(timeframe),
            lateness_ns=late,
            final=flush_on_stop,
            **common,
        )

    _consume(settings, "bars", metrics_port, run)


@app.command("features")
def features_command(
    feature_set: str | None = typer.Option(
        None, "--set", help="'default' or a YAML feature-set file (instead of --features)."
    ),
    features: str | None = typer.Option(None, help=FEATURES_HELP),
    name: str = typer.Option("live", help="Name of the set made from --features."),
    timeframe: str = typer.Option("1m", help="Bar length the bars stage makes."),
    bus: str | None = BusOption,
    store: str | None = StoreOption,
    metrics_port: int = PortOption,
) -> None:
    """Compute a feature set live from its source topic (bars, or trades for tick
    sets): values are stored, published to features and kept as the latest per symbol."""
    settings = live_settings(bus, store)
    chosen = feature_set_from(
        features,
        "default" if feature_set is None and features is None else feature_set,
        name,
        Timeframe.parse(timeframe),
    )
    bus_ = open_bus(settings)

    def run(market: MarketStore, board: Board, stop: threading.Event, **common: Any) -> StageStats:
        return features_stage(bus_, market, board, chosen, stop, **common)

    _consume(settings, "features", metrics_port, run)


@app.command("run")
def run_command(
    provider: str = typer.Option("synthetic", help=PROVIDER_HELP),
    symbols: str = typer.Option(..., help="Comma-separated symbols, e.g. AAA,BBB,CCC."),
    duration: str | None = typer.Option(None, help="Stop after this long (e.g. 30s, 5m)."),
    quotes: bool = typer.Option(False, help="Stream and store quotes too."),
    speed: float | None = typer.Option(None, min=0, help=SPEED_HELP),
    start: str | None = typer.Option(None, help="Synthetic: first simulated time."),
    timeframe: str = typer.Option("1m", help="Bar length of the live bars."),
    feature_set: str = typer.Option("default", "--set", help="'default' or a YAML file."),
    alerts: bool = AlertsOption,
    bus: str | None = BusOption,
    store: str | None = StoreOption,
    metrics_port: int = PortOption,
) -> None:
    """Run every stage in this process: feed -> bus -> store, bars and features (and
    the alert rules, checked after each bar).

      cift stream run --provider synthetic --symbols AAA,BBB,CCC --duration 30s

    On Ctrl-C (or at --duration) the feed stops first, then each stage drains what is
    on the bus, the last bars are made, and everything is stored before it exits.
    """
    from cift.execution.alert_stage import alert_checks

    settings = live_settings(bus, store)
    bars = Timeframe.parse(timeframe)
    chosen = feature_set_from(None, feature_set, "live", bars)
    feed = get_feed(provider, settings, **feed_options(provider, speed, start))
    kinds = [DataKind.TRADES, *([DataKind.QUOTES] if quotes else [])]
    stop = stop_on_signals()
    stop_after(stop, seconds_of(duration))
    serve_metrics(settings, metrics_port)
    board = open_board(settings)
    reporter = Reporter(board, "run")
    with (
        metadata_db() as (_, db),
        market_store(settings) as market,
        Live(console=console) as live,
    ):
        stats = run_all(
            open_bus(settings),
            board,
            feed,
            market,
            split_symbols(symbols),
            kinds,
            bars,
            chosen,
            stop,
            measured=True,
            on_progress=reporter.watching_all(live),
            downstream=alert_checks(settings, db, market, board) if alerts else (),
        )
    console.print(stats_table(stats, title="stopped", seconds=reporter.seconds))


@app.command("status")
def status_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Each stage's last report: rows in and out, rate, lag, last event."""
    statuses = open_board(cli_settings()).statuses()
    if as_json:
        print_json(statuses)
        return
    table = Table(title="live stages")
    for column in ("stage", "rows in", "rows out", "rows/s", "lag", "last event", "reported"):
        table.add_column(column)
    for stage, status in statuses.items():
        posted = datetime.fromtimestamp(status["posted_at"], UTC).isoformat(timespec="seconds")
        table.add_row(
            stage,
            f"{status['rows_in']:,}",
            f"{status['rows_out']:,}",
            f"{status['rate']:,.0f}",
            f"{status['lag']:,}",
            status["last_event"] or "-",
            posted,
        )
    console.print(table)
