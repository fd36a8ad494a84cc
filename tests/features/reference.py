"""TA-Lib as the reference: series to test on, and the comparison rule."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from cift.data.files import FileMapping, load
from cift.features.engine import compute
from cift.features.spec import parse_call
from tests.samples import DATA

RTOL = 1e-9
MINUTE_2006 = ("Date", "Time", "Open", "High", "Low", "Close", "Volume", "OpenInterest")
Arrays = dict[str, np.ndarray]


def real_bars() -> dict[str, pl.DataFrame]:
    """Real OHLCV series with gaps, holidays and splits."""
    minute = FileMapping(columns=MINUTE_2006, symbol="FDAX")
    return {
        "nvda-daily": load(DATA / "daily/nvda-1999-2014.csv").frame,
        "orcl-daily": load(DATA / "daily/orcl-1995-2014.csv").frame,
        "fdax-minute": load(DATA / "minute/2006-01-02-volume-min-001.csv", minute).frame,
        "6e-minute": load(DATA / "minute/6EH4-cme-1min-2024-01.csv.gz").frame,
    }


def random_bars(rows: int = 5_000, seed: int = 0, symbol: str = "RND") -> pl.DataFrame:
    """A geometric random walk with consistent OHLC and volume, one bar a minute."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * (1 + rng.normal(0, 0.002, rows))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, rows))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, rows))
    return pl.DataFrame(
        {
            "symbol": [symbol] * rows,
            "ts": np.arange(rows, dtype=np.int64) * 60_000_000_000 + 1_577_836_800_000_000_000,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.integers(100, 10_000, rows).astype(float),
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


def random_events(rows: int = 2_000, seed: int = 0, symbol: str = "RND") -> pl.DataFrame:
    """Rows carrying every input a feature may need: OHLCV bars plus a trade (price, size,
    true aggressor side) and the prevailing quote (bid < ask, sizes) at each row."""
    rng = np.random.default_rng(seed + 1_000)
    bars = random_bars(rows, seed, symbol)
    close = bars.get_column("close").to_numpy()
    half = np.round(close * rng.uniform(0.0002, 0.002, rows), 4) + 0.0001
    side = rng.choice(np.array([-1, 1], dtype=np.int8), rows)
    return bars.with_columns(
        pl.Series("bid", close - half),
        pl.Series("ask", close + half),
        pl.Series("bid_size", rng.integers(1, 50, rows).astype(float)),
        pl.Series("ask_size", rng.integers(1, 50, rows).astype(float)),
        pl.Series("price", close + side * half),
        pl.Series("size", rng.integers(1, 500, rows).astype(float)),
        pl.Series("side", side),
    )


def columns(frame: pl.DataFrame) -> Arrays:
    """The OHLCV columns as float64 arrays, as TA-Lib takes them."""
    names = ("open", "high", "low", "close", "volume")
    return {c: frame.get_column(c).cast(pl.Float64).to_numpy() for c in names if c in frame.columns}


def assert_matches_talib(
    frame: pl.DataFrame, call_text: str, talib_outputs: Callable[[Arrays], list[np.ndarray]]
) -> None:
    """CIFT's outputs equal TA-Lib's to 1e-9 relative (absolute 1e-9 of the series' median
    size near zero), with nulls exactly where TA-Lib has its warm-up NaNs."""
    result = compute(frame, [parse_call(call_text)])
    expected = talib_outputs(columns(frame))
    added = [c for c in result.columns if c not in frame.columns]
    assert len(added) == len(expected), (added, len(expected))
    for column, reference in zip(added, expected, strict=True):
        ours = result.get_column(column)
        assert not ours.is_nan().any(), f"{call_text} {column}: NaN instead of null"
        values = ours.to_numpy()
        known = ~np.isnan(reference)
        assert np.array_equal(np.isnan(values), ~known), f"{call_text} {column}: warm-up differs"
        scale = float(np.median(np.abs(reference[known]))) if known.any() else 1.0
        np.testing.assert_allclose(
            values[known],
            reference[known],
            rtol=RTOL,
            atol=RTOL * scale,
            err_msg=f"{call_text} {column}",
        )
