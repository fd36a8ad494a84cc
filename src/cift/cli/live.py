"""What the commands that run live share (``cift stream``, ``cift trade``): stopping on a
signal or after a while, the bus and store overrides, and pacing the simulator's feed."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from types import FrameType
from typing import Any

import typer

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.core.timeutil import parse_when
from cift.data.providers.live import FEEDS
from cift.model import Timeframe

from .context import cli_settings

BUS_HELP = "Bus between the stages: memory, redis or kafka (default: CIFT_BUS)."
STORE_HELP = "Market store: embedded or questdb (default: CIFT_MARKET_STORE)."
PROVIDER_HELP = f"Live feed: {', '.join(FEEDS)} (synthetic needs no account)."
SPEED_HELP = "Synthetic: simulated seconds per second (default 60; 1 real time)."


def stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM, so the command drains before it exits."""
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def seconds_of(duration: str | None) -> float | None:
    """A ``--duration`` (e.g. 30s, 5m) in seconds; None when not given."""
    return Timeframe.parse(duration).nanos / 1e9 if duration else None


def stop_after(stop: threading.Event, seconds: float | None) -> None:
    """Set ``stop`` after ``seconds`` of wall time, if given."""
    if seconds is not None:
        threading.Timer(seconds, stop.set).start()


def live_settings(bus: str | None, store: str | None) -> Settings:
    """The settings with this command's bus and store, if it names them."""
    settings = cli_settings()
    update: dict[str, Any] = {}
    if bus is not None:
        update["bus"] = bus
    if store is not None:
        update["market_store"] = store
    return type(settings).model_validate(settings.model_dump() | update) if update else settings


def feed_options(
    provider: str, speed: float | None, start: str | datetime | None
) -> dict[str, Any]:
    """The feed factory's options: the simulator is paced (``speed``) from ``start``."""
    if provider != "synthetic":
        if speed is not None or start is not None:
            raise ValidationError("--speed and --start pace the synthetic feed only.")
        return {}
    options: dict[str, Any] = {"speed": 60.0 if speed is None else speed}
    if start is not None:
        options["start"] = parse_when(start) if isinstance(start, str) else start
    return options


AlertsOption = typer.Option(
    True,
    "--alerts/--no-alerts",
    help="Check the alert rules after each bar and deliver what fires.",
)
