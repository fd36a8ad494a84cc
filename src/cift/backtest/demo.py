"""The demo: the whole loop on the embedded defaults, in well under a minute.

It simulates a market (minute bars of several symbols for a quarter, plus a week of
trades and quotes), ingests it through the resumable backfill, computes the default
feature set, trains a LightGBM model on the first two months (purged cross-validation,
tracked in the local MLflow store, registered as the champion), runs the built-in
strategies as recorded backtests with tearsheets, and the model's signal next to SMA
cross over the month after its training data, and returns what a summary needs.
Running it again reuses what is already stored.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from cift.backtest import runs
from cift.backtest.spec import RunSpec
from cift.core.errors import NotFoundError
from cift.core.settings import Settings
from cift.data.loader import BackfillPlan, Checkpoints, backfill
from cift.data.providers import get_provider
from cift.data.store import open_store
from cift.db.engine import transaction
from cift.db.opening import metadata_sessions
from cift.db.repositories.backtests import backtest_records
from cift.db.repositories.users import local_user_id
from cift.features.pipeline import compute_and_store, default_set
from cift.ml.configurations import ModelSpec, save_configuration
from cift.ml.crossval import ValidationPlan
from cift.ml.tracking import promote
from cift.ml.training import TrainingOutcome, dataset_spec, find_configuration, run_training
from cift.model import DataKind, Timeframe

MINUTE = Timeframe.parse("1m")


@dataclass(frozen=True)
class DemoPlan:
    """The simulated market: minute bars over ``[start, end)``, ticks over a shorter span."""

    symbols: tuple[str, ...] = ("AAPL", "MSFT", "NVDA", "AMZN", "JPM", "XOM")
    start: datetime = datetime(2024, 1, 2, tzinfo=UTC)
    end: datetime = datetime(2024, 4, 1, tzinfo=UTC)
    ticks_start: datetime = datetime(2024, 3, 25, tzinfo=UTC)
    ticks_end: datetime = datetime(2024, 3, 30, tzinfo=UTC)
    train_end: datetime = datetime(2024, 3, 1, tzinfo=UTC)
    """The model learns from bars before this and trades the ones from it on."""
    seed: int = 7

    @property
    def tick_symbols(self) -> tuple[str, ...]:
        return self.symbols[:2]


COSTS = {
    "initial_cash": 1_000_000.0,
    "commission": {"model": "bps", "bps": 0.5, "minimum": 0.0},
    "slippage": {"model": "fixed_bps", "bps": 0.5},
}
STRATEGIES: tuple[tuple[str, dict[str, object]], ...] = (
    ("sma_cross", {"fast": 30, "slow": 120, "fraction": 0.15}),
    ("rsi_reversion", {"period": 14, "oversold": 25.0, "exit": 55.0, "fraction": 0.15}),
    ("donchian_breakout", {"entry": 90, "exit": 45, "fraction": 0.15}),
    ("momentum", {"lookback": 390, "top": 2, "rebalance_days": 5}),
)
ORDER_FLOW = ("order_flow", {"halflife": 50.0, "threshold": 0.3, "size": 100.0})
MODEL = {
    "name": "demo-lgbm",
    "model_type": "lightgbm_classifier",
    "features": ["rsi(14)", "macd(12,26,9)", "bbands(20,2,2)", "atr(14)", "roc(10)", "zscore(20)"],
    "label": {"kind": "triple_barrier", "horizon": 30, "profit_taking": 2.0, "stop_loss": 1.0},
    "hyperparameters": {"n_estimators": 200, "num_leaves": 15},
    "description": "The demo's model: triple-barrier outcomes of 30-minute bets.",
}
MODEL_PLAN = ValidationPlan(folds=4, importance_repeats=1)

Step = Callable[[str, float], None]
"""Told the current step's name and the fraction of it done."""


@dataclass
class DemoOutcome:
    """What the demo did, for its summary."""

    rows: dict[str, int] = field(default_factory=dict)
    feature_rows: int = 0
    feature_set: str = ""
    runs: list[runs.RunOutcome] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    model: TrainingOutcome | None = None


def _spec(
    plan: DemoPlan, strategy: str, params: Mapping[str, object], start: datetime, **rest: object
) -> RunSpec:
    values: dict[str, object] = {
        "strategy": strategy,
        "params": dict(params),
        "symbols": list(plan.symbols),
        "start": start,
        "end": plan.end,
        "timeframe": str(MINUTE),
        "config": COSTS,
        "name": f"demo {strategy}",
    }
    return RunSpec.model_validate(values | rest)


