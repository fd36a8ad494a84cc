"""Technical indicators: CIFT next to TA-Lib, pandas-ta and `ta` on the same bars.

    python bench/features.py [--rows 10000000] [--symbols 500] [--bars 20000] [--repeat 3]

Single series: each indicator on one series of ``--rows`` bars. Many symbols: ``--symbols``
x ``--bars`` in one frame; TA-Lib runs per symbol in a loop and its outputs are stitched
back into one frame (as a user of it must). pandas-ta runs its own code (talib=False) and
`ta` its own; both are slow, so they run on a tenth of the rows and are scaled (marked).
Also: events per second through the live (incremental) update of the default set.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import talib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cift.features.engine import LiveFeatures, compute
from cift.features.pipeline import default_set
from cift.features.spec import REGISTRY, all_specs, parse_call

from common import machine, measure, table

INDICATORS: dict[str, tuple[str, Callable[..., object]]] = {
    "SMA": ("sma(20)", lambda hi, lo, cl, vo: talib.SMA(cl, 20)),
    "EMA": ("ema(20)", lambda hi, lo, cl, vo: talib.EMA(cl, 20)),
    "RSI": ("rsi(14)", lambda hi, lo, cl, vo: talib.RSI(cl, 14)),
    "MACD": ("macd(12,26,9)", lambda hi, lo, cl, vo: talib.MACD(cl, 12, 26, 9)),
    "BBANDS": ("bbands(20,2,2)", lambda hi, lo, cl, vo: talib.BBANDS(cl, 20, 2, 2)),
    "ATR": ("atr(14)", lambda hi, lo, cl, vo: talib.ATR(hi, lo, cl, 14)),
    "STOCH": ("stoch(14,3,3)", lambda hi, lo, cl, vo: talib.STOCH(hi, lo, cl, 14, 3, 0, 3, 0)),
    "OBV": ("obv", lambda hi, lo, cl, vo: talib.OBV(cl, vo)),
    "ADX": ("adx(14)", lambda hi, lo, cl, vo: talib.ADX(hi, lo, cl, 14)),
}


def available() -> dict[str, tuple[str, Callable[..., object]]]:
    """The benchmarked indicators this build of CIFT has."""
    all_specs()
    return {k: v for k, v in INDICATORS.items() if v[0].split("(")[0] in REGISTRY}


def bars(symbols: int, rows: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = symbols * rows
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    return pl.DataFrame(
        {
            "symbol": np.repeat(np.array([f"S{i:04d}" for i in range(symbols)]), rows),
            "ts": np.tile(np.arange(rows, dtype=np.int64) * 60_000_000_000, symbols),
            "high": close * (1 + rng.uniform(0, 0.001, n)),
            "low": close * (1 - rng.uniform(0, 0.001, n)),
            "close": close,
            "volume": rng.integers(1, 1_000, n).astype(float),
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


def talib_loop(
    frame: pl.DataFrame, symbols: int, rows: int, fn: Callable[..., object]
) -> pl.DataFrame:
    """TA-Lib per symbol, outputs stitched into one frame."""
    h, low, c, v = (frame[col].to_numpy() for col in ("high", "low", "close", "volume"))
    parts = []
    for i in range(symbols):
        a, b = i * rows, (i + 1) * rows
        out = fn(h[a:b], low[a:b], c[a:b], v[a:b])
        outputs = out if isinstance(out, tuple) else (out,)
        parts.append(pl.DataFrame({f"o{j}": o for j, o in enumerate(outputs)}))
    return pl.concat([frame, pl.concat(parts)], how="horizontal")


def pandas_ta_fn(name: str) -> Callable[[pd.DataFrame], object] | None:
    try:
        import pandas_ta_classic as pta
    except ImportError:
        return None
    calls = {
        "SMA": lambda d: pta.sma(d["close"], 20, talib=False),
        "EMA": lambda d: pta.ema(d["close"], 20, talib=False),
        "RSI": lambda d: pta.rsi(d["close"], 14, talib=False),
        "MACD": lambda d: pta.macd(d["close"], talib=False),
        "BBANDS": lambda d: pta.bbands(d["close"], 20, 2, talib=False),
        "ATR": lambda d: pta.atr(d["high"], d["low"], d["close"], 14, talib=False),
        "STOCH": lambda d: pta.stoch(d["high"], d["low"], d["close"], talib=False),
        "OBV": lambda d: pta.obv(d["close"], d["volume"], talib=False),
        "ADX": lambda d: pta.adx(d["high"], d["low"], d["close"], 14, talib=False),
    }
    return calls.get(name)


def ta_fn(name: str) -> Callable[[pd.DataFrame], object] | None:
    try:
        import ta
    except ImportError:
        return None
    calls = {
        "SMA": lambda d: ta.trend.sma_indicator(d["close"], 20),
        "EMA": lambda d: ta.trend.ema_indicator(d["close"], 20),
        "RSI": lambda d: ta.momentum.rsi(d["close"], 14),
        "MACD": lambda d: ta.trend.macd(d["close"]),
        "BBANDS": lambda d: ta.volatility.bollinger_hband(d["close"], 20, 2),
        "ATR": lambda d: ta.volatility.average_true_range(d["high"], d["low"], d["close"], 14),
        "STOCH": lambda d: ta.momentum.stoch(d["high"], d["low"], d["close"]),
        "OBV": lambda d: ta.volume.on_balance_volume(d["close"], d["volume"]),
        "ADX": lambda d: ta.trend.adx(d["high"], d["low"], d["close"], 14),
    }
    return calls.get(name)


def single(rows: int, repeat: int) -> list[list[str]]:
    frame = bars(1, rows).drop("symbol")
    h, low, c, v = (frame[col].to_numpy() for col in ("high", "low", "close", "volume"))
    small = frame.head(rows // 10).to_pandas()
    result = []
    for name, (call_text, fn) in available().items():
        call = parse_call(call_text)
        compute(frame.head(1000), [call])  # load compiled kernels
        ours = measure(name, lambda call=call: compute(frame, [call]), repeat=repeat).median
        theirs = measure(name, lambda fn=fn: fn(h, low, c, v), repeat=repeat).median
        row = [name, f"{ours * 1000:.1f}", f"{theirs * 1000:.1f}", f"{ours / theirs:.2f}"]
        for peer in (pandas_ta_fn(name), ta_fn(name)):
            if peer is None:
                row += ["n/a", "n/a"]
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scaled = measure(name, lambda peer=peer: peer(small), repeat=1).median * 10
            row += [f"{scaled * 1000:.0f}*", f"{scaled / ours:.0f}x"]
        result.append(row)
    return result


def many(symbols: int, per_symbol: int, repeat: int) -> list[list[str]]:
    frame = bars(symbols, per_symbol)
    result = []
    everything = [(name, [parse_call(text)], fn) for name, (text, fn) in available().items()]
    default = default_set()
    for name, calls, fn in [*everything, ("default set", list(default.calls), None)]:
        compute(frame.head(1000), calls)
        ours = measure(name, lambda calls=calls: compute(frame, calls), repeat=repeat).median
        if fn is None:
            fns = [
                INDICATORS[n][1]
                for n in ("SMA", "EMA", "RSI", "MACD", "BBANDS", "ATR", "ADX", "STOCH", "OBV")
            ]
            fns += [
                lambda hi, lo, cl, vo: talib.ROC(cl, 10),
                lambda hi, lo, cl, vo: (cl - talib.SMA(cl, 20)) / talib.STDDEV(cl, 20, 1),
            ]

            def loop(fns=fns) -> None:
                for f in fns:
                    talib_loop(frame, symbols, per_symbol, f)

            theirs = measure(name, loop, repeat=repeat).median
        else:
            theirs = measure(
                name, lambda fn=fn: talib_loop(frame, symbols, per_symbol, fn), repeat=repeat
            ).median
        result.append([name, f"{ours:.3f}", f"{theirs:.3f}", f"{ours / theirs:.2f}"])
    return result


def live(events: int) -> list[list[str]]:
    frame = bars(1, events)
    live_features = LiveFeatures(list(default_set().calls))
    rows = frame.to_dicts()
    begin = time.perf_counter()
    for row in rows:
        live_features.update("S0000", row)
    elapsed = time.perf_counter() - begin
    return [["default set, one event at a time", f"{events:,}", f"{events / elapsed:,.0f}"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--bars", type=int, default=20_000)
    parser.add_argument("--live", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    print(
        table(
            f"One series of {args.rows:,} bars (ms; * = measured on a tenth and scaled)",
            [
                "indicator",
                "CIFT",
                "TA-Lib",
                "CIFT/TA-Lib",
                "pandas-ta",
                "pandas-ta/CIFT",
                "ta",
                "ta/CIFT",
            ],
            single(args.rows, args.repeat),
        )
    )
    print(
        table(
            f"{args.symbols} symbols x {args.bars:,} bars (s)",
            ["indicator", "CIFT", "TA-Lib loop + stitch", "CIFT/TA-Lib"],
            many(args.symbols, args.bars, args.repeat),
        )
    )
    print(table("Live updates", ["path", "events", "events/s"], live(args.live)))


if __name__ == "__main__":
    main()
