"""Compile every feature's kernel ahead of its first use.

numba compiles a kernel the first time it runs, about a second each: under two minutes for
the whole catalog on a new install, paid by whichever computation, backtest or live
session touches each feature first. The machine code is then cached on disk (see
``njit`` in the core package), so compiling once, while an image is built or beside
other set-up work, spares every later run the wait.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from cift.features.engine import LiveFeatures, compute
from cift.features.spec import FeatureSpec, all_specs, bind

ROWS = 64
"""Rows per symbol of the sample: longer than any default window's warm-up."""


def compile_features(done: Callable[[FeatureSpec, float], None] | None = None) -> int:
    """Run every registered feature, with its default parameters, over a small sample of
    two symbols and over one live row (both paths hand the kernel read-only arrays, so
    one compilation serves both; the live row costs next to nothing); ``done`` hears of
    each one and of the fraction of the catalog done. Returns how many ran."""
    rows = sample()
    first = rows.row(0, named=True)
    specs = all_specs()
    for number, spec in enumerate(specs, start=1):
        call = bind(spec, [], {})
        compute(rows, [call])
        LiveFeatures([call]).update(first["symbol"], first)
        if done is not None:
            done(spec, number / len(specs))
    return len(specs)


def sample() -> pl.DataFrame:
    """Two symbols' rows with every input any feature reads: a random walk of prices,
    positive sizes, alternating sides and a one-cent spread."""
    rows = 2 * ROWS
    price = 100.0 + np.random.default_rng(7).standard_normal(rows).cumsum() * 0.1
    minutes = np.tile(np.arange(ROWS, dtype=np.int64) * 60_000_000_000, 2)
    flat = np.full(rows, 100.0)
    return pl.DataFrame(
        {
            "symbol": ["A"] * ROWS + ["B"] * ROWS,
            "ts": pl.Series(minutes).cast(pl.Datetime("ns", "UTC")),
            "open": price,
            "high": price + 0.5,
            "low": price - 0.5,
            "close": price,
            "volume": flat,
            "price": price,
            "size": flat,
            "side": np.tile([1.0, -1.0], ROWS),
            "bid": price - 0.005,
            "ask": price + 0.005,
            "bid_size": flat,
            "ask_size": flat,
        }
    )
