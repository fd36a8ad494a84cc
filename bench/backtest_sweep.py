"""100 SMA-crossover parameter pairs on one symbol's bars, in CIFT's vectorised mode
or vectorbt; run as its own process (``bench/backtest.py`` times the whole process).

    python bench/backtest_sweep.py cift|vectorbt BARS.parquet [warm]

Prints one JSON line: the seconds of the sweep (with ``warm``, of a second sweep in the
same process) and the best final equity. Long or flat, all in at the next open, no fees.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import polars as pl

from peak import peak_mib

FASTS = list(range(5, 55, 5))
SLOWS = list(range(60, 260, 20))
CASH = 100_000.0


def cift_sweep(bars: pl.DataFrame) -> float:
    from cift.backtest.vector import run_grid
    from cift.model import Timeframe
    from cift.strategy.builtin.sma_cross import SIGNAL

    grid = [{"fast": f, "slow": s} for f in FASTS for s in SLOWS]
    results = run_grid(
        bars, Timeframe.parse("1m"), SIGNAL, grid, initial_cash=CASH, fractional=True
    )
    return max(float(r.equity.get_column("equity")[-1]) for r in results)


def vectorbt_sweep(bars: pl.DataFrame) -> float:
    import numpy as np
    import vectorbt as vbt

    close = bars.get_column("close").to_pandas()
    opens = bars.get_column("open").to_pandas()
    fast = vbt.MA.run(close, FASTS, short_name="fast")
    slow = vbt.MA.run(close, SLOWS, short_name="slow")
    fast_ma = np.repeat(fast.ma.to_numpy(), len(SLOWS), axis=1)
    slow_ma = np.tile(slow.ma.to_numpy(), len(FASTS))
    above = fast_ma > slow_ma
    entries = np.roll(above & ~np.roll(above, 1, axis=0), 1, axis=0)
    exits = np.roll(~above & np.roll(above, 1, axis=0), 1, axis=0)
    entries[0], exits[0] = False, False
    portfolio = vbt.Portfolio.from_signals(
        close, entries, exits, price=opens, init_cash=CASH, freq="1min"
    )
    return float(portfolio.final_value().max())


def main() -> None:
    engine, path = sys.argv[1], Path(sys.argv[2])
    bars = pl.read_parquet(path).sort("ts")
    sweep = cift_sweep if engine == "cift" else vectorbt_sweep
    if sys.argv[3:] == ["warm"]:
        sweep(bars)
    began = time.perf_counter()
    best = sweep(bars)
    print(
        json.dumps({"seconds": time.perf_counter() - began, "best": best, "peak_mib": peak_mib()})
    )


if __name__ == "__main__":
    main()