def demo_specs(plan: DemoPlan) -> list[RunSpec]:
    """The backtests the demo runs: bar strategies on the bars, order flow on the ticks."""
    name, params = ORDER_FLOW
    ticks = _spec(
        plan,
        name,
        params,
        plan.ticks_start,
        end=plan.ticks_end,
        timeframe=None,
        symbols=list(plan.tick_symbols),
    )
    return [*(_spec(plan, n, p, plan.start) for n, p in STRATEGIES), ticks]


def model_specs(plan: DemoPlan) -> list[RunSpec]:
    """The trained model's signal and SMA cross, side by side after the training span."""
    name, params = STRATEGIES[0]
    pairs: list[tuple[str, Mapping[str, object]]] = [
        ("model_signal", {"model": MODEL["name"]}),
        (name, params),
    ]
    return [_spec(plan, s, p, plan.train_end, name=f"demo {s} after training") for s, p in pairs]


def run_demo(
    settings: Settings, plan: DemoPlan | None = None, step: Step | None = None, *, ml: bool = True
) -> DemoOutcome:
    """Simulate, ingest, compute features, train a model (``ml``) and backtest; see the
    module docstring."""
    plan = plan or DemoPlan()
    step = step or (lambda name, fraction: None)
    outcome = DemoOutcome()
    with metadata_sessions(settings) as db:
        _ingest(settings, Checkpoints(db), plan, outcome, step)
    began = time.perf_counter()
    step("features", 0.0)
    store = open_store(settings)
    try:
        feature_set = default_set(MINUTE)
        computed = compute_and_store(store, feature_set, symbols=plan.symbols)
    finally:
        store.close()
    outcome.feature_rows, outcome.feature_set = computed.rows, computed.set_id
    outcome.seconds["features"] = time.perf_counter() - began
    step("features", 1.0)
    specs = demo_specs(plan)
    if ml:
        outcome.model = _train(settings, plan, step, outcome)
        specs += model_specs(plan)
    with backtest_records(settings) as records:
        for spec in specs:
            began = time.perf_counter()
            label = f"backtest {spec.strategy}"
            step(label, 0.0)
            progress = functools.partial(step, label)
            outcome.runs.append(runs.execute(spec, settings, store=records, progress=progress))
            outcome.seconds[label] = time.perf_counter() - began
            step(label, 1.0)
    return outcome


def _train(settings: Settings, plan: DemoPlan, step: Step, outcome: DemoOutcome) -> TrainingOutcome:
    """Train the demo's model on the bars before ``train_end`` and make it the champion
    (its configuration is saved once and reused)."""
    began = time.perf_counter()
    with metadata_sessions(settings, upgrade=False) as db:
        with transaction(db) as session:
            owner = local_user_id(session)
        spec = ModelSpec.model_validate(MODEL)
        try:
            row = find_configuration(db, owner, spec.name)
        except NotFoundError:
            row = save_configuration(db, owner, spec)
        dataset = dataset_spec(row, list(plan.symbols), plan.start, plan.train_end)
        trained = run_training(
            settings, db, row, dataset, MODEL_PLAN, progress=lambda s, f: step(f"model {s}", f)
        )
    assert trained.model_version is not None
    promote(settings, row.name, trained.model_version)
    outcome.seconds["model"] = time.perf_counter() - began
    return trained


def _ingest(
    settings: Settings, checkpoints: Checkpoints, plan: DemoPlan, outcome: DemoOutcome, step: Step
) -> None:
    provider = get_provider("synthetic", settings, seed=plan.seed)
    ticks = (plan.tick_symbols, plan.ticks_start, plan.ticks_end)
    plans = [
        BackfillPlan("synthetic", DataKind.BARS, plan.symbols, plan.start, plan.end, MINUTE),
        BackfillPlan("synthetic", DataKind.TRADES, *ticks),
        BackfillPlan("synthetic", DataKind.QUOTES, *ticks),
    ]
    store = open_store(settings)
    try:
        for job in plans:
            began = time.perf_counter()
            label = f"simulate and store {job.kind.value}"
            total = len(job.chunks())
            finished = 0

            def on_progress(
                chunk: object, rows: int, done: bool, label: str = label, total: int = total
            ) -> None:
                nonlocal finished
                finished += int(done)
                step(label, finished / total)

            step(label, 0.0)
            backfill(provider, store, checkpoints, job, on_progress=on_progress)
            stored = store.coverage(job.kind).filter(pl.col("symbol").is_in(job.symbols))
            outcome.rows[job.kind.value] = int(stored.get_column("rows").sum())
            outcome.seconds[label] = time.perf_counter() - began
            step(label, 1.0)
    finally:
        store.close()
        provider.close()
