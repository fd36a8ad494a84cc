"""``cift stream``: the live stages, each as its own process or all in one."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime
from types import FrameType

import typer
from rich.live import Live
from rich.text import Text

from cift.core.errors import ValidationError
from cift.data.bus import open_bus
from cift.data.stream import StageMetrics, StageStats, store_stage
from cift.model import DataKind

from .console import console
from .context import cli_settings, market_store, optional_timeframe

app = typer.Typer(help="Run the live stages of the data path (bus -> store, ...).")


def _stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM, so the stage flushes before it exits."""
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def _line(stats: StageStats, began: float) -> Text:
    rate = stats.rows_received / max(time.monotonic() - began, 1e-9)
    last = (
        datetime.fromtimestamp(stats.last_event_ns / 1e9, UTC).isoformat(timespec="seconds")
        if stats.last_event_ns
        else "-"
    )
    return Text(
        f"{stats.rows_received:,} rows in {stats.batches:,} batches ({rate:,.0f} rows/s), "
        f"{stats.rows_stored:,} new; lag {stats.lag:,} batches; last event {last}; "
        f"publish-to-stored {stats.latency_ms:,.0f} ms"
    )


@app.command("store")
def store_command(
    kind: DataKind = typer.Option(DataKind.TRADES, help="Which topic to store."),
    group: str = typer.Option("store", help="Consumer group; one per store being fed."),
    consumer: str = typer.Option("store-1", help="This consumer's name within the group."),
    timeframe: str | None = typer.Option(None, help="Bar length, for --kind bars (e.g. 1m)."),
    metrics_port: int = typer.Option(
        0, min=0, max=65535, help="Serve Prometheus /metrics on this loopback port (0: off)."
    ),
) -> None:
    """Store what the bus carries (CIFT_BUS) into the market-data store, until Ctrl-C.

    Batches are acknowledged only once stored, so a crash loses nothing; the store skips
    rows it holds, so what is delivered twice is stored once.
    """
    settings = cli_settings()
    bars = optional_timeframe(timeframe)
    if (kind is DataKind.BARS) != (bars is not None):
        raise ValidationError("Bars need --timeframe (e.g. 1m), and only bars take one.")
    stop = _stop_on_signals()
    metrics = StageMetrics("store")
    if metrics_port:
        metrics.serve(metrics_port)
    bus = open_bus(settings)
    began = time.monotonic()
    with market_store(settings) as store, Live(console=console, transient=False) as live:

        def show(stats: StageStats) -> None:
            live.update(_line(stats, began))

        stats = store_stage(
            bus,
            store,
            kind,
            stop,
            group=group,
            consumer=consumer,
            timeframe=bars,
            metrics=metrics,
            on_progress=show,
        )
    bus.close()
    console.print(f"stopped: {_line(stats, began)}")
