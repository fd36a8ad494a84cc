"""``cift backtest``: run, sweep, walk forward, list, show and report recorded backtests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from cift.backtest import runs, sweep
from cift.backtest.spec import RunSpec
from cift.backtest.trials import ENGINES, RANKABLE, Engine
from cift.backtest.walkforward import WalkForwardResult, parse_length, walk_forward
from cift.core.errors import ValidationError
from cift.core.timeutil import parse_when
from cift.strategy.registry import STRATEGIES

from .console import console, print_json
from .context import cli_settings, split_symbols

app = typer.Typer(help="Backtest strategies on stored data or a file; every run is recorded.")

STRATEGY_HELP = f"Strategy: {', '.join(STRATEGIES)}."
PARAM_HELP = "Strategy parameter as name=value; repeat it, e.g. --param fast=10 --param slow=50."


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
    settings = cli_settings()
    spec = RunSpec(
        strategy=strategy,
        params=parse_params(param),
        symbols=split_symbols(symbols) if symbols else [],
        start=parse_when(start) if start else None,
        end=parse_when(end, end=True) if end else None,
        timeframe=timeframe,
        data_file=str(data) if data else None,
        config=costs(cash, commission_bps, slippage_bps),
        name=name,
    )
    with FractionProgress(f"{strategy}", quiet=as_json) as advance:
        outcome = runs.execute(spec, settings, progress=advance)
    if as_json:
        print_json({"id": str(outcome.id), **outcome.metrics.to_dict()})
        return
    console.print(metrics_table(outcome.metrics.to_dict(), f"{strategy} · run {outcome.id}"))
    console.print(f"Report: [cyan]{outcome.folder / 'tearsheet.html'}[/]")


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
        end=parse_when(end, end=True) if end else None,
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


@app.command("sweep")
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
) -> None:
    """Backtest every parameter combination on Dask, rank them and deflate the best Sharpe.

    Examples:

      cift backtest sweep sma_cross --data ../shared/data/daily/nvda-1999-2014.csv
      --grid fast=5,10,20 --grid slow=50,100,200 --commission-bps 10

      cift backtest sweep sma_cross --data bars.parquet --random 100 --range fast=5:50
      --range slow=60:250 --seed 7
    """
    settings = cli_settings()
    plan = sweep.plan_from_options(strategy, grid, ranges, draws, seed, parse_params(param))
    spec = sweep_spec(
        strategy, symbols, start, end, timeframe, data, cash, commission_bps, slippage_bps
    )
    label = f"{strategy}: {len(plan.combos)} combinations"
    with FractionProgress(label, quiet=as_json) as advance:
        result = sweep.run_sweep(
            spec,
            plan,
            settings,
            rank_by=rank_by,
            engine=_engine(engine),
            workers=workers,
            progress=advance,
        )
    if as_json:
        print_json(result.to_dict())
        return
    console.print(sweep_table(result, top))
    console.print(sweep_summary(result))


def sweep_table(result: sweep.SweepResult, top: int) -> Table:
    table = Table(title=f"{result.strategy} sweep, ranked by {result.rank_by}")
    table.add_column("#", justify="right")
    for name in result.axes:
        table.add_column(name, justify="right")
    for column in ("sharpe", "return", "max dd", "trades"):
        table.add_column(column, justify="right")
    for place, trial in enumerate(result.trials[:top], 1):
        s = trial.score
        values = [_num(trial.params.get(name)) for name in result.axes]
        table.add_row(
            str(place),
            *values,
            _num(s.sharpe),
            _pct(s.total_return),
            _pct(s.max_drawdown),
            str(s.trades),
        )
    return table


def sweep_summary(result: sweep.SweepResult) -> str:
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


@app.command("walkforward")
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
) -> None:
    """Optimise in-sample, trade the best parameters out-of-sample, window after window.

    Examples:

      cift backtest walkforward sma_cross --data ../shared/data/daily/nvda-1999-2014.csv
      --grid fast=5,10,20 --grid slow=50,100 --train 750 --test 250

      cift backtest walkforward sma_cross --symbols AAPL --grid fast=5,10,20
      --grid slow=50,100 --train 3y --test 1y --anchored
    """
    settings = cli_settings()
    plan = sweep.plan_from_options(strategy, grid, ranges, draws, seed, parse_params(param))
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
            *(_num(w.chosen.params.get(name)) for name in result.axes),
            _num(w.chosen.metric(result.rank_by)),
            _num(w.test.score.sharpe),
            _pct(w.test.score.total_return),
            str(w.test.score.trades),
        )
    return table


@app.command("rerun")
def rerun_command(
    run_id: str = typer.Argument(..., help="Id (or unique prefix) of a recorded run."),
) -> None:
    """Replay a recorded run and check that it reproduces the recorded result exactly."""
    settings = cli_settings()
    original = runs.records(settings).find(run_id)
    outcome = runs.rerun(original.id, settings)
    console.print(
        f"[green]Reproduced[/] run {original.id} exactly (new run {outcome.id}, "
        f"final equity {outcome.metrics.final_equity:,.2f})."
    )


@app.command("ls")
def ls_command(
    strategy: str | None = typer.Option(None, help="Only runs of this strategy."),
    limit: int = typer.Option(20, min=1, max=1000, help="How many recent runs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List recorded runs, newest first."""
    rows = runs.records(cli_settings()).recent(limit, strategy)
    if as_json:
        print_json([runs.describe(r) for r in rows])
        return
    table = Table(title="Backtests")
    for column in ("id", "created", "strategy", "status", "symbols", "return", "sharpe", "max dd"):
        numeric = column in {"return", "sharpe", "max dd"}
        table.add_column(column, justify="right" if numeric else "left", no_wrap=column == "id")
    for row in rows:
        m = row.metrics or {}
        table.add_row(
            str(row.id),
            row.created_at.strftime("%m-%d %H:%M"),
            row.strategy,
            row.status.value,
            ",".join(row.symbols[:3]) + ("…" if len(row.symbols) > 3 else ""),
            _pct(m.get("total_return")),
            _num(m.get("sharpe")),
            _pct(m.get("max_drawdown")),
        )
    console.print(table)


@app.command("show")
def show_command(
    run_id: str = typer.Argument(..., help="Id (or unique prefix) of a recorded run."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one recorded run: its spec, data, status and metrics."""
    row = runs.records(cli_settings()).find(run_id)
    if as_json:
        print_json(runs.describe(row, full=True))
        return
    console.print(metrics_table(row.metrics or {}, f"{row.strategy} · run {row.id}"))
    details = Table(show_header=False, title="Run")
    for key, value in runs.describe(row, full=True).items():
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
    row = runs.records(cli_settings()).find(run_id)
    report = (row.artifacts or {}).get("tearsheet.html")
    if not report or not Path(report).exists():
        raise ValidationError(
            f"Run {row.id} has no report ({row.status.value}); re-run it with "
            f"'cift backtest rerun {str(row.id)[:13]}'."
        )
    console.out(report, highlight=False)


def metrics_table(metrics: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("metric", style="cyan")
    table.add_column("value", justify="right")
    percent = {"total_return", "annual_return", "annual_volatility", "max_drawdown", "hit_rate"}
    percent |= {"exposure", "average_gross_exposure", "alpha"}
    for key, value in metrics.items():
        table.add_row(key.replace("_", " "), _pct(value) if key in percent else _num(value))
    return table


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value:.2%}"


def _num(value: Any) -> str:
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
