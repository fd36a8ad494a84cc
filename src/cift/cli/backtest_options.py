"""What every ``cift backtest`` command shares: parameter parsing, costs, rendering."""

from __future__ import annotations

import json
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from cift.core.errors import ValidationError
from cift.strategy.registry import STRATEGIES

from .console import console

STRATEGY_HELP = f"Strategy: {', '.join(STRATEGIES)}."
PARAM_HELP = "Strategy parameter as name=value; repeat it, e.g. --param fast=10 --param slow=50."
CALENDAR_HELP = (
    "Exchange calendar of the bars (XNYS, XLON, CMES, 24/7, ...): each bar closes at its "
    "session's close, e.g. a daily bar at 16:00 New York, so a decision at the close "
    "reaches the next session's open. Without it a bar closes one timeframe after it opens."
)


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """``["fast=10", "allow_short=true"]`` -> ``{"fast": 10, "allow_short": True}``."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"--param {pair!r} is not name=value, e.g. --param fast=10.")
        try:
            params[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            params[name.strip()] = text
    return params


def costs(cash: float, commission_bps: float, slippage_bps: float) -> dict[str, Any]:
    """The BacktestConfig description of the common cost options."""
    return {
        "initial_cash": cash,
        "commission": {"model": "bps", "bps": commission_bps, "minimum": 0.0}
        if commission_bps
        else {"model": "none"},
        "slippage": {"model": "fixed_bps", "bps": slippage_bps}
        if slippage_bps
        else {"model": "no_slippage"},
    }


FRACTIONS = {
    "total_return",
    "annual_return",
    "annual_volatility",
    "max_drawdown",
    "hit_rate",
    "exposure",
    "average_gross_exposure",
    "alpha",
}
"""Metrics shown as percentages."""


def metrics_table(metrics: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("metric", style="cyan")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        shown = percent(value) if key in FRACTIONS else number(value)
        table.add_row(key.replace("_", " "), shown)
    return table


def percent(value: Any) -> str:
    return "—" if value is None else f"{value:.2%}"


def number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.3f}"
    return str(value)


class FractionProgress:
    """A Rich progress bar fed fractions of the run (silent when printing JSON)."""

    def __init__(self, label: str, quiet: bool) -> None:
        self.label, self.quiet = label, quiet
        self.bar: Progress | None = None

    def __enter__(self) -> Any:
        if self.quiet:
            return None
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.bar.start()
        task = self.bar.add_task(self.label, total=1.0)
        bar = self.bar
        return lambda fraction: bar.update(task, completed=fraction)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
