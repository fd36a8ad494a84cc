"""CUSUM events, forward returns, triple-barrier labels and meta-labels: the C14 vectors,
AFML's snippets written out in pandas, and no-look-ahead properties."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from cift.cli.app import app
from cift.core.errors import ValidationError
from cift.features.labels import (
    cusum_events,
    forward_returns,
    meta_labels,
    return_volatility,
    triple_barrier,
    volatility_barrier_labels,
)
from tests.budget import deep
from tests.features.reference import DATA, random_bars, real_bars

SECOND = 1_000_000_000
C14_PATHS = {
    "UP": [100, 100.5, 101, 102.5, 101, 99],
    "DOWN": [100, 99.5, 98.9, 97.9, 99, 100],
    "FLAT": [100, 100.4, 99.6, 100.8, 100.3, 101, 103],
}


def series(prices: list[float], symbol: str = "X") -> pl.DataFrame:
    """Bars one second apart; a bar's index is its ts in seconds."""
    return pl.DataFrame(
        {
            "symbol": [symbol] * len(prices),
            "ts": np.arange(len(prices), dtype=np.int64) * SECOND,
            "close": np.asarray(prices, dtype=float),
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


def c14_bars() -> tuple[pl.DataFrame, pl.DataFrame]:
    bars = pl.concat([series(p, name) for name, p in C14_PATHS.items()])
    events = bars.group_by("symbol").agg(pl.col("ts").first()).with_columns(side=pl.lit(1))
    return bars, events


def seconds(column: pl.Series) -> list[int]:
    return [int(t) // SECOND for t in column.cast(pl.Int64)]


@pytest.mark.parametrize("horizon", [5, "5s", timedelta(seconds=5)])
def test_c14_triple_barrier_vectors(horizon: int | str | timedelta) -> None:
    bars, events = c14_bars()
    signed = triple_barrier(bars, events, target=0.02, horizon=horizon).collect()
    assert signed.get_column("symbol").to_list() == ["DOWN", "FLAT", "UP"]
    assert seconds(signed.get_column("fwd_t1")) == [3, 5, 3]
    np.testing.assert_allclose(signed.get_column("fwd_ret"), [-0.021, 0.01, 0.025], rtol=1e-12)
    assert signed.get_column("fwd_barrier").to_list() == ["sl", "vertical", "pt"]
    assert signed.get_column("fwd_label").to_list() == [-1, 1, 1]  # AFML getBins: sign
    zero = triple_barrier(bars, events, target=0.02, horizon=horizon, vertical="zero").collect()
    assert zero.get_column("fwd_label").to_list() == [-1, 0, 1]  # mlfinlab barrier_touched


def test_c14_meta_labels_of_a_long_primary() -> None:
    bars, events = c14_bars()
    meta = meta_labels(bars, events, side="side", target=0.02, horizon=5).collect()
    assert meta.get_column("fwd_meta_label").to_list() == [0, 1, 1]  # DOWN, FLAT, UP
    short = meta_labels(
        bars, events.with_columns(side=pl.lit(-1)), side="side", target=0.02, horizon=5
    ).collect()
    assert short.get_column("fwd_barrier").to_list() == ["pt", "vertical", "sl"]
    assert short.get_column("fwd_meta_label").to_list() == [1, 0, 0]
    np.testing.assert_allclose(short.get_column("fwd_ret"), [0.021, -0.01, -0.025], rtol=1e-12)


def test_disabled_barriers_and_a_path_cut_by_the_data() -> None:
    bars, events = c14_bars()
    no_pt = triple_barrier(bars, events, target=0.02, horizon=5, pt=0).collect()
    assert no_pt.get_column("fwd_barrier").to_list() == ["sl", "vertical", "vertical"]
    assert seconds(no_pt.get_column("fwd_t1")) == [3, 5, 5]
    long = triple_barrier(bars, events, target=0.5, horizon=50).collect()
    assert long.get_column("fwd_barrier").to_list() == ["end"] * 3
    assert seconds(long.get_column("fwd_t1")) == [5, 6, 5]
    every = triple_barrier(bars, target=0.02, horizon=2).collect()
    assert every.height == bars.height - 3  # a symbol's last bar has no future to label


def afml_triple_barrier(
    close: pd.Series, events: pd.Series, trgt: pd.Series, h: pd.Timedelta, pt: float, sl: float
) -> pd.DataFrame:
    """AFML snippet 3.2 (applyPtSlOnT1) and getBins, with the vertical barrier at the last
    bar within (t0, t0 + h]."""
    rows = []
    for t0 in events:
        window = close[(close.index >= t0) & (close.index <= t0 + h)]
        if window.shape[0] < 2:
            continue
        path = window / close[t0] - 1
        first_sl = path[path < -sl * trgt[t0]].index.min() if sl > 0 else pd.NaT
        first_pt = path[path > pt * trgt[t0]].index.min() if pt > 0 else pd.NaT
        t1 = pd.Series([window.index[-1], first_sl, first_pt]).dropna().min()
        ret = close[t1] / close[t0] - 1
        rows.append((t0, t1, ret, float(np.sign(ret))))
    return pd.DataFrame(rows, columns=["t0", "t1", "ret", "bin"])


@pytest.mark.parametrize(
    ("name", "pt", "sl", "days"), [("nvda-daily", 1, 1, 10), ("orcl-daily", 2, 1, 20)]
)
def test_real_prices_equal_afml_snippets(name: str, pt: float, sl: float, days: int) -> None:
    bars = return_volatility(real_bars()[name], span=100).collect()
    events = cusum_events(bars, "target").collect()
    labels = triple_barrier(bars, events, target="target", horizon=f"{days}d", pt=pt, sl=sl)
    ours = labels.collect()
    close = pd.Series(bars.get_column("close").to_numpy(), index=bars.get_column("ts").to_pandas())
    trgt = pd.Series(bars.get_column("target").to_numpy(), index=close.index)
    t_events = pd.DatetimeIndex(events.get_column("ts").to_pandas())
    t_events = t_events[trgt[t_events].fillna(0).to_numpy() > 0]
    expected = afml_triple_barrier(
        close, pd.Series(t_events), trgt, pd.Timedelta(days=days), pt, sl
    )
    assert ours.height == expected.shape[0] > 100
    assert ours.get_column("ts").to_pandas().tolist() == expected["t0"].tolist()
    assert ours.get_column("fwd_t1").to_pandas().tolist() == expected["t1"].tolist()
    np.testing.assert_allclose(ours.get_column("fwd_ret"), expected["ret"], rtol=1e-12)
    np.testing.assert_array_equal(ours.get_column("fwd_label"), expected["bin"])


def afml_cusum(g_raw: pd.Series, h: float) -> list[pd.Timestamp]:
    """AFML snippet 2.4 getTEvents."""
    t_events, s_pos, s_neg = [], 0.0, 0.0
    diff = g_raw.diff()
    for i in diff.index[1:]:
        s_pos, s_neg = max(0.0, s_pos + diff.loc[i]), min(0.0, s_neg + diff.loc[i])
        if s_neg < -h:
            s_neg = 0
            t_events.append(i)
        elif s_pos > h:
            s_pos = 0
            t_events.append(i)
    return t_events


@pytest.mark.parametrize(("name", "h"), [("nvda-daily", 0.05), ("6e-minute", 0.0005)])
def test_cusum_equals_afml_snippet(name: str, h: float) -> None:
    """Over at most 10,000 rows (the filter runs from the first row on, so a head is a
    whole run; the snippet's row loop takes 5 s over the 30,000 minutes)."""
    bars = real_bars()[name].head(10_000)
    ours = cusum_events(bars, h).collect()
    log_close = pd.Series(np.log(bars.get_column("close").to_numpy()), index=bars["ts"].to_pandas())
    expected = afml_cusum(log_close, h)
    assert len(expected) > 100
    assert ours.get_column("ts").to_pandas().tolist() == expected
    moves = log_close.diff()[pd.DatetimeIndex(expected)]
    assert set(ours.get_column("cusum").unique()) == {-1, 1}
    assert (np.sign(moves.to_numpy()) * ours.get_column("cusum").to_numpy() >= 0).mean() > 0.9


def test_cusum_takes_a_threshold_per_bar() -> None:
    bars = series([100, 101, 102, 103, 104, 103, 102, 101], "X")
    wide = cusum_events(bars.with_columns(h=pl.lit(0.5)), "h", log=False).collect()
    fixed = cusum_events(bars, 0.5, log=False).collect()
    assert_frame_equal(wide, fixed)
    assert seconds(fixed.get_column("ts")) == [1, 2, 3, 4, 5, 6, 7]
    assert cusum_events(bars.with_columns(h=pl.lit(None, pl.Float64)), "h").collect().is_empty()
    stepped = bars.with_columns(h=pl.when(pl.int_range(pl.len()) < 4).then(10.0).otherwise(1.5))
    assert seconds(cusum_events(stepped, "h", log=False).collect().get_column("ts")) == [4, 6]


def test_forward_returns_and_volatility_per_symbol() -> None:
    one, two = random_bars(300, seed=1, symbol="A"), random_bars(200, seed=2, symbol="B")
    mixed = pl.concat([two, one]).sample(fraction=1.0, shuffle=True, seed=3)
    out = forward_returns(mixed, [1, 5], log=True).collect()
    vol = return_volatility(mixed, span=20).collect()
    for alone in (one, two):
        close = alone.get_column("close").to_numpy()
        mine = out.filter(pl.col("symbol") == alone.item(0, "symbol"))
        expected = np.full(len(close), np.nan)
        expected[:-5] = np.log(close[5:] / close[:-5])
        got = mine.get_column("fwd_ret_5").fill_null(np.nan).to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        assert mine.get_column("fwd_ret_1").null_count() == 1
        reference = pd.Series(close).pct_change().ewm(span=20).std().to_numpy()
        ours = vol.filter(pl.col("symbol") == alone.item(0, "symbol")).get_column("target")
        np.testing.assert_allclose(ours.fill_null(np.nan).to_numpy(), reference, rtol=1e-10)
    simple = forward_returns(series([100, 110, 99]), 1).collect().get_column("fwd_ret_1")
    np.testing.assert_allclose(simple.to_list()[:2], [0.1, -0.1], rtol=1e-12)


paths = st.lists(st.floats(-0.03, 0.03), min_size=2, max_size=60).map(
    lambda steps: (100 * np.exp(np.cumsum(steps))).tolist()
)


def brute_force_check(close: np.ndarray, row: dict, pt: float, sl: float, t0: int, t1: int) -> None:  # type: ignore[type-arg]
    """Nothing in (t0, t1) crosses a barrier; t1 crosses the one reported, if any."""
    target, side = row["target"], row.get("side", 1)
    returns = (close[t0 + 1 : t1 + 1] / close[t0] - 1) * side
    above = (close[t0 + 1 : t1 + 1] - close[t0] * (1 + side * pt * target)) * side > 0
    below = (close[t0 + 1 : t1 + 1] - close[t0] * (1 - side * sl * target)) * side < 0
    hits = (above & (pt > 0)) | (below & (sl > 0))
    assert not hits[:-1].any()
    if row["fwd_barrier"] == "pt":
        assert above[-1]
    elif row["fwd_barrier"] == "sl":
        assert below[-1]
    else:
        assert not hits[-1]
    assert row["fwd_ret"] == pytest.approx(returns[-1], rel=1e-12, abs=1e-15)


@settings(max_examples=deep(80), deadline=None)
@given(
    prices=paths,
    horizon=st.integers(1, 10),
    pt=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    sl=st.sampled_from([0.0, 1.0, 1.5]),
    side=st.sampled_from([None, 1, -1]),
)
def test_the_first_barrier_touched_ends_each_event(
    prices: list[float], horizon: int, pt: float, sl: float, side: int | None
) -> None:
    bars = series(prices).with_columns(side=pl.lit(side if side is not None else 1))
    labels = triple_barrier(
        bars, target=0.02, horizon=horizon, pt=pt, sl=sl, side="side" if side else None
    ).collect()
    close = np.asarray(prices)
    assert labels.height == len(prices) - 1
    for row in labels.iter_rows(named=True):
        t0, t1 = int(row["ts"].timestamp()), int(row["fwd_t1"].timestamp())
        assert t0 < t1 <= min(t0 + horizon, len(prices) - 1)
        if row["fwd_barrier"] in ("vertical", "end"):
            assert t1 == min(t0 + horizon, len(prices) - 1)
            assert (row["fwd_barrier"] == "end") == (t0 + horizon > len(prices) - 1)
        brute_force_check(close, row, pt, sl, t0, t1)


@settings(max_examples=deep(60), deadline=None)
@given(
    prices=paths,
    horizon=st.integers(1, 8),
    event=st.integers(0, 58),
    shock=st.floats(0.5, 2.0),
)
def test_a_label_reads_only_its_own_window(
    prices: list[float], horizon: int, event: int, shock: float
) -> None:
    t0 = event % (len(prices) - 1)
    bars = series(prices).with_columns(target=pl.lit(0.015))
    outside = (pl.int_range(pl.len()) < t0) | (pl.int_range(pl.len()) > t0 + horizon)
    changed = bars.with_columns(
        close=pl.when(outside).then(pl.col("close") * shock).otherwise(pl.col("close")),
        target=pl.when(outside).then(pl.lit(0.5)).otherwise(pl.col("target")),
    )
    events = bars.slice(t0, 1).select("symbol", "ts")
    before = triple_barrier(bars, events, target="target", horizon=horizon).collect()
    after = triple_barrier(changed, events, target="target", horizon=horizon).collect()
    assert before.height == 1
    assert_frame_equal(before, after)


@settings(max_examples=deep(60), deadline=None)
@given(prices=paths, cut=st.integers(1, 59), h=st.sampled_from([0.005, 0.01, 0.03]))
def test_cusum_events_have_no_look_ahead(prices: list[float], cut: int, h: float) -> None:
    bars = pl.concat([series(prices, "A"), series(prices[::-1], "B")])
    events = cusum_events(bars, h).collect()
    assert events.join(bars, on=["symbol", "ts"], how="anti").is_empty()  # bar times only
    early = bars.filter(pl.col("ts") < pl.lit(cut * SECOND).cast(pl.Datetime("ns", "UTC")))
    assert_frame_equal(
        cusum_events(early, h).collect(),
        events.filter(pl.col("ts") < pl.lit(cut * SECOND).cast(pl.Datetime("ns", "UTC"))),
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: cusum_events(b, 0), "threshold must be a positive number"),
        (lambda b: cusum_events(b, "vol"), r"lack column\(s\) \['vol'\]"),
        (lambda b: forward_returns(b, 0), "at least 1"),
        (lambda b: return_volatility(b, 0), "span must be at least 1"),
        (lambda b: triple_barrier(b, target=0.01, horizon=0), "at least 1 bar"),
        (lambda b: triple_barrier(b, target=0.01, horizon="soon"), "Unknown timeframe"),
        (lambda b: triple_barrier(b, target=0.01, horizon=2, pt=-1), "pt must be a number >= 0"),
        (lambda b: triple_barrier(b, target=0.01, horizon=2, vertical="up"), "vertical must be"),  # type: ignore[arg-type]
        (lambda b: triple_barrier(b, target=0.01, horizon=2, price="mid"), r"\['mid'\]"),
        (
            lambda b: triple_barrier(b, b.select("ts"), target=0.01, horizon=2),
            "Events need columns symbol and ts",
        ),
        (
            lambda b: triple_barrier(
                b, b.with_columns(pl.col("ts").dt.offset_by("1ms")), target=0.01, horizon=2
            ),
            "have no bar of their symbol at the same ts",
        ),
        (
            lambda b: triple_barrier(pl.concat([b, b]), b, target=0.01, horizon=2),
            "share a timestamp",
        ),
        (
            lambda b: triple_barrier(b.with_columns(close=pl.lit(0.0)), target=0.01, horizon=2),
            "non-positive prices",
        ),
    ],
)
def test_bad_input_is_explained(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=message):
        call(series([100, 101, 102, 101])).collect()


def test_cli_labels_a_bars_file(tmp_path: Path) -> None:
    out = tmp_path / "labels.parquet"
    result = CliRunner().invoke(
        app,
        [
            "features",
            "label",
            "--input",
            str(DATA / "daily/nvda-1999-2014.csv"),
            "--horizon",
            "10",
            "--pt",
            "2",
            "--cusum",
            "0.05",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    written = pl.read_parquet(out)
    bars = real_bars()["nvda-daily"]
    target = return_volatility(bars, 100).collect()
    events = cusum_events(bars, 0.05)
    expected = triple_barrier(target, events, target="target", horizon=10, pt=2).collect()
    assert_frame_equal(written, expected)
    assert_frame_equal(
        written, volatility_barrier_labels(bars, horizon=10, pt=2, cusum=0.05).collect()
    )
    assert written.height > 100
