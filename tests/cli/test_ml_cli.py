"""`cift ml` and `cift lineage` on the simulator's bars, as a user runs them, with the
embedded MLflow store under CIFT_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from tests.cli.running import cift

SYMBOLS = "AAPL,MSFT"


def test_train_a_model_backtest_its_signal_and_walk_the_lineage_back(tmp_path: Path) -> None:
    cift(
        "data",
        "backfill",
        "--provider",
        "synthetic",
        "--symbols",
        SYMBOLS,
        "--kind",
        "bars",
        "--timeframe",
        "1Min",
        "--start",
        "2024-01-02",
        "--end",
        "2024-01-12",
    )
    saved = json.loads(
        cift(
            "ml",
            "config",
            "save",
            "--name",
            "trend",
            "--features",
            "rsi(14),zscore(20),roc(10)",
            "--horizon",
            "20",
            "--param",
            "n_estimators=60",
            "--json",
        )
    )
    assert saved["parameters"]["label"]["kind"] == "triple_barrier"
    assert json.loads(cift("ml", "config", "ls", "--json"))[0]["status"] == "draft"

    window = ["--config", "trend", "--symbols", SYMBOLS]
    dataset = json.loads(cift("ml", "dataset", "build", *window, "--end", "2024-01-08", "--json"))
    cv = json.loads(
        cift(
            "ml", "cv", *window, "--end", "2024-01-08", "--scheme", "cpcv", "--folds", "4", "--json"
        )
    )
    assert cv["folds"] == 6  # C(4, 2)
    assert cv["metrics"]["cpcv_paths"] == 3  # φ[4, 2]
    assert "cpcv_pbo" in cv["metrics"]
    assert cv["model_version"] is None
    assert cv["dataset_hash"] == dataset["dataset_hash"]
    trained = json.loads(cift("ml", "train", *window, "--end", "2024-01-08", "--json"))
    assert trained["model_version"] == 1
    assert trained["metrics"]["oos_auc"] is not None
    assert (tmp_path / ".cift" / "mlflow" / "mlflow.db").exists()

    models = json.loads(cift("ml", "models", "ls", "--json"))
    assert models == [
        {"name": "trend", "latest_version": 1, "aliases": {"challenger": 1}, "description": ""}
    ]
    cift("ml", "models", "promote", "trend", "1")
    assert "champion" in cift("ml", "models", "show", "trend")

    out = tmp_path / "scores.parquet"
    cift("ml", "predict", "trend", "--symbols", "AAPL", "--start", "2024-01-09", "-o", str(out))
    scores = pl.read_parquet(out)
    assert scores.get_column("score").drop_nulls().is_between(0, 1).all()

    backtest = json.loads(
        cift(
            "backtest",
            "run",
            "model_signal",
            "--symbols",
            SYMBOLS,
            "--timeframe",
            "1Min",
            "--start",
            "2024-01-09",
            "--param",
            "model=trend",
            "--json",
        )
    )
    shown = json.loads(cift("backtest", "show", backtest["id"], "--json"))
    assert shown["spec"]["params"] == {"model": "trend", "version": "1"}
    assert Path(shown["artifacts"]["tearsheet.html"]).exists()

    record = json.loads(cift("lineage", "show", backtest["id"], "--json"))
    assert record["upstream"][0]["id"] == "trend/1"
    assert record["upstream"][-1] == {
        **record["upstream"][-1],
        "kind": "data",
        "id": trained["data_hash"],
    }
    assert record["subject"]["out_of_sample"] is True
    tree = cift("lineage", "show", "trend@champion")
    assert "used by" in tree
    assert backtest["id"] in tree


def test_mistakes_are_one_clear_line() -> None:
    assert "No model configuration 'nope'" in cift(
        "ml", "train", "--config", "nope", "--symbols", "AAPL", code=1
    )
    assert "Give a YAML file, or --name and --features" in cift("ml", "config", "save", code=2)
    assert "not a lineage reference" in cift("lineage", "show", "!!", code=2)
