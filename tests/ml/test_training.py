"""Training against the real MLflow server: the run, the registry, the model strategy in
a recorded backtest, and the lineage record from that backtest back to the data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest import runs
from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps
from cift.backtest.engine import run_backtest
from cift.backtest.spec import RunSpec
from cift.backtest.vector import run_signal
from cift.core.errors import NotFoundError
from cift.core.settings import Settings
from cift.data.store import open_store
from cift.db.engine import session_factory, transaction
from cift.db.models import ModelConfiguration, ModelStatus
from cift.db.models.ledger import LedgerOrder
from cift.db.repositories.users import local_user_id
from cift.execution.accounts import AccountSpec, open_account
from cift.execution.live.session import account_runner
from cift.execution.runs import run_lineage, start_run
from cift.lineage.record import lineage
from cift.ml import tracking
from cift.ml.configurations import ModelSpec, save_configuration
from cift.ml.crossval import Matrix, ValidationPlan, fit_learner
from cift.ml.inference import load_model
from cift.ml.models import ModelType
from cift.ml.training import dataset_spec, run_training
from cift.model import DataKind, Timeframe
from cift.strategy.builtin.model_signal import SIGNAL, ModelSignal
from tests.conftest import SettingsFactory
from tests.features.reference import random_bars
from tests.schema import migrated_engine

SYMBOLS = ["AAA", "BBB"]
TRAIN_END = datetime(2020, 1, 2, 12, tzinfo=UTC)
PLAN = ValidationPlan(folds=3, importance_repeats=1)


@pytest.fixture
def server(
    make_settings: SettingsFactory, mlflow_uri: str
) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    settings = make_settings(mlflow_tracking_uri=mlflow_uri)
    store = open_store(settings)
    bars = pl.concat([random_bars(4_000, seed=i, symbol=s) for i, s in enumerate(SYMBOLS)])
    store.write(DataKind.BARS, bars, timeframe=Timeframe.parse("1m"))
    store.close()
    engine = migrated_engine(settings)
    yield settings, session_factory(engine)
    engine.dispose()


def _configuration(db: sessionmaker[Session]) -> tuple[uuid.UUID, ModelConfiguration]:
    with transaction(db) as session:
        owner = local_user_id(session)
    spec = ModelSpec.model_validate(
        {
            "name": f"test-{uuid.uuid4().hex[:10]}",
            "model_type": "lightgbm_classifier",
            "features": ["rsi(14)", "zscore(20)", "roc(10)"],
            "label": {"kind": "triple_barrier", "horizon": 20, "profit_taking": 1, "stop_loss": 1},
            "hyperparameters": {"n_estimators": 80, "num_leaves": 15},
        }
    )
    return owner, save_configuration(db, owner, spec)


def test_training_logs_registers_and_the_model_trades_with_its_lineage(
    server: tuple[Settings, sessionmaker[Session]], capfd: pytest.CaptureFixture[str]
) -> None:
    settings, db = server
    owner, row = _configuration(db)
    spec = dataset_spec(row, SYMBOLS, None, TRAIN_END)
    outcome = run_training(settings, db, row, spec, PLAN)
    printed = capfd.readouterr().err
    assert "Registered model" not in printed  # MLflow's own registration lines
    assert "Created version" not in printed

    assert outcome.model_version == 1
    assert outcome.configuration.status is ModelStatus.TRAINED
    assert outcome.configuration.mlflow_run_id == outcome.run_id
    run = tracking.run_tags(settings, outcome.run_id)
    assert run["tags"]["cift.dataset_hash"] == outcome.dataset.dataset_hash
    assert run["tags"]["cift.data_hash"] == outcome.dataset.data_hash
    assert run["tags"]["cift.feature_set_sha"] == spec.feature_set().sha256
    assert run["metrics"]["oos_auc"] == pytest.approx(outcome.cv.overall["auc"])
    (version,) = tracking.model_versions(settings, row.name)
    assert version.aliases == [tracking.CHALLENGER]

    # saved in LightGBM's own text format (nothing unpickled to load it)
    with tracking.mlflow_at(settings) as mlflow:
        saved = Path(mlflow.artifacts.download_artifacts(f"models:/{row.name}/1"))
    flavor = yaml.safe_load((saved / "MLmodel").read_text())["flavors"]["lightgbm"]
    assert flavor["model_class"] == "lightgbm.basic.Booster"
    assert (saved / flavor["data"]).read_text().startswith("tree\n")
    assert not [p.name for p in saved.iterdir() if p.suffix in (".pkl", ".skops")]

    # the registered model is the final fit: the same scores as fitting it here
    model = load_model(settings, row.name, "challenger")
    matrix = Matrix.of(outcome.dataset.frame().collect(), outcome.dataset.features)
    refit = fit_learner(
        matrix,
        np.arange(matrix.x.shape[0]),
        ModelType.LIGHTGBM_CLASSIFIER,
        row.parameters["hyperparameters"],
        PLAN,
    )
    bars = (
        open_store(settings)
        .read(DataKind.BARS, symbols=SYMBOLS, timeframe=Timeframe.parse("1m"))
        .collect()
    )
    scored = model.score(bars).join(
        outcome.dataset.frame().collect().select("symbol", "ts"), on=["symbol", "ts"]
    )
    np.testing.assert_allclose(
        scored.get_column("score").to_numpy(), refit.score(matrix.x), rtol=1e-10
    )
    # a bar's score uses no later bar
    cutoff = datetime(2020, 1, 2, 20, tzinfo=UTC)
    early = model.score(bars.filter(pl.col("ts") < cutoff))
    assert early.get_column("score").drop_nulls().len() > 1_000
    assert_frame_equal(early, model.score(bars).filter(pl.col("ts") < cutoff))

    tracking.promote(settings, row.name, 1)
    backtest = RunSpec(
        strategy="model_signal",
        params={"model": row.name},
        symbols=SYMBOLS,
        timeframe="1m",
        start=TRAIN_END,
    )
    result = runs.execute(backtest, settings)
    assert result.spec.params["version"] == "1"  # the alias pinned when it ran
    assert result.result.trades.height > 0
    # every buy was decided on a bar whose score (from the bars the backtest read) cleared
    # break-even (½ for pt = sl) + edge, every sell on one that did not
    seen = bars.filter(pl.col("ts") >= TRAIN_END)
    decided = model.score(seen).with_columns(
        (pl.col("ts") + pl.duration(minutes=1)).cast(pl.Datetime("ns", "UTC")).alias("created")
    )
    orders = result.result.orders.join(decided, on=["symbol", "created"], how="left")
    assert orders.height == result.result.orders.height
    assert orders.get_column("score").null_count() == 0
    buys, sells = (orders.filter(pl.col("side") == side) for side in (1, -1))
    assert buys.height
    assert sells.height
    assert (buys.get_column("score") > 0.52).all()
    assert (sells.get_column("score") <= 0.52).all()

    _vector_form_equals_the_engine(settings, seen.filter(pl.col("symbol") == SYMBOLS[0]), row.name)

    _live_runner_trades_the_model_as_the_engine(settings, db, owner, seen, row.name)

    record = lineage(settings, db, owner, str(result.id)).to_dict()
    kinds = [n["kind"] for n in record["upstream"]]
    assert kinds == [
        "model_version",
        "training_run",
        "configuration",
        "dataset",
        "feature_set",
        "data",
    ]
    assert record["upstream"][-1]["id"] == outcome.dataset.data_hash
    assert record["subject"]["out_of_sample"] is True
    backwards = lineage(settings, db, owner, f"{row.name}@champion").to_dict()
    downstream = [(n["kind"], n["id"]) for n in backwards["downstream"]]
    assert downstream[0] == ("backtest", str(result.id))
    assert [kind for kind, _ in downstream[1:]] == ["live_run"]  # the model traded live
    from_data = lineage(settings, db, owner, f"data:{outcome.dataset.data_hash}").to_dict()
    assert {n["kind"] for n in from_data["downstream"]} == {
        "dataset",
        "training_run",
        "model_version",
        "backtest",
        "live_run",
    }


def _vector_form_equals_the_engine(settings: Settings, bars: pl.DataFrame, model: str) -> None:
    """The vectorised form trades the registered model as the event-driven engine does,
    with fixed and with probability sizing, in whole shares or not (long-only: the
    vectorised mode's cash account)."""
    minute = Timeframe.parse("1m")
    cases = [
        ({"edge": 0.01}, True),
        ({"edge": 0.01, "sizing": "probability", "fraction": 0.8}, True),
        # near break-even a whole share is often too much: flat, then tried again
        ({"edge": 0.0, "sizing": "probability", "fraction": 0.01}, False),
    ]
    for extra, fractional in cases:
        params = ModelSignal.parse_params({"model": model, "version": "1", **extra})
        event = run_backtest(
            ModelSignal,
            bars=bars,
            timeframe=minute,
            params=params,
            config=BacktestConfig(commission=Bps(10), fractional=fractional),
            settings=settings,
        )
        vector = run_signal(
            bars,
            minute,
            SIGNAL,
            params.model_dump(),
            fee_bps=10,
            fractional=fractional,
            settings=settings,
        )
        assert event.fills.height > 10
        assert vector.fills == event.fills.height
        np.testing.assert_allclose(
            vector.equity.get_column("equity").to_numpy(),
            event.equity.get_column("equity").to_numpy(),
            rtol=1e-9,
        )


def _live_runner_trades_the_model_as_the_engine(
    settings: Settings, db: sessionmaker[Session], owner: uuid.UUID, bars: pl.DataFrame, model: str
) -> None:
    """The same ModelSignal class, live on the paper broker, bar by bar: the engine's
    orders and P&L on the same bars (orders sized when decided in both)."""
    first = bars.sort("ts").group_by("symbol", maintain_order=True).head(150)
    config = BacktestConfig(commission=Bps(10), sizing="decision")
    params = ModelSignal.parse_params({"model": model, "version": "1", "edge": 0.0})
    account = open_account(db, owner, AccountSpec(name="live", initial_cash=Decimal(100_000)))
    pinned = run_lineage(settings, params.model_dump())
    run = start_run(
        db, owner, account, "model_signal", params.model_dump(), SYMBOLS, "1m", config.describe(),
        pinned,
    )  # fmt: skip
    runner = account_runner(db, settings, run, ModelSignal, params, config)
    runner.start()
    runner.on_bars(first)
    engine = run_backtest(
        ModelSignal,
        bars=first,
        timeframe=Timeframe.parse("1m"),
        params=params,
        config=config,
        settings=settings,
    )
    with db() as session:
        orders = session.scalars(select(LedgerOrder).where(LedgerOrder.run_id == run.id)).all()
    filled = [o for o in orders if o.filled_quantity > 0]
    assert len(filled) == engine.orders.filter(pl.col("filled") > 0).height > 2
    equity = float(runner.ctx.equity)
    assert equity == pytest.approx(engine.final_equity, rel=1e-9)
    back = lineage(settings, db, owner, str(run.id)).to_dict()  # the live run to its data
    assert back["subject"]["kind"] == "live_run"
    assert [n["kind"] for n in back["upstream"]] == [
        "model_version",
        "training_run",
        "configuration",
        "dataset",
        "feature_set",
        "data",
    ]
    assert back["upstream"][0]["id"] == f"{model}/1"
    assert back["upstream"][1]["id"] == pinned["training_run"]


def test_unknown_models_and_versions_are_clear_errors(
    server: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, _ = server
    with pytest.raises(NotFoundError, match="No registered model"):
        load_model(settings, f"missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(NotFoundError, match="No registered model"):
        tracking.promote(settings, f"missing-{uuid.uuid4().hex[:8]}", 1)
