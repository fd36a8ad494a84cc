"""Machine learning: dataset builds, purged cross-validation of LightGBM, model signals.

1. Dataset build: 500 symbols x 20,000 minute bars x 20 feature calls with a
   triple-barrier label, from the embedded store, against computing the same features
   from the same store alone (the same read path, no labels, nothing written). Cold
   (every part computed and written) and warm (the cache hit a rebuild gets).
2. Purged K-fold of LightGBM on 1,000,000 rows x 50 features: CIFT's ``cross_validate``
   (purged, embargoed splits; uniqueness weights; the purged early-stopping split; scores,
   AUC, log-loss, IC per day) and the MLflow run it logs, against calling LightGBM by
   hand on the very same folds and early-stopping rows (fit, predict_proba, AUC).
3. A model-signal backtest of 1,000,000 bars (10 symbols x 100,000) against SMA cross
   on the same bars, both event-driven; the model's features and scores come in one
   vectorised pass.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from pathlib import Path

import lightgbm
import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from cift.backtest.engine import run_backtest
from cift.core.settings import Settings
from cift.data.store.embedded import EmbeddedStore
from cift.db import migrate
from cift.db.engine import create_db_engine, session_factory, transaction
from cift.db.models import ModelConfiguration
from cift.db.repositories.users import local_user_id
from cift.features.pipeline import compute_set, symbol_batches
from cift.ml.configurations import ModelSpec, save_configuration
from cift.ml.crossval import Matrix, ValidationPlan, cross_validate, early_stopping_split
from cift.ml.datasets import Dataset, DatasetSpec, build_dataset
from cift.ml.labelling import LabelSpec
from cift.ml.models import LIGHTGBM_DEFAULTS, ModelType
from cift.ml.tracking import mlflow_at, promote
from cift.ml.training import dataset_spec, log_run, run_training
from cift.ml.validation import Intervals
from cift.model import DataKind, Timeframe
from cift.strategy.builtin.model_signal import ModelSignal
from cift.strategy.builtin.sma_cross import SmaCross

from common import machine, measure, minute_bars, table

MINUTE = Timeframe.parse("1m")
FEATURES = [
    "sma(10)",
    "sma(50)",
    "ema(20)",
    "ema(100)",
    "rsi(14)",
    "rsi(50)",
    "macd(12,26,9)",
    "bbands(20,2,2)",
    "atr(14)",
    "adx(14)",
    "stoch(14,3,3)",
    "obv",
    "roc(10)",
    "roc(60)",
    "zscore(20)",
    "zscore(100)",
    "willr(14)",
    "cci(20)",
    "mfi(14)",
    "natr(14)",
]
LABEL = LabelSpec(kind="triple_barrier", horizon=30, profit_taking=2.0, stop_loss=1.0)
SIGNAL_LABEL = LabelSpec(kind="forward_return", horizon=30)
"""Symmetric, so the signal model trades whenever it leans either way (edge 0)."""
CV_PARAMS = {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 63}


def dataset_bench(symbols: int, bars: int, repeat: int) -> list[list[str]]:
    folder = Path(tempfile.mkdtemp(prefix="cift-ml-bench-"))
    store = EmbeddedStore(folder / "market")
    frame = minute_bars(symbols, bars).sort("symbol", "ts")
    for batch in symbol_batches(sorted(frame.get_column("symbol").unique().to_list())):
        store.write(DataKind.BARS, frame.filter(pl.col("symbol").is_in(batch)), timeframe=MINUTE)
    del frame
    names = sorted(store.coverage(DataKind.BARS).get_column("symbol").to_list())
    spec = DatasetSpec(features=FEATURES, label=LABEL, symbols=names)
    feature_set = spec.feature_set()

    def features_alone() -> None:
        for batch in symbol_batches(names):
            compute_set(
                store.read(DataKind.BARS, symbols=batch, timeframe=MINUTE).collect(), feature_set
            )

    roots = iter(folder / f"ds{i}" for i in range(repeat))
    alone = measure("features alone", features_alone, repeat=repeat)
    cold = measure("dataset, cold", lambda: build_dataset(store, spec, next(roots)), repeat=repeat)
    warm = measure(
        "dataset, cached", lambda: build_dataset(store, spec, folder / "ds0"), repeat=repeat
    )
    rows = build_dataset(store, spec, folder / "ds0").rows
    return [
        [
            t.name,
            f"{t.median:.2f}",
            f"{t.median / alone.median:.2f}",
            f"{rows:,}" if t is cold else "",
        ]
        for t in (alone, cold, warm)
    ]


def synthetic_matrix(rows: int, features: int, symbols: int = 20) -> Matrix:
    rng = np.random.default_rng(5)
    per = rows // symbols
    x = rng.normal(size=(per * symbols, features))
    fwd_ret = 0.002 * x[:, 0] + 0.001 * x[:, 1] * x[:, 2] + rng.normal(scale=0.01, size=x.shape[0])
    ts = (
        np.tile(np.arange(per, dtype=np.int64) * 60_000_000_000, symbols)
        + 1_704_205_800_000_000_000
    )
    frame = pl.DataFrame(
        {"symbol": np.repeat([f"S{i:02d}" for i in range(symbols)], per), "ts": ts}
    )
    frame = frame.with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    return Matrix(
        features=[f"f{i}" for i in range(features)],
        x=x,
        fwd_ret=fwd_ret,
        fwd_label=np.sign(fwd_ret).astype(np.int8),
        symbol=frame.get_column("symbol").to_numpy(),
        ts=ts,
        intervals=Intervals(ts, ts + 20 * 60_000_000_000),
    )


def by_hand(matrix: Matrix, plan: ValidationPlan) -> float:
    """LightGBM on CIFT's folds and early-stopping rows, nothing else: mean AUC."""
    y = (matrix.fwd_label > 0).astype(np.int8)
    aucs = []
    for split in plan.splits(matrix.intervals):
        fit, stop = early_stopping_split(matrix, split.train, plan, ModelType.LIGHTGBM_CLASSIFIER)
        model = lightgbm.LGBMClassifier(**LIGHTGBM_DEFAULTS | CV_PARAMS)
        rows, held = split.train[fit], split.train[stop]
        model.fit(
            matrix.x[rows],
            y[rows],
            eval_X=(matrix.x[held],),
            eval_y=(y[held],),
            callbacks=[lightgbm.early_stopping(50, verbose=False)],
        )
        aucs.append(roc_auc_score(y[split.test], model.predict_proba(matrix.x[split.test])[:, 1]))
    return float(np.mean(aucs))


