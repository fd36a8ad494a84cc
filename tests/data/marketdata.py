"""Small, explicit market-data frames for tests."""

from __future__ import annotations

import numpy as np
import polars as pl

from cift.model import DataKind
from cift.model.schemas import conform

DAY_NS = 86_400_000_000_000
T0 = 1_704_186_000_000_000_000  # 2024-01-02 09:00 UTC


def random_trades(
    n: int, symbols: list[str], *, seed: int = 0, start: int = T0, span_ns: int = DAY_NS
) -> pl.DataFrame:
    """Valid trades at random times, ids unique per symbol, not sorted."""
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame(
        {
            "symbol": np.array(symbols)[rng.integers(0, len(symbols), n)],
            "ts": start + rng.integers(0, span_ns, n),
            "price": np.round(100 + rng.normal(0, 1, n).cumsum() * 0.01, 2).clip(1, None),
            "size": rng.integers(1, 500, n).astype(float),
            "side": rng.choice(np.array([-1, 0, 1], dtype=np.int8), n),
            "trade_id": [f"t{i}" for i in range(n)],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    return conform(frame, DataKind.TRADES).collect()


def random_quotes(n: int, symbols: list[str], *, seed: int = 1, start: int = T0) -> pl.DataFrame:
    """Uncrossed quotes at distinct random times per symbol."""
    rng = np.random.default_rng(seed)
    bid = np.round(100 + rng.normal(0, 1, n).cumsum() * 0.01, 2).clip(1, None)
    frame = pl.DataFrame(
        {
            "symbol": np.array(symbols)[rng.integers(0, len(symbols), n)],
            "ts": start + rng.choice(DAY_NS, n, replace=False),
            "bid": bid,
            "ask": bid + 0.01 * rng.integers(1, 4, n),
            "bid_size": rng.integers(1, 50, n).astype(float),
            "ask_size": rng.integers(1, 50, n).astype(float),
        }
    )
    return frame.with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
