"""``cift demo``: the whole loop on the embedded defaults, with a summary at the end."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from cift.backtest.demo import DemoOutcome, DemoPlan, run_demo

from .console import console, print_json
from .context import cli_settings
from .progress import Steps


def demo(
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ml: bool = typer.Option(True, "--ml/--no-ml", help="Train and backtest a LightGBM model."),
) -> None:
    """Simulate a market, store it, compute features, train a model, backtest strategies.

    Everything runs on this machine with no servers: minute bars of six symbols for a
    quarter and a week of trades and quotes come from the built-in simulator, go
    through the resumable backfill into the store (under CIFT_HOME), get the default
    feature set, train a LightGBM model on January and February (purged
    cross-validation, tracked in the local MLflow store, registered as the champion)
    and feed recorded backtests with HTML tearsheets: five built-in strategies over the
    quarter, then the model's signal next to SMA cross over March. Run it again and
    stored data is reused.
    """
    settings = cli_settings()
    began = time.perf_counter()
    with Steps(quiet=as_json) as step:
        outcome = run_demo(settings, DemoPlan(), step, ml=ml)
    elapsed = time.perf_counter() - began
    if as_json:
        print_json(_summary(outcome, elapsed))
        return
    _print(outcome, elapsed, str(settings.home))


def _summary(outcome: DemoOutcome, elapsed: float) -> dict[str, object]:
    return {
        "seconds": round(elapsed, 2),
        "rows": outcome.rows,
        "feature_set": outcome.feature_set,
        "feature_rows": outcome.feature_rows,
        "model": outcome.model.to_dict() if outcome.model else None,
        "runs": [
            {
                "id": str(run.id),
                "strategy": run.spec.strategy,
                "report": str(run.folder / "tearsheet.html"),
                **run.metrics.to_dict(),
            }
            for run in outcome.runs
        ],
    }


def _print(outcome: DemoOutcome, elapsed: float, home: str) -> None:
    plan = DemoPlan()
    stored = ", ".join(f"{rows:,} {kind}" for kind, rows in outcome.rows.items())
    console.print(
        f"Simulated {len(plan.symbols)} symbols from {plan.start:%Y-%m-%d} to "
        f"{plan.end:%Y-%m-%d}: "
        f"stored {stored}; {outcome.feature_rows:,} rows of the default feature set "
        f"[cyan]{outcome.feature_set}[/]."
    )
    if outcome.model is not None:
        trained = outcome.model.to_dict()
        oos = trained["metrics"]
        console.print(
            f"Trained [cyan]{trained['model']} v{trained['model_version']}[/] (champion) on "
            f"{trained['rows']:,} rows before {plan.train_end:%Y-%m-%d}: out-of-sample AUC "
            f"{oos['oos_auc'] or float('nan'):.3f}, IC {oos['oos_ic'] or float('nan'):.3f} "
            f"over {trained['folds']} purged folds; MLflow run {trained['mlflow_run_id']}."
        )
    table = Table(title=f"Backtests ({elapsed:.0f} s in all)")
    for column in ("strategy", "from", "trades", "return", "sharpe", "max dd", "exposure"):
        table.add_column(column, justify="left" if column == "strategy" else "right")
    for run in outcome.runs:
        m = run.metrics
        table.add_row(
            run.spec.strategy,
            f"{run.spec.start:%Y-%m-%d}" if run.spec.start else "",
            f"{m.trades:,}",
            f"{m.total_return:.2%}",
            f"{m.sharpe:.2f}",
            f"{m.max_drawdown:.2%}",
            f"{m.exposure:.0%}",
        )
    console.print(table)
    console.print("Reports (open in a browser):")
    for run in outcome.runs:
        console.print(f"  {run.spec.strategy:<18} {run.folder / 'tearsheet.html'}", soft_wrap=True)
    lineage = (
        "[bold]cift lineage show demo-lgbm@champion[/] traces the model from its data to its "
        "backtests; "
        if outcome.model is not None
        else ""
    )
    console.print(
        f"Next: [bold]cift backtest ls[/] lists the recorded runs; {lineage}"
        "[bold]cift data ls[/] shows what is stored; [bold]cift users password local[/] "
        "then [bold]cift serve[/] shows it all in the dashboard (http://127.0.0.1:8000/). "
        f"Data lives in [cyan]{home}[/]."
    )
