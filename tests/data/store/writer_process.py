"""A writer process for the crash and concurrency tests: ``python -m ... ROOT FIRST COUNT``.

Writes batch FIRST, FIRST+1, ... (COUNT batches, 0 = forever) and prints
``committed <index>`` after each write returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from cift.data.store.embedded import EmbeddedStore
from cift.model import DataKind
from tests.data.marketdata import random_trades

BATCH_ROWS = 2_000
SYMBOLS = ["AAPL", "MSFT", "BTC/USD"]


def batch(index: int) -> pl.DataFrame:
    """Batch ``index``: distinct keys from every other batch."""
    trades = random_trades(BATCH_ROWS, SYMBOLS, seed=index)
    return trades.with_columns((pl.lit(f"b{index}-") + pl.col("trade_id")).alias("trade_id"))


def main() -> None:
    root, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    store = EmbeddedStore(root)
    index = first
    while count == 0 or index < first + count:
        store.write(DataKind.TRADES, batch(index))
        print(f"committed {index}", flush=True)
        index += 1


if __name__ == "__main__":
    main()
