"""`cift backtest` run, ls, show, report and rerun, as a user runs them."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.cli.running import cift
from tests.samples import NVDA


def test_run_on_a_file_prints_metrics_and_records_the_run() -> None:
    args = ["--data", str(NVDA), "--param", "fast=10", "--param", "slow=50"]
    metrics = json.loads(cift("backtest", "run", "sma_cross", *args, "--json"))
    assert metrics["trades"] > 10
    assert math.isclose(metrics["total_return"], metrics["final_equity"] / 100_000 - 1)

    listed = json.loads(cift("backtest", "ls", "--json"))
    assert [r["id"] for r in listed] == [metrics["id"]]
    assert listed[0]["status"] == "succeeded"

    shown = json.loads(cift("backtest", "show", metrics["id"][:13], "--json"))
    assert shown["spec"]["params"] == {"fast": 10, "slow": 50}
    assert shown["start_at"].startswith("1999-01-22")
    assert len(shown["data_hash"]) == 64
    assert shown["metrics"]["sharpe"] == metrics["sharpe"]

    report = Path(cift("backtest", "report", metrics["id"]).strip())
    assert report.read_text().startswith("<!doctype html>")

    assert "Reproduced" in cift("backtest", "rerun", metrics["id"])
    assert len(json.loads(cift("backtest", "ls", "--json"))) == 2
    table = cift("backtest", "ls")
    assert metrics["id"][:13] in table  # the table shows a prefix that show and rerun take
    assert "Reproduced" in cift("backtest", "rerun", metrics["id"][:13])


def test_run_from_the_store_equals_the_run_on_the_file() -> None:
    cift("data", "import", str(NVDA))
    window = ["--start", "2004-01-01", "--end", "2009-12-31", "--param", "slow=30"]
    stored = json.loads(
        cift(
            "backtest",
            "run",
            "sma_cross",
            "--symbols",
            "NVDA",
            "--timeframe",
            "1D",
            *window,
            "--json",
        )
    )
    from_file = json.loads(
        cift("backtest", "run", "sma_cross", "--data", str(NVDA), *window, "--json")
    )
    stored.pop("id"), from_file.pop("id")
    assert stored == from_file
    assert stored["start"].startswith("2004-01-0")


def test_bad_input_gets_one_clear_line() -> None:
    out = cift("backtest", "run", "sma_cross", "--data", str(NVDA), "--param", "fast=80", code=2)
    assert "fast (80) must be shorter than slow (50)" in out
    out = cift("backtest", "run", "nope", "--data", str(NVDA), code=2)
    assert "Unknown strategy 'nope'; choose from sma_cross" in out
    out = cift("backtest", "run", "sma_cross", "--symbols", "ZZZ", code=1)
    assert "The store has no bars for ZZZ" in out
    out = cift("backtest", "run", "sma_cross", "--data", str(NVDA), "--param", "slow", code=2)
    assert "not name=value" in out
    assert "matches no recorded backtest" in cift("backtest", "show", "0000", code=1)
    # a negative cost would pay for every trade: refused, not run
    for option in ("--slippage-bps", "--commission-bps"):
        out = cift("backtest", "run", "sma_cross", "--data", str(NVDA), option, "-10", code=2)
        assert "bps: Input should be greater than or equal to 0" in out
