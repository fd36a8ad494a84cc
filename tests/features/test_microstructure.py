"""Microstructure features: the worked examples of the feature reference (C6-C12),
independent numpy/pandas implementations on random and real data, and the streaming
properties (live equals batch, chunks equal the whole, no look-ahead)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from polars.testing import assert_frame_equal

from cift.core.errors import ValidationError
from cift.data.aggregate import with_prevailing_quote
from cift.features.engine import LiveFeatures, compute
from cift.features.spec import all_specs, parse_call, split_calls
from tests.budget import deep
from tests.features.reference import random_bars, random_events, real_bars
from tests.samples import DATA

REL = 1e-12  # the worked examples are printed at full float64 precision
TS0 = 1_577_836_800_000_000_000
MINE = [s for s in all_specs() if s.category == "microstructure"]
CAUSAL = [s for s in MINE if not s.forward_looking]


def run(frame: pl.DataFrame, text: str) -> pl.DataFrame:
    """Only the output columns of the calls in ``text``."""
    out = compute(frame, [parse_call(t) for t in split_calls(text)])
    added = [c for c in out.columns if c not in frame.columns]
    for column in added:
        assert not out.get_column(column).is_nan().any(), f"{column}: NaN instead of null"
    return out.select(added)


def values(frame: pl.DataFrame, text: str, column: str | None = None) -> np.ndarray:
    out = run(frame, text)
    return out.get_column(column or out.columns[0]).to_numpy()


def assert_close(
    ours: np.ndarray, expected: np.ndarray, rtol: float = 1e-9, atol: float | None = None
) -> None:
    """Nulls exactly where the reference has NaN; values within ``rtol`` (absolute
    ``rtol`` times the median size near zero, unless ``atol`` is given)."""
    expected = np.asarray(expected, dtype=float)
    assert np.array_equal(np.isnan(ours), np.isnan(expected)), np.nonzero(
        np.isnan(ours) != np.isnan(expected)
    )[0][:10]
    known = ~np.isnan(expected)
    assert known.any()
    scale = float(np.median(np.abs(expected[known])))
    atol = rtol * scale if atol is None else atol
    np.testing.assert_allclose(ours[known], expected[known], rtol=rtol, atol=atol)


def bars(**columns: list[float]) -> pl.DataFrame:
    rows = len(next(iter(columns.values())))
    ts = pl.Series("ts", TS0 + np.arange(rows, dtype=np.int64) * 60_000_000_000)
    schema = dict.fromkeys(columns, pl.Float64)
    return pl.DataFrame(columns, schema=schema).with_columns(ts.cast(pl.Datetime("ns", "UTC")))


# --- worked examples (features.md section (c)) ---------------------------------------


def test_c6_kyle_lambda() -> None:
    moves = [0.02, -0.01, 0.03, -0.02, 0.01, 0.0]
    flow = np.array([1000, -500, 1500, -800, 200, -100], dtype=float)
    frame = bars(
        price=np.concatenate([[0.0], np.cumsum(moves)]).tolist(),
        size=[1.0, *np.abs(flow)],
        side=[1.0, *np.sign(flow)],
    )
    assert frame.get_column("price").diff().to_list()[1:] == pytest.approx(moves, abs=1e-17)
    with_intercept = values(frame, "kyle_lambda(6, 1)")
    assert np.isnan(with_intercept[:6]).all()
    assert with_intercept[6] == pytest.approx(2.0852878464818767e-05, rel=REL)
    assert values(frame, "kyle_lambda(6, 0)")[6] == pytest.approx(2.1002386634844867e-05, rel=REL)


def test_c7_amihud() -> None:
    close = [50, 51, 50.5, 50.5, 52, 51]
    dollars = [2e6, 1.5e6, 1e6, 3e6, 2.5e6]
    frame = bars(
        close=close, volume=[1.0] + [d / c for d, c in zip(dollars, close[1:], strict=True)]
    )
    simple = values(frame, "amihud(5)")
    assert np.isnan(simple[:5]).all()
    assert simple[5] == pytest.approx(0.006825849100747181, rel=REL)
    assert values(frame, "amihud(5, 1)")[5] == pytest.approx(0.006798707943928529, rel=REL)


def test_c7_amihud_leaves_out_bars_without_volume() -> None:
    frame = bars(close=[50, 51, 50.5, 52], volume=[1.0, 1000.0, 0.0, 2000.0])
    expected = np.mean([1 / 50 / 51000, (52 / 50.5 - 1) / 104000]) * 1e6
    assert values(frame, "amihud(3)")[3] == pytest.approx(expected, rel=REL)


def test_c8_roll_spread() -> None:
    frame = bars(close=[10.00, 10.02, 10.00, 10.02, 10.01, 10.03, 10.01, 10.02])
    sample = values(frame, "roll_spread(6, 1)")
    assert np.isnan(sample[:7]).all()
    assert sample[7] == pytest.approx(0.037947331922019746, rel=REL)
    assert values(frame, "roll_spread(6, 0)")[7] == pytest.approx(0.034641016151376804, rel=REL)


def test_c8_roll_spread_is_null_for_positive_autocovariance() -> None:
    trending = bars(close=[10.0, 10.01, 10.03, 10.06, 10.10, 10.15])
    assert np.isnan(values(trending, "roll_spread(3)")).all()


def test_c9_corwin_schultz() -> None:
    frame = bars(
        high=[10.30, 10.28, 10.45, 10.60],
        low=[10.00, 10.05, 10.10, 10.40],
        close=[10.20, 10.10, 10.35, 10.25],
        volume=[1.0, 1.0, 1.0, 1.0],
    )
    pairs = values(frame, "corwin_schultz(1)")
    assert np.isnan(pairs[0])
    assert pairs[1] == pytest.approx(0.01850833497717569, rel=REL)
    assert pairs[2] == pytest.approx(0.00450817418374549, rel=REL)
    assert pairs[3] == 0.0  # S_raw = -0.0109 after the gap adjustment, floored
    assert values(frame, "corwin_schultz(3)")[3] == pytest.approx(0.00767216972030706, rel=REL)
    without_volume = frame.with_columns(pl.Series("volume", [1.0, 1.0, 0.0, 1.0]))
    dropped = values(without_volume, "corwin_schultz(1)")
    assert dropped[1] == pairs[1]
    assert np.isnan(dropped[2:]).all()  # both pairs touching the bar without volume


def test_c10_quote_and_trade_prices() -> None:
    frame = bars(
        bid=[99.98, 100.02],
        ask=[100.02, 100.04],
        bid_size=[300.0, 10.0],
        ask_size=[100.0, 10.0],
        price=[100.02, 100.03],
        side=[1.0, 0.0],
    )
    assert values(frame, "mid")[0] == 100.0
    spread = run(frame, "quoted_spread")
    assert spread.item(0, "quoted_spread") == pytest.approx(0.03999999999999204, rel=REL)
    assert spread.item(0, "quoted_spread_bps") == pytest.approx(3.999999999999204, rel=REL)
    assert values(frame, "weighted_mid")[0] == pytest.approx(100.01, rel=REL)
    effective = run(frame, "effective_spread")
    assert effective.item(0, "effective_spread") == pytest.approx(0.04, rel=REL)
    assert effective.item(0, "effective_spread_bps") == pytest.approx(4.0, rel=REL)
    assert effective.item(1, "effective_spread") is None  # unknown side
    realized = run(frame, "realized_spread(60)")  # the second row is 60 s later
    assert realized.item(0, "realized_spread") == pytest.approx(-0.02, rel=REL)
    assert realized.item(0, "price_impact") == pytest.approx(0.06, rel=REL)
    assert realized.row(1) == (None, None)


@pytest.mark.parametrize(("bid", "ask"), [(100.0, 100.0), (100.01, 100.0), (None, 100.0)])
def test_c10_crossed_locked_and_one_sided_quotes_give_nulls(bid: float, ask: float) -> None:
    frame = bars(bid=[bid], ask=[ask], bid_size=[1.0], ask_size=[1.0], price=[100.0], side=[1.0])
    out = run(frame, "mid,quoted_spread,weighted_mid,effective_spread")
    assert all(v is None for v in out.row(0))


def test_c11_realized_variance_and_bipower_variation() -> None:
    frame = bars(close=[100, 100.2, 99.9, 100.1, 100.0, 101.5, 101.4])
    rv = values(frame, "realized_variance(6)")
    assert np.isnan(rv[:6]).all()
    assert rv[6] == pytest.approx(0.00024062443936023105, rel=REL)
    plain = run(frame, "bipower_variation(6)")
    assert plain.item(6, "bipower_variation") == pytest.approx(6.839877698088126e-05, rel=REL)
    assert plain.item(6, "jump_share") == pytest.approx(0.715744680121691, rel=REL)
    assert plain.slice(0, 6).null_count().row(0) == (6, 6)
    corrected = values(frame, "bipower_variation(6, 1)")
    assert corrected[6] == pytest.approx(8.207853237705751e-05, rel=REL)


def test_c12_range_estimators() -> None:
    frame = bars(  # a bar before the five supplies the first previous close, 99.8
        open=[99.0, 100, 101.2, 100.8, 102, 101.5],
        high=[100.0, 101.5, 102, 102.2, 102.8, 102],
        low=[98.0, 99.5, 100.5, 100.2, 101.2, 100.4],
        close=[99.8, 101, 100.9, 101.9, 101.6, 100.8],
    )
    out = run(frame, "parkinson(5),garman_klass(5),rogers_satchell(5),yang_zhang(5)")
    last = out.row(5, named=True)
    assert last["parkinson"] == pytest.approx(1.083595819561031e-04, rel=REL)
    assert last["garman_klass"] == pytest.approx(1.2789393329410543e-04, rel=REL)
    assert last["rogers_satchell"] == pytest.approx(1.2534803613156053e-04, rel=REL)
    assert last["yang_zhang"] == pytest.approx(1.209614665721028e-04, rel=REL)
    k = 0.34 / (1.34 + 6 / 4)
    assert k == pytest.approx(0.11971830985915495, rel=REL)
    parts = 2.263666494381231e-06 + k * 6.979900556419976e-05 + (1 - k) * 1.2534803613156053e-04
    assert last["yang_zhang"] == pytest.approx(parts, rel=REL)
    assert out.get_column("yang_zhang").null_count() == 5  # needs n bars with a prior close
    assert out.get_column("parkinson").null_count() == 4


# --- independent implementations on random and real data ------------------------------

Arrays = dict[str, np.ndarray]


def arrays(frame: pl.DataFrame) -> Arrays:
    return {
        c: frame.get_column(c).cast(pl.Float64).to_numpy()
        for c in frame.columns
        if frame.schema[c].is_numeric() or frame.schema[c] == pl.Datetime("ns", "UTC")
    }


def rolling(x: np.ndarray, n: int) -> pd.core.window.rolling.Rolling:
    return pd.Series(x).rolling(n)


def log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a / b)


def previous(x: np.ndarray) -> np.ndarray:
    return np.concatenate([[np.nan], x[:-1]])


def ref_range(a: Arrays, n: int, kind: str) -> list[np.ndarray]:
    hl = log_ratio(a["high"], a["low"])
    co = log_ratio(a["close"], a["open"])
    rs = log_ratio(a["high"], a["close"]) * log_ratio(a["high"], a["open"]) + log_ratio(
        a["low"], a["close"]
    ) * log_ratio(a["low"], a["open"])
    if kind == "parkinson":
        return [rolling(hl**2, n).mean().to_numpy() / (4 * math.log(2))]
    if kind == "garman_klass":
        return [rolling(0.5 * hl**2 - (2 * math.log(2) - 1) * co**2, n).mean().to_numpy()]
    if kind == "rogers_satchell":
        return [rolling(rs, n).mean().to_numpy()]
    overnight = log_ratio(a["open"], previous(a["close"]))
    k = 0.34 / (1.34 + (n + 1) / (n - 1))
    yz = (
        rolling(overnight, n).var(ddof=1)
        + k * rolling(co, n).var(ddof=1)
        + (1 - k) * rolling(rs, n).mean()
    )
    return [yz.to_numpy()]


def ref_realized(a: Arrays, n: int, correction: int = 0) -> list[np.ndarray]:
    r = log_ratio(a["close"], previous(a["close"]))
    rv = rolling(r**2, n).sum().to_numpy()
    factor = math.pi / 2 * (n / (n - 1) if correction else 1)
    bv = rolling(np.abs(r) * np.abs(previous(r)), n - 1).sum().to_numpy() * factor
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(rv > 0, np.maximum(rv - bv, 0) / rv, np.nan)
    return [rv, bv, np.where(np.isnan(bv), np.nan, share)]


def ref_amihud(a: Arrays, n: int, use_log: int) -> list[np.ndarray]:
    close, volume = a["close"], a["volume"]
    move = log_ratio(close, previous(close)) if use_log else close / previous(close) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(volume > 0, np.abs(move) / (close * volume), np.nan)
    out = pd.Series(ratio).rolling(n, min_periods=1).mean().to_numpy() * 1e6
    out[:n] = np.nan
    return [out]


def ref_corwin_schultz(a: Arrays, n: int) -> list[np.ndarray]:
    h0, l0, c0 = a["high"][:-1], a["low"][:-1], a["close"][:-1]
    h1, l1 = a["high"][1:], a["low"][1:]
    shift = np.where(l1 > c0, l1 - c0, np.where(h1 < c0, h1 - c0, 0.0))
    h1, l1 = h1 - shift, l1 - shift
    beta = np.log(h0 / l0) ** 2 + np.log(h1 / l1) ** 2
    gamma = np.log(np.maximum(h0, h1) / np.minimum(l0, l1)) ** 2
    den = 3 - 2 * math.sqrt(2)
    alpha = (np.sqrt(2 * beta) - np.sqrt(beta)) / den - np.sqrt(gamma / den)
    pair = np.maximum(2 * (np.exp(alpha) - 1) / (1 + np.exp(alpha)), 0.0)
    pair[(a["volume"][:-1] == 0) | (a["volume"][1:] == 0)] = np.nan
    out = (
        pd.Series(np.concatenate([[np.nan], pair]))
        .rolling(n, min_periods=1)
        .mean()
        .to_numpy()
        .copy()
    )
    out[:n] = np.nan
    return [out]


def ref_kyle(a: Arrays, n: int, intercept: int) -> list[np.ndarray]:
    dp = np.diff(a["price"])
    flow = (a["side"] * a["size"])[1:]
    x, y = sliding_window_view(flow, n), sliding_window_view(dp, n)
    if intercept:
        x = x - x.mean(axis=1, keepdims=True)
        y = y - y.mean(axis=1, keepdims=True)
    sxx = (x * x).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(sxx > 0, (x * y).sum(axis=1) / sxx, np.nan)
    return [np.concatenate([np.full(n, np.nan), slope])]


def ref_quotes(a: Arrays) -> dict[str, np.ndarray]:
    bid, ask = a["bid"], a["ask"]
    ok = (bid > 0) & (ask > bid)
    mid = np.where(ok, (bid + ask) / 2, np.nan)
    out = {"mid": mid, "spread": np.where(ok, ask - bid, np.nan)}
    if "bid_size" in a:
        depth = a["bid_size"] + a["ask_size"]
        with np.errstate(invalid="ignore", divide="ignore"):
            imbalance = np.where(depth > 0, a["bid_size"] / depth, np.nan)
        out["weighted"] = imbalance * ask + (1 - imbalance) * bid + 0 * mid
    if "price" in a:
        sign = np.where(a["side"] == 0, np.nan, np.sign(a["side"]))
        out["effective"] = 2 * sign * (a["price"] - mid)
    return out


def btc_quotes() -> pl.DataFrame:
    return pl.read_parquet(DATA / "ticks/btcusdt-quotes-binance.parquet").select(
        pl.lit("BTCUSDT").alias("symbol"),
        pl.col("timestamp").cast(pl.Datetime("ns", "UTC")).alias("ts"),
        "bid",
        "ask",
        "bid_size",
        "ask_size",
    )


def btc_trades() -> pl.DataFrame:
    """Real trades with their true aggressor side and the prevailing quote attached."""
    trades = pl.read_parquet(DATA / "ticks/btcusdt-trades-binance.parquet").select(
        pl.lit("BTCUSDT").alias("symbol"),
        pl.col("timestamp").cast(pl.Datetime("ns", "UTC")).alias("ts"),
        "price",
        pl.col("quantity").alias("size"),
        pl.when(pl.col("buyer_maker").cast(pl.String).str.to_lowercase() == "true")
        .then(-1)
        .otherwise(1)
        .cast(pl.Int8)
        .alias("side"),
    )
    return with_prevailing_quote(trades.lazy(), btc_quotes().lazy()).collect()


def usdjpy_quotes() -> pl.DataFrame:
    raw = pl.read_csv(DATA / "ticks/usdjpy-quotes-truefx.csv", try_parse_dates=True)
    return raw.select(pl.col("timestamp").cast(pl.Datetime("ns", "UTC")).alias("ts"), "bid", "ask")


def gbpusd_quotes() -> pl.DataFrame:
    """Minute closes of the bid and of the ask side, joined by time."""
    sides = [
        pl.read_csv(DATA / f"minute/gbpusd-m1-{side}-2012.csv").select(
            "timestamp", pl.col("close").alias(side)
        )
        for side in ("bid", "ask")
    ]
    return sides[0].join(sides[1], on="timestamp").sort("timestamp")


REAL = real_bars()
BARS = {**REAL, "random-0": random_bars(seed=0), "random-1": random_bars(3_000, seed=1)}
BAR_CASES: dict[str, object] = {
    "parkinson(20)": lambda a: ref_range(a, 20, "parkinson"),
    "parkinson(1)": lambda a: ref_range(a, 1, "parkinson"),
    "garman_klass(20)": lambda a: ref_range(a, 20, "garman_klass"),
    "rogers_satchell(10)": lambda a: ref_range(a, 10, "rogers_satchell"),
    "yang_zhang(20)": lambda a: ref_range(a, 20, "yang_zhang"),
    "yang_zhang(2)": lambda a: ref_range(a, 2, "yang_zhang"),
    "realized_variance(30)": lambda a: ref_realized(a, 30)[:1],
    "bipower_variation(30)": lambda a: ref_realized(a, 30)[1:],
    "bipower_variation(2,1)": lambda a: ref_realized(a, 2, 1)[1:],
    "amihud(20)": lambda a: ref_amihud(a, 20, 0),
    "amihud(5,1)": lambda a: ref_amihud(a, 5, 1),
    "corwin_schultz(20)": lambda a: ref_corwin_schultz(a, 20),
    "corwin_schultz(1)": lambda a: ref_corwin_schultz(a, 1),
}


@pytest.mark.parametrize("call", sorted(BAR_CASES))
@pytest.mark.parametrize("series", sorted(BARS))
def test_bar_features_equal_independent_implementations(call: str, series: str) -> None:
    frame = BARS[series]
    out = run(frame, call)
    expected = BAR_CASES[call](arrays(frame))  # type: ignore[operator]
    assert len(out.columns) == len(expected)
    for column, reference in zip(out.columns, expected, strict=True):
        # The jump share is a difference of nearly equal sums: compare it absolutely.
        atol = 1e-12 if column == "jump_share" else None
        assert_close(out.get_column(column).to_numpy(), reference, atol=atol)


@pytest.mark.parametrize(("n", "ddof"), [(20, 1), (50, 0), (2, 1)])
@pytest.mark.parametrize("series", sorted(BARS))
def test_roll_spread_equals_pandas_autocovariance(n: int, ddof: int, series: str) -> None:
    a = arrays(BARS[series])
    change = pd.Series(a["close"]).diff()
    cov = change.rolling(n).cov(change.shift(1), ddof=ddof).to_numpy()
    # On a tick grid the autocovariance can be 0 up to rounding, where its sign is noise.
    size = (change**2).rolling(n + 1).mean().to_numpy()
    clear = ~(np.abs(cov) <= 1e-9 * size)
    ours = values(BARS[series], f"roll_spread({n},{ddof})")
    with np.errstate(invalid="ignore"):
        expected = np.where(cov <= 0, 2 * np.sqrt(np.abs(cov)), np.nan)
    assert_close(ours[clear], expected[clear])
    unclear = ours[~clear & ~np.isnan(cov)]
    assert (np.isnan(unclear) | (unclear <= 2 * np.sqrt(1e-9 * np.nanmax(size)))).all()


TRADES = {"random": random_events(3_000, seed=2), "btcusdt": btc_trades()}


@pytest.mark.parametrize("call", ["kyle_lambda(50)", "kyle_lambda(20,0)", "kyle_lambda(2)"])
@pytest.mark.parametrize("series", sorted(TRADES))
def test_kyle_lambda_equals_an_ols_slope(call: str, series: str) -> None:
    frame = TRADES[series]
    n, intercept = parse_call(call).values
    expected = ref_kyle(arrays(frame), int(n), int(intercept))[0]
    assert_close(values(frame, call), expected)


QUOTES = {
    "random": random_events(2_000, seed=3),
    "btcusdt-trades": btc_trades(),
    "btcusdt-quotes": btc_quotes(),
    "usdjpy": usdjpy_quotes(),
    "gbpusd-minute": gbpusd_quotes(),
}


@pytest.mark.parametrize("series", sorted(QUOTES))
def test_quote_features_equal_their_definitions(series: str) -> None:
    frame = QUOTES[series]
    a = arrays(frame)
    expected = ref_quotes(a)
    assert_close(values(frame, "mid"), expected["mid"], rtol=1e-15)
    spread = run(frame, "quoted_spread")
    assert_close(spread.get_column("quoted_spread").to_numpy(), expected["spread"], rtol=1e-15)
    bps = spread.get_column("quoted_spread_bps").to_numpy()
    assert_close(bps, expected["spread"] / expected["mid"] * 1e4, rtol=1e-14)
    if "weighted" in expected:
        assert_close(values(frame, "weighted_mid"), expected["weighted"], rtol=1e-14)
    if "effective" in expected:
        effective = run(frame, "effective_spread")
        ours = effective.get_column("effective_spread").to_numpy()
        assert_close(ours, expected["effective"], rtol=1e-14)
        relative = effective.get_column("effective_spread_bps").to_numpy()
        assert_close(relative, expected["effective"] / expected["mid"] * 1e4, rtol=1e-14)


def ref_realized_spread(frame: pl.DataFrame, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """The mid at t+Δ found by an as-of join on the shifted time."""
    rows = frame.with_row_index("row").with_columns(
        target=pl.col("ts") + pl.duration(microseconds=round(seconds * 1e6), time_unit="ns")
    )
    mids = rows.select(
        pl.col("ts").alias("at"),
        pl.when((pl.col("bid") > 0) & (pl.col("ask") > pl.col("bid")))
        .then((pl.col("bid") + pl.col("ask")) / 2)
        .alias("future"),
    )
    joined = rows.join_asof(mids, left_on="target", right_on="at", strategy="backward")
    joined = joined.sort("row")
    a = arrays(joined.drop("row", "target", "at"))
    future = joined.get_column("future").cast(pl.Float64).to_numpy().copy()
    future[joined.get_column("target") > frame.get_column("ts").max()] = np.nan
    sign = np.where(a["side"] == 0, np.nan, np.sign(a["side"]))
    mid = ref_quotes(a)["mid"]
    return 2 * sign * (a["price"] - future), 2 * sign * (future - mid)


@pytest.mark.parametrize(
    ("series", "seconds"), [("random", 150.0), ("random", 60.0), ("btcusdt", 1.0), ("btcusdt", 5)]
)
def test_realized_spread_uses_the_mid_at_t_plus_horizon(series: str, seconds: float) -> None:
    frame = TRADES[series]
    out = run(frame, f"realized_spread({seconds})")
    realized, impact = ref_realized_spread(frame, seconds)
    assert_close(out.get_column("realized_spread").to_numpy(), realized, rtol=1e-14)
    assert_close(out.get_column("price_impact").to_numpy(), impact, rtol=1e-12)


# --- Stoikov's micro-price against a numpy estimate of the same Markov chain -----------


def book_events(rows: int, seed: int, symbol: str = "BOOK", tick: float = 0.01) -> pl.DataFrame:
    """Bars plus a top of book on a tick grid whose mid drifts toward the smaller queue:
    spreads of 1 or 2 ticks (now and then 3, outside the model), moves of ½ or 1 tick,
    and a trade at the touch on every row."""
    rng = np.random.default_rng(seed)
    low, spread = 10_000, 1
    book = np.empty((rows, 4))
    bid_size, ask_size = rng.integers(1, 100, 2)
    for i in range(rows):
        up = rng.random() < bid_size / (bid_size + ask_size)
        event = rng.random()
        if event < 0.05:
            low += 1 if up else -1
        elif event < 0.08:
            spread = 3
        elif event < 0.45:
            if spread == 1:
                low -= 0 if up else 1  # a queue empties: the touch steps away
            else:
                low += 1 if up and spread == 2 else 0  # a quote improves inside the spread
            spread = 2 if spread == 1 else 1
        bid_size, ask_size = rng.integers(1, 100, 2)
        book[i] = (low * tick, (low + spread) * tick, bid_size, ask_size)
        spread = min(spread, 2)
    side = rng.choice(np.array([-1, 1], dtype=np.int8), rows)
    return random_bars(rows, seed, symbol).with_columns(
        pl.Series("bid", book[:, 0]),
        pl.Series("ask", book[:, 1]),
        pl.Series("bid_size", book[:, 2]),
        pl.Series("ask_size", book[:, 3]),
        pl.Series("price", np.where(side > 0, book[:, 1], book[:, 0])),
        pl.Series("size", rng.integers(1, 500, rows).astype(float)),
        pl.Series("side", side),
    )


def stoikov_g(
    x: np.ndarray, y: np.ndarray, moves: np.ndarray, states: int, buckets: int, tick: float
) -> np.ndarray | None:
    """g* = Σₖ Bᵏ g1 from symmetrised transition probabilities (matrix inverse, 3000
    terms); NaN for states never left."""
    flip = lambda s: (s // buckets) * buckets + buckets - 1 - s % buckets  # noqa: E731
    x, y, moves = np.r_[x, flip(x)], np.r_[y, flip(y)], np.r_[moves, -moves]
    stay = moves == 0
    q, r2, r1 = np.zeros((states, states)), np.zeros((states, states)), np.zeros((states, 4))
    np.add.at(q, (x[stay], y[stay]), 1)
    np.add.at(r2, (x[~stay], y[~stay]), 1)
    np.add.at(r1, (x[~stay], np.searchsorted([-2, -1, 1, 2], moves[~stay])), 1)
    total = q.sum(axis=1) + r1.sum(axis=1)
    scale = np.where(total > 0, total, 1)[:, None]
    transient = np.eye(states) - q / scale
    if np.linalg.cond(transient) > 1e12:
        return None  # a state the mid never leaves: no estimate, keep the last one
    inverse = np.linalg.inv(transient)
    g1 = inverse @ (r1 / scale) @ (np.array([-1, -0.5, 0.5, 1]) * tick)
    b = inverse @ (r2 / scale)
    g, term = g1.copy(), g1.copy()
    for _ in range(3000):
        term = b @ term
        g += term
    return np.where(total > 0, g, np.nan)


def reference_microprice(
    frame: pl.DataFrame, tick: float, buckets: int, spreads: int, refit: int
) -> np.ndarray:
    a = arrays(frame)
    mid = ref_quotes(a)["mid"]
    depth = a["bid_size"] + a["ask_size"]
    ticks = np.rint((a["ask"] - a["bid"]) / tick)
    valid = ~np.isnan(mid) & (depth > 0) & (ticks >= 1) & (ticks <= spreads)
    bucket = np.minimum(
        np.floor(a["bid_size"] / np.where(depth > 0, depth, 1) * buckets), buckets - 1
    )
    state = np.where(valid, (ticks - 1) * buckets + bucket, -1).astype(int)
    moves = np.rint(np.diff(mid) / tick * 2)
    counted = (state[:-1] >= 0) & (state[1:] >= 0) & (np.abs(moves) <= 2)
    at = np.nonzero(counted)[0]  # transition at -> at+1
    expected = np.full(len(mid), np.nan)
    fits = range(refit, len(at) + 1, refit)
    g = None
    for start, stop in zip(fits, [*list(fits)[1:], None], strict=True):
        use = at[:start]
        fitted = stoikov_g(state[use], state[use + 1], moves[use], buckets * spreads, buckets, tick)
        g = fitted if fitted is not None else g
        if g is None:
            continue
        rows = slice(at[start - 1] + 1, at[stop - 1] + 1 if stop else None)
        here = state[rows]
        expected[rows] = np.where(here >= 0, mid[rows] + g[np.maximum(here, 0)], np.nan)
    return expected


@pytest.mark.parametrize(
    ("series", "call"),
    [
        ("book-1", "microprice(0.01, 10, 2, 500)"),
        ("book-2", "microprice(0.01, 4, 2, 100)"),
        ("book-3", "microprice(0.01, 5, 1, 37)"),
        ("btcusdt-quotes", "microprice(0.01, 4, 1, 20)"),
    ],
)
def test_microprice_equals_a_numpy_estimate_of_the_chain(series: str, call: str) -> None:
    frame = btc_quotes() if series == "btcusdt-quotes" else book_events(5_000, int(series[-1]))
    tick, buckets, spreads, refit = parse_call(call).values
    expected = reference_microprice(frame, tick, int(buckets), int(spreads), int(refit))
    ours = values(frame, call)
    assert np.isnan(ours[: np.argmax(~np.isnan(expected))]).all()  # null until the first fit
    adjustment = ours - ref_quotes(arrays(frame))["mid"]
    reference = expected - ref_quotes(arrays(frame))["mid"]
    assert_close(adjustment, reference, rtol=1e-8, atol=1e-9 * tick)
    assert np.nanmax(np.abs(adjustment)) <= tick  # an expected move within a tick


def test_microprice_is_antisymmetric_in_the_imbalance() -> None:
    frame = book_events(4_000, seed=5).with_columns(  # no imbalance on a bucket boundary
        pl.col("bid_size") + 0.1234567, pl.col("ask_size") + 0.7654321
    )
    mirrored = frame.with_columns(
        bid_size=pl.col("ask_size"), ask_size=pl.col("bid_size"), bid=-pl.col("ask") + 300.0
    ).with_columns(ask=pl.col("bid") + (frame.get_column("ask") - frame.get_column("bid")))
    # Mirroring the book (sizes swapped, prices reflected) reflects every adjustment.
    ours = values(frame, "microprice(0.01, 6, 2, 200)") - values(frame, "mid")
    theirs = values(mirrored, "microprice(0.01, 6, 2, 200)") - values(mirrored, "mid")
    np.testing.assert_allclose(ours, -theirs, atol=1e-12)


# --- streaming properties ------------------------------------------------------------

SMALL = {  # windows short enough that 300-row series reach steady state
    "microprice": "microprice(0.01, 4, 2, 40)",
    "kyle_lambda": "kyle_lambda(10)",
    "amihud": "amihud(5)",
}


def small(spec_name: str) -> str:
    return SMALL.get(spec_name, spec_name + ("(5)" if spec_name != "realized_spread" else ""))


def every(specs: list) -> list:  # type: ignore[type-arg]
    return [parse_call(small(s.name) if s.params else s.name) for s in specs]


def test_every_microstructure_output_is_defined_on_a_book_stream() -> None:
    out = compute(book_events(400, seed=6), every(MINE))
    for column in out.columns[-(sum(len(s.outputs) for s in MINE)) :]:
        assert out.get_column(column).drop_nulls().len() > 100, column


def test_live_updates_equal_batch_bit_for_bit() -> None:
    frame = pl.concat([book_events(300, seed=7, symbol="A"), book_events(300, seed=8, symbol="B")])
    calls = every(CAUSAL)
    batch = compute(frame, calls)
    live = LiveFeatures(calls)
    rows = [live.update(row["symbol"], row) for row in batch.iter_rows(named=True)]
    replayed = pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.Float64))
    for column in replayed.columns:
        ours, theirs = replayed.get_column(column).to_numpy(), batch.get_column(column).to_numpy()
        assert np.array_equal(ours, theirs, equal_nan=True), column


@settings(max_examples=deep(15), deadline=None)
@given(cuts=st.lists(st.integers(1, 299), max_size=6))
def test_kernels_resume_from_their_state_across_chunks(cuts: list[int]) -> None:
    frame = book_events(300, seed=9)
    bounds = [0, *sorted(set(cuts)), 300]
    for call in every(CAUSAL):
        spec, params = call.spec, call.params
        inputs = tuple(frame.get_column(c).cast(pl.Float64).to_numpy() for c in spec.inputs)
        whole = np.empty((len(spec.outputs), 300))
        spec.kernel(inputs, params, spec.new_state(params), whole)
        state, pieces = spec.new_state(params), np.empty_like(whole)
        for start, end in itertools.pairwise(bounds):
            part = np.empty((len(spec.outputs), end - start))
            spec.kernel(tuple(x[start:end] for x in inputs), params, state, part)
            pieces[:, start:end] = part
        assert np.array_equal(whole, pieces, equal_nan=True), spec.name


def changed_after(frame: pl.DataFrame, cut: int, bump: float) -> pl.DataFrame:
    later = pl.int_range(pl.len()) > cut
    numeric = [c for c, t in frame.schema.items() if t.is_float()]
    return frame.with_columns(
        *[pl.when(later).then(pl.col(c) * bump).otherwise(pl.col(c)).alias(c) for c in numeric],
        pl.when(later).then(-pl.col("side")).otherwise(pl.col("side")).alias("side"),
    )


@settings(max_examples=deep(15), deadline=None)
@given(cut=st.integers(20, 280), bump=st.floats(0.5, 2.0))
def test_changing_data_after_t_changes_nothing_at_or_before_t(cut: int, bump: float) -> None:
    frame = book_events(300, seed=10)
    before = compute(frame, every(CAUSAL)).head(cut + 1)
    after = compute(changed_after(frame, cut, bump), every(CAUSAL)).head(cut + 1)
    assert_frame_equal(before, after)


@settings(max_examples=deep(15), deadline=None)
@given(cut=st.integers(20, 280), horizon=st.sampled_from([30.0, 60.0, 150.0, 600.0]))
def test_realized_spread_looks_ahead_by_its_horizon_only(cut: int, horizon: float) -> None:
    frame = book_events(300, seed=11)  # one row a minute
    assert [s.name for s in MINE if s.forward_looking] == ["realized_spread"]
    call = [parse_call(f"realized_spread({horizon})")]
    before = compute(frame, call)
    after = compute(changed_after(frame, cut, 1.5), call)
    reach = int(horizon // 60)  # rows a value may depend on beyond its own
    safe = max(cut + 1 - reach, 0)
    assert_frame_equal(before.head(safe), after.head(safe))
    if reach:
        assert not before.slice(safe, reach).equals(after.slice(safe, reach))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("microprice(tick=0)", "tick must be positive"),
        ("microprice(0.01, 1)", "imbalance_buckets must be at least 2"),
        ("yang_zhang(1)", "timeperiod must be at least 2"),
        ("bipower_variation(1)", "timeperiod must be at least 2"),
        ("roll_spread(20, 2)", "ddof must be at most 1"),
        ("realized_spread(0)", "horizon must be at least 0.001"),
        ("kyle_lambda(20, 0.5)", "intercept must be a whole number"),
    ],
)
def test_bad_parameters_say_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_call(text)


def test_features_name_the_columns_they_need() -> None:
    with pytest.raises(ValidationError, match=r"weighted_mid needs column\(s\) \['bid_size'"):
        compute(usdjpy_quotes(), [parse_call("weighted_mid")])
