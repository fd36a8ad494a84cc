"""``cift backtest sweep`` and ``cift backtest walkforward``: parameter searches on Dask.

The searches (and with them the engine and numba) load when one runs, not when the
``backtest`` group starts for another command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from cift.backtest.choices import ENGINES, RANKABLE, Engine
from cift.backtest.spec import RunSpec
from cift.core.errors import ValidationError
from cift.core.timeutil import parse_when, range_end
from cift.core.windows import parse_length
from cift.db.repositories.users import LOCAL_USERNAME

from .backtest_options import (
    STRATEGY_HELP,
    FractionProgress,
    costs,
    metrics_table,
    number,
    parse_params,
    percent,
)
from .console import console, print_json
from .context import (
    MetricsPortOption,
    cli_settings,
    metadata_db,
    owner_id,
    serve_metrics,
    split_symbols,
)

if TYPE_CHECKING:
    from cift.backtest.sweep import SweepResult
    from cift.backtest.walkforward import WalkForwardResult

GRID_HELP = (
    "Values to sweep as name=v1,v2,...; repeat it, e.g. --grid fast=5,10 --grid slow=50,100."
)
RANGE_HELP = "A range to draw from with --random: name=low:high (ints if both are ints)."
RANK_HELP = f"Metric to rank by: {', '.join(RANKABLE)}."
ENGINE_HELP = "auto (vectorised where it matches the engine), event or vector."


def sweep_spec(
    strategy: str,
    symbols: str | None,
    start: str | None,
    end: str | None,
    timeframe: str,
    data: Path | None,
    cash: float,
    commission_bps: float,
    slippage_bps: float,
) -> RunSpec:
    return RunSpec(
        strategy=strategy,
        symbols=split_symbols(symbols) if symbols else [],
        start=parse_when(start) if start else None,
        end=range_end(start, end),
        timeframe=timeframe,
        data_file=str(data) if data else None,
        config=costs(cash, commission_bps, slippage_bps),
    )


def _engine(text: str) -> Engine:
    for engine in ENGINES:
        if engine == text:
            return engine
    raise ValidationError(f"--engine {text!r}: choose from {', '.join(ENGINES)}.")


# Options the sweep and walkforward commands share.
SYMBOLS = typer.Option(None, help="Comma-separated symbols (from the store).")
START = typer.Option(None, help="First day (YYYY-MM-DD) or time, UTC.")
END = typer.Option(None, help="Last day, inclusive (YYYY-MM-DD), or end time.")
TIMEFRAME = typer.Option("1D", help="Bar length read from the store: 1Min, 1H, 1D.")
GRID = typer.Option(None, help=GRID_HELP)
RANGES = typer.Option(None, "--range", help=RANGE_HELP)
DRAWS = typer.Option(None, "--random", min=1, help="Draw N random combinations.")
SEED = typer.Option(0, help="Seed of the random draws.")
FIXED = typer.Option(None, help="A fixed parameter as name=value.")
CASH = typer.Option(100_000.0, help="Initial cash.")
COMMISSION = typer.Option(0.0, help="Commission in basis points of notional.")
SLIPPAGE = typer.Option(0.0, help="Slippage in basis points against you.")
RANK = typer.Option("sharpe", "--rank", help=RANK_HELP)
ENGINE = typer.Option("auto", help=ENGINE_HELP)
WORKERS = typer.Option(None, min=1, help="Local Dask worker processes.")
AS_JSON = typer.Option(False, "--json", help="Print the results as JSON.")


def sweep_command(
    strategy: str = typer.Argument(..., help=STRATEGY_HELP),
    symbols: str | None = SYMBOLS,
    start: str | None = START,
    end: str | None = END,
    timeframe: str = TIMEFRAME,
    data: Path | None = typer.Option(None, help="Sweep on a CSV/Parquet file of bars instead."),
    grid: list[str] | None = GRID,
    ranges: list[str] | None = RANGES,
    draws: int | None = DRAWS,
    seed: int = SEED,
    param: list[str] | None = FIXED,
    cash: float = CASH,
    commission_bps: float = COMMISSION,
    slippage_bps: float = SLIPPAGE,
    rank_by: str = RANK,
    engine: str = ENGINE,
    workers: int | None = WORKERS,
    top: int = typer.Option(20, min=1, help="Rows of the ranked table (JSON lists all)."),
    as_json: bool = AS_JSON,
    metrics_port: int = MetricsPortOption,
) -> None:
    """Backtest every parameter combination on Dask, rank them and deflate the best Sharpe.

    Examples:

      cift backtest sweep sma_cross --data ../shared/data/daily/nvda-1999-2014.csv
      --grid fast=5,10,20 --grid slow=50,100,200 --commission-bps 10

      cift backtest sweep sma_cross --data bars.parquet --random 100 --range fast=5:50
      --range slow=60:250 --seed 7
    """
    from cift.backtest.sweep import plan_from_options, run_sweep
    from cift.backtest.sweep_records import record_sweep

    settings = cli_settings()
    serve_metrics(settings, metrics_port)
    plan = plan_from_options(strategy, grid, ranges, draws, seed, parse_params(param))
    spec = sweep_spec(
        strategy, symbols, start, end, timeframe, data, cash, commission_bps, slippage_bps
    )
    label = f"{strategy}: {len(plan.combos)} combinations"
    with FractionProgress(label, quiet=as_json) as advance:
        result = run_sweep(
            spec,
            plan,
            settings,
            rank_by=rank_by,
            engine=_engine(engine),
            workers=workers,
            progress=advance,
        )
    with metadata_db() as (_, db):
        sweep_id = record_sweep(settings, owner_id(db, LOCAL_USERNAME), spec, result)
    if as_json:
        print_json({"id": str(sweep_id), **result.to_dict()})
        return
    console.print(sweep_table(result, top))
    console.print(sweep_summary(result))
    console.print(f"Recorded as sweep {sweep_id}: see its heat map on the dashboard.")


def sweep_table(result: SweepResult, top: int) -> Table:
    table = Table(title=f"{result.strategy} sweep, ranked by {result.rank_by}")
    table.add_column("#", justify="right")
    for name in result.axes:
        table.add_column(name, justify="right")
    for column in ("sharpe", "return", "max dd", "trades"):
        table.add_column(column, justify="right")
    for place, trial in enumerate(result.trials[:top], 1):
        s = trial.score
        values = [number(trial.params.get(name)) for name in result.axes]
        table.add_row(
            str(place),
            *values,
            number(s.sharpe),
            percent(s.total_return),
            percent(s.max_drawdown),
            str(s.trades),
        )
    return table


def sweep_summary(result: SweepResult) -> str:
    lines = [f"Evaluated {len(result.trials)} combinations"]
    if result.skipped:
        lines[0] += f", skipped {len(result.skipped)} ({result.skipped[0].reason}, ...)"
    if result.duplicates:
        lines[0] += f", dropped {result.duplicates} repeated draw(s)"
    d = result.deflation
    if d is None:
        lines.append("Deflated Sharpe ratio: undefined (the best trial's returns do not vary).")
    else:
        verdict = "[red]likely overfit[/]" if d.overfit else "[green]survives the search[/]"
        lines.append(
            f"Deflated Sharpe ratio of the best: [bold]{d.deflated:.3f}[/] ({verdict}; "
            f"Sharpe {d.sharpe:.4f}/period against {d.benchmark:.4f} expected from "
            f"{d.trials} trials by luck; PSR {d.probabilistic:.3f})"
        )
    return "\n".join(lines)


def walkforward_command(
    strategy: str = typer.Argument(..., help=STRATEGY_HELP),
    symbols: str | None = SYMBOLS,
    start: str | None = START,
    end: str | None = END,
    timeframe: str = TIMEFRAME,
    data: Path | None = typer.Option(None, help="Run on a CSV/Parquet file of bars instead."),
    train: str = typer.Option(..., help="In-sample length: bars (750) or a duration (3y)."),
    test: str = typer.Option(..., help="Out-of-sample length: bars (250) or a duration (1y)."),
    anchored: bool = typer.Option(False, help="Grow the in-sample span from the first bar."),
    grid: list[str] | None = GRID,
    ranges: list[str] | None = RANGES,
    draws: int | None = DRAWS,
    seed: int = SEED,
    param: list[str] | None = FIXED,
    cash: float = CASH,
    commission_bps: float = COMMISSION,
    slippage_bps: float = SLIPPAGE,
    rank_by: str = RANK,
    engine: str = ENGINE,
    workers: int | None = WORKERS,
    as_json: bool = AS_JSON,
    metrics_port: int = MetricsPortOption,
) -> None:
    """Optimise in-sample, trade the best parameters out-of-sample, window after window.

    Examples:

      cift backtest walkforward sma_cross --data ../shared/data/daily/nvda-1999-2014.csv
      --grid fast=5,10,20 --grid slow=50,100 --train 750 --test 250

      cift backtest walkforward sma_cross --symbols AAPL --timeframe 1Min
      --grid fast=5,10,20 --grid slow=50,100 --train 20d --test 5d --anchored
    """
    from cift.backtest.sweep import plan_from_options
    from cift.backtest.walkforward import walk_forward

    settings = cli_settings()
    serve_metrics(settings, metrics_port)
    plan = plan_from_options(strategy, grid, ranges, draws, seed, parse_params(param))
    spec = sweep_spec(
        strategy, symbols, start, end, timeframe, data, cash, commission_bps, slippage_bps
    )
    lengths = parse_length(train, "--train"), parse_length(test, "--test")
    with FractionProgress(f"{strategy} walk-forward", quiet=as_json) as advance:
        result = walk_forward(
            spec,
            plan,
            settings,
            train=lengths[0],
            test=lengths[1],
            anchored=anchored,
            rank_by=rank_by,
            engine=_engine(engine),
            workers=workers,
            progress=advance,
        )
    if as_json:
        print_json(result.to_dict())
        return
    console.print(windows_table(result))
    console.print(metrics_table(result.metrics.to_dict(), f"{strategy} · out-of-sample"))


def windows_table(result: WalkForwardResult) -> Table:
    table = Table(title=f"{result.strategy} walk-forward (chosen by in-sample {result.rank_by})")
    table.add_column("#", justify="right")
    table.add_column("test span")
    for column in (*result.axes, f"IS {result.rank_by}", "OOS sharpe", "OOS return", "trades"):
        table.add_column(column, justify="right")
    for w in result.windows:
        span = w.window.to_dict()
        table.add_row(
            str(w.window.index),
            f"{span['test_first'][:10]}\n{span['test_last'][:10]}",
            *(number(w.chosen.params.get(name)) for name in result.axes),
            number(w.chosen.metric(result.rank_by)),
            number(w.test.score.sharpe),
            percent(w.test.score.total_return),
            str(w.test.score.trades),
        )
    return table
