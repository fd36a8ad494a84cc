"""Trade classifiers scored against the true aggressor side of real Binance trades.

    python bench/classifiers.py [--bar 1s] [--window 10] [--df 1] [--lags 0,1,100,1000]

Tick rule, quote rule and Lee-Ready per trade (on the trades that have a prevailing
quote), bulk volume classification per bar, all against the exchange's aggressor flag;
then the quote-based rules again with the quote lagged by each of ``--lags`` ms.
Prints Markdown tables (the figures recorded in docs/order-flow.md).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cift.data.files import FileMapping, load
from cift.features.order_flow import score_classifiers

from common import machine, table

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ticks"


def percent(value: object) -> str:
    return "" if value is None else f"{100 * float(str(value)):.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=Path, default=DATA / "btcusdt-trades-binance.parquet")
    parser.add_argument("--quotes", type=Path, default=DATA / "btcusdt-quotes-binance.parquet")
    parser.add_argument("--bar", default="1s", help="bar length for bulk classification")
    parser.add_argument("--window", type=int, default=10, help="bars in the price-change sd")
    parser.add_argument("--df", type=float, default=1.0, help="Student-t degrees of freedom")
    parser.add_argument("--lags", default="0,1,100,1000", help="quote lags to try, in ms")
    args = parser.parse_args()

    trades = load(args.trades).frame
    quotes = load(args.quotes, FileMapping(symbol=trades.item(0, "symbol"))).frame
    scores = score_classifiers(trades, quotes, bar=args.bar, window=args.window, student_df=args.df)
    header = ["rule", "trades", "classified", "accuracy", "volume accuracy", "bar accuracy"]
    rows = [
        [
            str(row["rule"]),
            "" if row["trades"] is None else f"{row['trades']:,}",
            percent(row["classified"]),
            percent(row["accuracy"]),
            percent(row["volume_accuracy"]),
            percent(row["bar_accuracy"]),
        ]
        for row in scores.iter_rows(named=True)
    ]
    print(machine())
    print(f"{trades.height:,} trades, {quotes.height:,} quotes; bars of {args.bar}\n")
    print(table("Accuracy against the true aggressor side", header, rows))

    lag_rows = []
    for lag in (int(ms) for ms in args.lags.split(",")):
        lagged = score_classifiers(trades, quotes, lag=timedelta(milliseconds=lag))
        quoted = lagged.filter(pl.col("rule").is_in(["quote_rule", "lee_ready"]))
        lag_rows.append([f"{lag} ms", *(percent(a) for a in quoted["accuracy"])])
    print(table("Quote lag", ["lag", "quote rule", "Lee-Ready"], lag_rows))


if __name__ == "__main__":
    main()
