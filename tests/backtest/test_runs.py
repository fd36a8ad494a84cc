"""Recorded runs: failures are recorded, artifacts appear whole or not at all, reruns
detect changed data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cift.backtest import runs
from cift.backtest.spec import RunSpec
from cift.core.errors import ConflictError, ValidationError
from cift.db.models import JobStatus
from cift.db.repositories.backtests import backtest_records
from tests.conftest import SettingsFactory
from tests.samples import NVDA


def spec(path: Path, **params: int) -> RunSpec:
    return RunSpec(strategy="sma_cross", params=params, data_file=str(path))


def test_a_run_is_recorded_with_everything_to_reproduce_it(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    outcome = runs.execute(spec(NVDA, fast=5, slow=20), settings)
    with backtest_records(settings) as records:
        row = records.get(outcome.id)
    assert row.status is JobStatus.SUCCEEDED
    assert row.progress == 1.0
    assert row.config["spec"]["params"] == {"fast": 5, "slow": 20}
    assert row.symbols == ["NVDA"]
    assert float(row.final_equity or 0) == pytest.approx(outcome.result.final_equity)
    assert row.metrics["trades"] == outcome.result.trades.height
    frames = {f"{name}.parquet" for name in ("equity", "fills", "orders", "trades")}
    documents = {"metrics.json", "spec.json", "tearsheet.html", "tearsheet.json"}
    assert set(row.artifacts) == frames | documents
    assert all(Path(p).is_file() for p in row.artifacts.values())


def test_a_failing_run_is_recorded_and_leaves_no_folder(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(runs, "write_reports", broken)
    with pytest.raises(OSError, match="disk full"):
        runs.execute(spec(NVDA), settings)
    with backtest_records(settings) as records:
        (row,) = records.recent()
    assert row.status is JobStatus.FAILED
    assert row.error == "OSError: disk full"
    assert list((settings.home / "backtests").iterdir()) == []


def test_bad_spec_fails_before_anything_is_recorded(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    with pytest.raises(ValidationError, match="slow"):
        runs.execute(spec(NVDA, fast=50, slow=10), settings)
    with pytest.raises(ValidationError, match="symbols"):
        runs.execute(RunSpec(strategy="sma_cross"), settings)
    with backtest_records(settings) as records:
        assert records.recent() == []


def test_rerun_notices_changed_data(make_settings: SettingsFactory, tmp_path: Path) -> None:
    settings = make_settings()
    copy = tmp_path / "nvda.csv"
    shutil.copy(NVDA, copy)
    first = runs.execute(spec(copy), settings)
    assert runs.rerun(first.id, settings).data_hash == first.data_hash
    lines = copy.read_text().splitlines()
    copy.write_text("\n".join(lines[:-30]) + "\n")
    with pytest.raises(ConflictError, match=r"data of backtest .* changed"):
        runs.rerun(first.id, settings)