def cv_bench(rows: int, features: int, repeat: int) -> list[list[str]]:
    matrix = synthetic_matrix(rows, features)
    plan = ValidationPlan(folds=5, embargo=0.01, importance_repeats=0)
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="cift-ml-bench-")))
    row = ModelConfiguration(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        name="bench",
        version=1,
        model_type="lightgbm_classifier",
        parameters={},
    )
    spec = DatasetSpec(features=["rsi(14)"], label=LABEL, symbols=["S00"])
    dataset = Dataset("0" * 64, "0" * 64, "0" * 64, spec, matrix.features, [], rows, [], ("", ""))
    aucs: dict[str, float] = {}
    with mlflow_at(settings):  # imported and its store created before the clock starts
        pass

    def cift() -> None:
        cv = cross_validate(matrix, ModelType.LIGHTGBM_CLASSIFIER, CV_PARAMS, plan)
        log_run(settings, row, dataset, matrix, cv, None, CV_PARAMS)
        aucs["cift"] = cv.summary()["auc_mean"]

    hand = measure(
        "LightGBM by hand", lambda: aucs.update(hand=by_hand(matrix, plan)), repeat=repeat
    )
    ours = measure("CIFT cross_validate + MLflow run", cift, repeat=repeat)
    return [
        [t.name, f"{t.median:.2f}", f"{t.median / hand.median:.3f}", f"{aucs[k]:.4f}"]
        for t, k in ((hand, "hand"), (ours, "cift"))
    ]


def backtest_bench(symbols: int, bars: int, repeat: int) -> list[list[str]]:
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="cift-ml-bench-")))
    frame = minute_bars(symbols, bars)
    store = EmbeddedStore(settings.home / "market")
    store.write(
        DataKind.BARS, frame.filter(pl.col("symbol").is_in(["S000", "S001"])), timeframe=MINUTE
    )
    store.close()
    engine = create_db_engine(settings)
    migrate.upgrade(engine)
    db = session_factory(engine)
    with transaction(db) as session:
        owner = local_user_id(session)
    config = save_configuration(
        db,
        owner,
        ModelSpec.model_validate(
            {
                "name": "bench-signal",
                "model_type": "lightgbm_classifier",
                "features": ["rsi(14)", "zscore(20)", "roc(10)"],
                "label": SIGNAL_LABEL.content,
                "hyperparameters": {"n_estimators": 100},
            }
        ),
    )
    spec = dataset_spec(config, ["S000", "S001"], None, None)
    trained = run_training(
        settings, db, config, spec, ValidationPlan(folds=3, importance_repeats=0)
    )
    promote(settings, "bench-signal", trained.model_version or 1)
    engine.dispose()
    model_params = ModelSignal.parse_params({"model": "bench-signal", "edge": 0.0})
    trades: dict[str, int] = {}

    def run(name: str, strategy: type, params: object) -> None:
        result = run_backtest(
            strategy, bars=frame, timeframe=MINUTE, params=params, settings=settings
        )
        trades[name] = result.trades.height

    sma = measure(
        "sma_cross", lambda: run("sma", SmaCross, SmaCross.parse_params({})), repeat=repeat
    )
    model = measure("model_signal", lambda: run("model", ModelSignal, model_params), repeat=repeat)
    return [
        [t.name, f"{t.median:.2f}", f"{t.median / sma.median:.2f}", f"{trades[k]:,}"]
        for t, k in ((sma, "sma"), (model, "model"))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--bars", type=int, default=20_000)
    parser.add_argument("--cv-rows", type=int, default=1_000_000)
    parser.add_argument("--cv-features", type=int, default=50)
    parser.add_argument("--backtest-symbols", type=int, default=10)
    parser.add_argument("--backtest-bars", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["dataset", "cv", "backtest"], help="One part only.")
    args = parser.parse_args()
    print(machine(), "\n")
    wanted = {args.only} if args.only else {"dataset", "cv", "backtest"}
    if "dataset" in wanted:
        title = f"Dataset build: {args.symbols} symbols x {args.bars:,} bars x {len(FEATURES)}"
        rows = dataset_bench(args.symbols, args.bars, args.repeat)
        print(table(f"{title} features (s)", ["path", "seconds", "/ features alone", "rows"], rows))
    if "cv" in wanted:
        title = f"Purged 5-fold CV of LightGBM: {args.cv_rows:,} rows x {args.cv_features}"
        rows = cv_bench(args.cv_rows, args.cv_features, args.repeat)
        print(table(f"{title} features (s)", ["path", "seconds", "/ by hand", "mean AUC"], rows))
    if "backtest" in wanted:
        title = f"Event-driven backtest of {args.backtest_symbols * args.backtest_bars:,} bars (s)"
        rows = backtest_bench(args.backtest_symbols, args.backtest_bars, args.repeat)
        print(table(title, ["strategy", "seconds", "/ sma_cross", "trades"], rows))


if __name__ == "__main__":
    main()
