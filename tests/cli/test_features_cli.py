"""`cift features` on plain files and on the store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import talib
from typer.testing import CliRunner

from cift.cli.app import app
from tests.cli.running import cift
from tests.samples import DATA

runner = CliRunner()
SPEC = "rsi(14),sma(20),macd(12,26,9),bbands(20,2)"
OUTPUTS = [
    "rsi",
    "sma",
    "macd",
    "macd_signal",
    "macd_hist",
    "bbands_upper",
    "bbands_middle",
    "bbands_lower",
]
BAR_FILES = [
    "daily/nvda-1999-2014.csv",
    "daily/orcl-1995-2014.csv",
    "minute/6EH4-cme-1min-2024-01.csv.gz",
    "minute/gbpusd-m1-bid-2012.csv",
    "minute/gbpusd-m1-ask-2012.csv",
    "ticks/ticksample.csv",
]


@pytest.mark.parametrize("name", BAR_FILES)
def test_file_mode_keeps_input_columns_and_adds_each_output(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    cift("features", "compute", "--input", str(DATA / name), "--features", SPEC, "-o", str(out))
    frame = pl.read_parquet(out)
    raw = pl.read_csv(DATA / name)
    assert frame.columns == [*raw.columns, *OUTPUTS]
    close = frame.get_column(next(c for c in raw.columns if c.lower() == "close")).to_numpy()
    expected = talib.RSI(close.astype(float), 14)
    np.testing.assert_allclose(frame.get_column("rsi").to_numpy(), expected, rtol=1e-9)


def test_file_mode_groups_by_symbol(tmp_path: Path) -> None:
    nvda = pl.read_csv(DATA / "daily/nvda-1999-2014.csv").with_columns(
        pl.lit("NVDA").alias("symbol")
    )
    orcl = pl.read_csv(DATA / "daily/orcl-1995-2014.csv").with_columns(
        pl.lit("ORCL").alias("symbol")
    )
    mixed = tmp_path / "mixed.csv"
    pl.concat([orcl.head(300), nvda.head(300), orcl.slice(300, 300)]).write_csv(mixed)
    out = tmp_path / "out.csv"
    cift("features", "compute", "--input", str(mixed), "--features", "sma(20)", "-o", str(out))
    frame = pl.read_csv(out)
    orcl_rows = frame.filter(pl.col("symbol") == "ORCL")
    assert orcl_rows.height == 600
    expected = talib.SMA(orcl.head(600).get_column("Close").to_numpy(), 20)
    np.testing.assert_allclose(orcl_rows.get_column("sma").to_numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ("rsi(14),frobnicate(2)", "Unknown feature 'frobnicate'; choose from:"),
        ("macd(12,26,fast=3)", "no parameter 'fast'"),
        ("rsi(0)", "at least 2"),
    ],
)
def test_file_mode_errors_list_the_choices(features: str, message: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "features",
            "compute",
            "--input",
            str(DATA / "daily/nvda-1999-2014.csv"),
            "--features",
            features,
            "-o",
            str(tmp_path / "x.csv"),
        ],
    )
    assert result.exit_code == 2
    assert message in result.output


def test_store_mode_compute_ls_and_show() -> None:
    cift("data", "import", str(DATA / "daily/nvda-1999-2014.csv"))
    output = cift("features", "compute", "--set", "default", "--timeframe", "1D")
    assert "4,012 newly stored" in output
    listing = json.loads(cift("features", "ls", "--json"))
    assert {"rsi", "macd", "bbands"} <= {f["name"] for f in listing["features"]}
    (stored,) = listing["stored_sets"]
    rows = json.loads(cift("features", "show", stored["set_id"], "NVDA", "--tail", "--json"))
    assert len(rows) == 20
    assert rows[-1]["ts"].startswith("2014-12-31")
    assert rows[-1]["rsi"] is not None
    by_name = json.loads(cift("features", "show", "default", "NVDA", "--tail", "--json"))
    assert by_name == rows  # the name alone, while one set of that name is stored
    cift("features", "compute", "--features", "rsi(14)", "--name", "default", "--timeframe", "1D")
    output = cift("features", "show", "default", "NVDA", code=2)
    assert "Several stored feature sets are named 'default'" in output
    assert stored["set_id"] in output
    assert "No stored feature set 'swing'" in cift("features", "show", "swing", "NVDA", code=1)


TICK_FILES = {
    "minute/2006-01-02-volume-min-001.csv": (
        ["--columns", "Date,Time,Open,High,Low,Close,Volume,OpenInterest", "--tz", "Europe/Berlin"],
        "adx(14),parkinson(20)",
    ),
    "ticks/btcusdt-trades-binance.parquet": ([], "tick_rule(),signed_volume(),vpin(5,10)"),
    "ticks/btcusdt-quotes-binance.parquet": ([], "mid(),quoted_spread(),ofi(10)"),
    "ticks/usdjpy-quotes-truefx.csv": ([], "mid(),quoted_spread()"),
}


@pytest.mark.parametrize("name", sorted(TICK_FILES))
def test_file_mode_on_the_other_sample_files(name: str, tmp_path: Path) -> None:
    options, features = TICK_FILES[name]
    out = tmp_path / "out.parquet"
    cift(
        "features",
        "compute",
        "--input",
        str(DATA / name),
        *options,
        "--features",
        features,
        "-o",
        str(out),
    )
    frame = pl.read_parquet(out)
    raw = pl.read_parquet(DATA / name) if name.endswith(".parquet") else None
    assert frame.height == (raw.height if raw is not None else frame.height) > 0
    if "mid" in frame.columns:  # only a quote with 0 < bid < ask has a mid
        bid, ask = frame.get_column("bid").to_numpy(), frame.get_column("ask").to_numpy()
        expected = np.where((bid > 0) & (bid < ask), (bid + ask) / 2, np.nan)
        np.testing.assert_allclose(frame.get_column("mid").to_numpy(), expected)
    if "signed_volume" in frame.columns:  # buyer_maker True means the seller was aggressor
        sign = np.where(raw["buyer_maker"].to_numpy() == "True", -1.0, 1.0)  # type: ignore[index]
        np.testing.assert_allclose(
            frame.get_column("signed_volume").to_numpy(),
            sign * raw["quantity"].to_numpy(),  # type: ignore[index]
        )
    if "adx" in frame.columns:
        high, low, close = (frame.get_column(c).to_numpy() for c in ("High", "Low", "Close"))
        np.testing.assert_allclose(
            frame.get_column("adx").to_numpy(), talib.ADX(high, low, close, 14), rtol=1e-9
        )
