"""Recorded runs: execute a :class:`RunSpec`, keep its artifacts, record it in ``backtests``.

Every run gets a row (config, strategy, parameters, data range and content hash, code
version, metrics, artifact paths) and a folder ``<CIFT_HOME>/backtests/<id>/`` with the
equity curve, fills, orders, trades, metrics and the tearsheet. Artifacts are written
to a temporary folder and renamed into place, so a folder is either complete or absent.
Re-running a recorded run replays its spec and checks the result is identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from cift.backtest.engine import BacktestResult, run_backtest
from cift.backtest.metrics import Metrics, buy_and_hold, compute_metrics, sampled
from cift.backtest.spec import Inputs, RunSpec, load_inputs
from cift.backtest.tearsheet import write_reports
from cift.backtest.telemetry import RUNS
from cift.core.errors import CiftError, ConflictError
from cift.core.settings import Settings
from cift.core.version import code_version
from cift.data.digest import frame_digest
from cift.db.repositories.backtests import BacktestRecords, backtest_records

Progress = Callable[[float], None]
FRAMES = ("equity", "fills", "orders", "trades")


@dataclass(frozen=True)
class RunOutcome:
    """A finished, recorded run."""

    id: uuid.UUID
    spec: RunSpec
    result: BacktestResult
    metrics: Metrics
    folder: Path
    data_hash: str


def run_folder(settings: Settings, run_id: uuid.UUID) -> Path:
    return settings.home / "backtests" / str(run_id)


def execute(
    spec: RunSpec,
    settings: Settings,
    *,
    progress: Progress | None = None,
    run_id: uuid.UUID | None = None,
    store: BacktestRecords | None = None,
) -> RunOutcome:
    """Run ``spec``, write its artifacts and record it; a failure is recorded too."""
    if store is None:
        with backtest_records(settings) as opened:
            return execute(spec, settings, progress=progress, run_id=run_id, store=opened)
    spec.validate_all()
    spec = spec.resolved(settings)
    config = spec.backtest_config()
    run_id = run_id or store.create(spec.model_dump(mode="json"), config.initial_cash)
    store.start(run_id)
    try:
        inputs = load_inputs(spec, settings)
        result = simulate(spec, inputs, progress, settings)
        measured = sampled(result) if inputs.timeframe is None else result
        benchmark = _benchmark(inputs, config.calendar)
        metrics = compute_metrics(measured, benchmark=benchmark)
        folder = write_artifacts(settings, run_id, spec, measured, metrics, inputs, benchmark)
    except CiftError as exc:
        store.fail(run_id, exc.message)
        RUNS.labels("failed").inc()
        raise
    except Exception as exc:
        store.fail(run_id, f"{type(exc).__name__}: {exc}")
        RUNS.labels("failed").inc()
        raise
    RUNS.labels("done").inc()
    first, last = inputs.span()
    store.succeed(
        run_id,
        start_at=first,
        end_at=last,
        data_hash=inputs.data_hash,
        code_version=code_version(),
        final_equity=Decimal(repr(measured.final_equity)),
        metrics=metrics.to_dict(),
        artifacts=artifact_paths(folder),
        symbols=measured.symbols,
    )
    return RunOutcome(run_id, spec, measured, metrics, folder, inputs.data_hash)


def simulate(
    spec: RunSpec,
    inputs: Inputs,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> BacktestResult:
    """The engine run of ``spec`` on ``inputs`` (nothing recorded)."""
    return run_backtest(
        spec.strategy_class(),
        bars=inputs.bars,
        timeframe=inputs.timeframe,
        quotes=inputs.quotes,
        trades=inputs.trades,
        params=spec.strategy_params(),
        config=spec.backtest_config(),
        progress=progress,
        settings=settings,
    )


def _benchmark(inputs: Inputs, calendar: str | None) -> pl.DataFrame | None:
    if inputs.bars is None:
        return None
    return buy_and_hold(inputs.bars, inputs.timeframe, calendar)


def write_artifacts(
    settings: Settings,
    run_id: uuid.UUID,
    spec: RunSpec,
    result: BacktestResult,
    metrics: Metrics,
    inputs: Inputs,
    benchmark: pl.DataFrame | None,
) -> Path:
    """Write every artifact into a temporary folder, then rename it into place."""
    folder = run_folder(settings, run_id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{run_id}-", dir=folder.parent))
    staging.chmod(0o755)
    try:
        for name in FRAMES:
            getattr(result, name).write_parquet(staging / f"{name}.parquet")
        (staging / "spec.json").write_text(spec.model_dump_json(indent=2))
        summary = {"id": str(run_id), "result_hash": result_hash(result), **metrics.to_dict()}
        (staging / "metrics.json").write_text(json.dumps(summary, indent=2))
        write_reports(
            staging,
            result,
            metrics,
            benchmark=benchmark,
            prices=inputs.bars,
            library=folder.parent,
        )
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def artifact_paths(folder: Path) -> dict[str, str]:
    return {path.name: str(path) for path in sorted(folder.iterdir())}


def result_hash(result: BacktestResult) -> str:
    """A digest of everything the run produced; equal digests mean identical results."""
    digest = hashlib.sha256()
    for name in FRAMES:
        digest.update(frame_digest(getattr(result, name)).encode())
    return digest.hexdigest()


def rerun(run_id: uuid.UUID, settings: Settings) -> RunOutcome:
    """Replay a recorded run as a new run and check it reproduces the original."""
    with backtest_records(settings) as store:
        original = store.get(run_id)
        spec = RunSpec.model_validate(original.config["spec"])
        outcome = execute(spec, settings, store=store)
    if original.data_hash and outcome.data_hash != original.data_hash:
        raise ConflictError(
            f"The data of backtest {run_id} changed since it was recorded (hash "
            f"{original.data_hash[:12]} now {outcome.data_hash[:12]}); the new run "
            f"{outcome.id} used today's data."
        )
    recorded = json.loads((run_folder(settings, run_id) / "metrics.json").read_text())
    if recorded.get("result_hash") != result_hash(outcome.result):
        raise ConflictError(
            f"Backtest {run_id} did not reproduce: same data and spec, different result "
            f"(new run {outcome.id}). Was the code changed? Recorded with version "
            f"{original.code_version}, now {code_version()}."
        )
    return outcome
