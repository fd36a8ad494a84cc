"""Shared pieces of the benchmark scripts: data, timing, machine facts, tables."""

from __future__ import annotations

import gc
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl

from cift.model import DataKind
from cift.model.schemas import conform

T0 = 1_704_205_800_000_000_000  # 2024-01-02 14:30 UTC


def machine() -> str:
    """One line about where the figures come from."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"polars {pl.__version__}, {datetime.now(UTC):%Y-%m-%d}"
    )


def trades(rows: int, symbols: int, *, seed: int = 0, hours: float = 6.5) -> pl.DataFrame:
    """Valid trades: symbols interleaved, time increasing, unique ids per symbol."""
    rng = np.random.default_rng(seed)
    names = np.array([f"S{i:03d}" for i in range(symbols)])
    ts = T0 + np.sort(rng.integers(0, int(hours * 3600e9), rows))
    frame = pl.DataFrame(
        {
            "symbol": names[rng.integers(0, symbols, rows)],
            "ts": ts,
            "price": np.round(100 + rng.standard_normal(rows).cumsum() * 0.001, 2).clip(1),
            "size": rng.integers(1, 1000, rows).astype(np.float64),
            "side": rng.choice(np.array([-1, 1], dtype=np.int8), rows),
            "trade_id": pl.int_range(rows, eager=True).cast(pl.String),
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    return conform(frame, DataKind.TRADES).collect()


def quotes(rows: int, symbols: int, *, seed: int = 1, hours: float = 6.5) -> pl.DataFrame:
    """Uncrossed quotes at distinct times per symbol."""
    rng = np.random.default_rng(seed)
    names = np.array([f"S{i:03d}" for i in range(symbols)])
    bid = np.round(100 + rng.standard_normal(rows).cumsum() * 0.001, 2).clip(1)
    frame = pl.DataFrame(
        {
            "symbol": names[np.arange(rows) % symbols],
            "ts": T0 + np.sort(rng.choice(int(hours * 3600e9), rows, replace=False)),
            "bid": bid,
            "ask": bid + 0.01,
            "bid_size": rng.integers(1, 50, rows).astype(np.float64),
            "ask_size": rng.integers(1, 50, rows).astype(np.float64),
        }
    )
    return frame.with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


@dataclass
class Timing:
    name: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(
    name: str,
    run: Callable[[], object],
    *,
    repeat: int = 3,
    setup: Callable[[], object] | None = None,
) -> Timing:
    """Median-able wall times of ``run`` (``setup`` runs untimed before each)."""
    seconds = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        gc.collect()
        begin = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - begin)
    return Timing(name, seconds)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def minute_bars(symbols: int, per_symbol: int, seed: int = 3) -> pl.DataFrame:
    """Geometric random walks in cents, one bar a minute, symbols interleaved in time."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.0008, (symbols, per_symbol))
    close = np.round(100 * np.exp(np.cumsum(steps, axis=1)), 2).clip(0.01)
    opens = np.round(np.concatenate([close[:, :1], close[:, :-1]], axis=1), 2)
    wiggle = np.abs(rng.normal(0.0, 0.0004, close.shape))
    high = np.round(np.maximum(opens, close) * (1 + wiggle), 2)
    low = np.round(np.minimum(opens, close) * (1 - wiggle), 2)
    ts = T0 + np.arange(per_symbol, dtype=np.int64) * 60_000_000_000
    return (
        pl.DataFrame(
            {
                "symbol": np.repeat([f"S{i:03d}" for i in range(symbols)], per_symbol),
                "ts": np.tile(ts, symbols),
                "open": opens.ravel(),
                "high": high.ravel(),
                "low": low.ravel(),
                "close": close.ravel(),
                "volume": rng.integers(100, 10_000, close.size).astype(np.float64),
            }
        )
        .with_columns(
            pl.col("ts").cast(pl.Datetime("ns", "UTC")),
            ((pl.col("high") + pl.col("low") + pl.col("close")) / 3).alias("vwap"),
            pl.lit(10, dtype=pl.Int64).alias("trades"),
        )
        .sort("ts", "symbol")
    )
