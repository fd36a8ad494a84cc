"""``cift backtest``: run, sweep, walk forward, list, show and report recorded backtests.

The engine (with numba) loads only in the commands that run one, so listing and showing
recorded runs start without it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from cift.backtest.spec import RunSpec
from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.core.timeutil import parse_when, range_end
from cift.db.models import Backtest
from cift.db.repositories.backtests import backtest_records, describe

from . import sweep
from .backtest_options import (
    CALENDAR_HELP,
    PARAM_HELP,
    STRATEGY_HELP,
    FractionProgress,
    costs,
    metrics_table,
    number,
    parse_params,
    percent,
)
from .console import console, print_json
from .context import cli_settings, split_symbols
from .entries import summary

app = typer.Typer(help=summary("backtest"))


@app.command("run")
def run_command(
    strategy: str = typer.Argument(..., help=STRATEGY_HELP),
    symbols: str | None = typer.Option(None, help="Comma-separated symbols (from the store)."),
    start: str | None = typer.Option(None, help="First day (YYYY-MM-DD) or time, UTC."),
    end: str | None = typer.Option(None, help="Last day, inclusive (YYYY-MM-DD), or end time."),
    timeframe: str = typer.Option("1D", help="Bar length read from the store: 1Min, 1H, 1D."),
    data: Path | None = typer.Option(None, help="Run on a CSV/Parquet file of bars instead."),
    param: list[str] | None = typer.Option(None, help=PARAM_HELP),
    cash: float = typer.Option(100_000.0, help="Initial cash."),
    commission_bps: float = typer.Option(0.0, help="Commission in basis points of notional."),
    slippage_bps: float = typer.Option(0.0, help="Slippage in basis points against you."),
    calendar: str | None = typer.Option(None, help=CALENDAR_HELP),
    name: str | None = typer.Option(None, help="A label for the run."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Run one backtest, record it, write its tearsheet and print its metrics.

    Examples:

      cift backtest run sma_cross --data ../shared/data/daily/nvda-1999-2014.csv
      --param fast=10 --param slow=50 --commission-bps 10

      cift backtest run rsi_reversion --symbols AAPL,MSFT --timeframe 1Min
      --start 2024-01-02 --end 2024-03-29
    """
    from cift.backtest import runs

    settings = cli_settings()
    spec = RunSpec(
        strategy=strategy,
        params=parse_params(param),
        symbols=split_symbols(symbols) if symbols else [],
        start=parse_when(start) if start else None,
        end=range_end(start, end),
        timeframe=timeframe,
        data_file=str(data) if data else None,
        config=costs(cash, commission_bps, slippage_bps) | {"calendar": calendar},
        name=name,
    )
    with FractionProgress(f"{strategy}", quiet=as_json) as advance:
        outcome = runs.execute(spec, settings, progress=advance)
    if as_json:
        print_json({"id": str(outcome.id), **outcome.metrics.to_dict()})
        return
    console.print(metrics_table(outcome.metrics.to_dict(), f"{strategy} · run {outcome.id}"))
    console.print(f"Report: [cyan]{outcome.folder / 'tearsheet.html'}[/]")


@app.command("rerun")
def rerun_command(
    run_id: str = typer.Argument(..., help="Id (or unique prefix) of a recorded run."),
) -> None:
    """Replay a recorded run and check that it reproduces the recorded result exactly."""
    from cift.backtest import runs

    settings = cli_settings()
    original = _recorded(settings, run_id)
    outcome = runs.rerun(original.id, settings)
    console.print(
        f"[green]Reproduced[/] run {original.id} exactly (new run {outcome.id}, "
        f"final equity {outcome.metrics.final_equity:,.2f})."
    )


def _recorded(settings: Settings, run_id: str) -> Backtest:
    """The recorded run ``run_id`` names (an id or a unique prefix)."""
    with backtest_records(settings) as store:
        return store.find(run_id)


SHORT_ID = 13
"""An id's first 13 characters, its creation time to the millisecond: unique in practice."""


@app.command("ls")
def ls_command(
    strategy: str | None = typer.Option(None, help="Only runs of this strategy."),
    limit: int = typer.Option(20, min=1, max=1000, help="How many recent runs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List recorded runs, newest first."""
    with backtest_records(cli_settings()) as store:
        rows = store.recent(limit, strategy)
    if as_json:
        print_json([describe(r) for r in rows])
        return
    table = Table(title="Backtests (ids shortened: show, report and rerun take them)")
    for column in ("id", "strategy", "status", "return", "sharpe", "max dd", "symbols", "created"):
        numeric = column in {"return", "sharpe", "max dd"}
        table.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        m = row.metrics or {}
        table.add_row(
            str(row.id)[:SHORT_ID],
            row.strategy,
            row.status.value,
            percent(m.get("total_return")),
            number(m.get("sharpe")),
            percent(m.get("max_drawdown")),
            ",".join(row.symbols[:3])
            + (f" +{len(row.symbols) - 3}" if len(row.symbols) > 3 else ""),
            row.created_at.strftime("%m-%d %H:%M"),
        )
    console.print(table)


@app.command("show")
def show_command(
    run_id: str = typer.Argument(..., help="Id (or unique prefix) of a recorded run."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one recorded run: its spec, data, status and metrics."""
    row = _recorded(cli_settings(), run_id)
    if as_json:
        print_json(describe(row, full=True))
        return
    console.print(metrics_table(row.metrics or {}, f"{row.strategy} · run {row.id}"))
    details = Table(show_header=False, title="Run")
    for key, value in describe(row, full=True).items():
        if key not in {"metrics", "artifacts"}:
            details.add_row(
                key, json.dumps(value) if isinstance(value, dict | list) else str(value)
            )
    console.print(details)


@app.command("report")
def report_command(
    run_id: str = typer.Argument(..., help="Id (or unique prefix) of a recorded run."),
) -> None:
    """Print the path of a run's HTML tearsheet (open it in a browser)."""
    row = _recorded(cli_settings(), run_id)
    report = (row.artifacts or {}).get("tearsheet.html")
    if not report or not Path(report).exists():
        raise ValidationError(
            f"Run {row.id} has no report ({row.status.value}); re-run it with "
            f"'cift backtest rerun {str(row.id)[:13]}'."
        )
    console.out(report, highlight=False)


app.command("sweep")(sweep.sweep_command)
app.command("walkforward")(sweep.walkforward_command)
