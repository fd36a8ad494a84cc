"""Information-driven bars from trades (AFML ch. 2): tick, volume and dollar bars, and
tick, volume and dollar imbalance bars.

Bars come out in the bars schema (``symbol, ts, open, high, low, close, volume, vwap,
trades``), ``ts`` being the time of the bar's first trade; ``with_end=True`` adds
``ts_end``, the time of its last trade, when the bar is complete and can be used. A bar
closes at the first trade that meets its rule; that trade belongs to the bar it closes
and is never split. The trades after a symbol's last close form an open bar, dropped
unless ``partial=True``. Time bars are ``cift.data.aggregate.trades_to_bars``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, get_args

import numpy as np
import polars as pl

from cift.core.errors import ValidationError
from cift.features.engine import ordered, read_only, segments
from cift.features.kernels import sampling as ks
from cift.model import BAR_SCHEMA, TS_DTYPE

BarKind = Literal["tick", "volume", "dollar"]
SignSource = Literal["tick", "side"]
KINDS: tuple[str, ...] = get_args(BarKind)
TRADE_COLUMNS = ("symbol", "ts", "price", "size")

# Assigns each trade of one symbol a bar number; returns how many bars closed.
Assigner = Callable[[pl.DataFrame, np.ndarray], int]


def standard_bars(
    trades: pl.DataFrame | pl.LazyFrame,
    kind: BarKind,
    threshold: float,
    *,
    partial: bool = False,
    with_end: bool = False,
) -> pl.LazyFrame:
    """Tick, volume or dollar bars: a bar closes at the first trade where its count of
    trades, its volume or its traded value (price·size) reaches ``threshold``."""
    _check_kind(kind)
    if not math.isfinite(threshold) or threshold <= 0:
        raise ValidationError(f"{kind} bars: threshold must be a positive number, got {threshold}.")
    if kind == "tick" and threshold != int(threshold):
        raise ValidationError(f"tick bars: threshold is a number of trades, got {threshold}.")
    frame = _trades(trades, signs="tick")

    def assign(segment: pl.DataFrame, out: np.ndarray) -> int:
        state = np.zeros(ks.STANDARD_STATE)
        ks.standard_bar_ids(_metric(segment, kind), float(threshold), state, out)
        return int(state[1])

    return _bars(frame, assign, partial=partial, with_end=with_end)


def imbalance_bars(
    trades: pl.DataFrame | pl.LazyFrame,
    kind: BarKind,
    *,
    expected_ticks: float,
    bar_span: float | None = 10,
    imbalance_span: float | None = 1_000,
    expected_imbalance: float | None = None,
    bounds: tuple[float, float] = (0.5, 2.0),
    signs: SignSource = "tick",
    first_sign: int = 0,
    partial: bool = False,
    with_end: bool = False,
) -> pl.LazyFrame:
    """Tick, volume or dollar imbalance bars (AFML 2.3.2).

    With ``b`` the trade's sign and ``m`` its metric (1, size or price·size), a bar
    closes at the first trade where ``|sum b·m| >= E0[T]·|E0[b·m]|`` (a zero imbalance
    never closes one). ``E0[T]`` starts at ``expected_ticks`` and then follows an EWMA
    (span ``bar_span`` bars) of past bar lengths, clamped to ``bounds`` times
    ``expected_ticks`` so thresholds cannot collapse or explode; ``E0[b·m]`` starts at
    ``expected_imbalance`` (or the EWMA of the first ``expected_ticks`` trades) and then
    follows an EWMA (span ``imbalance_span`` trades) of past ``b·m``. Both are frozen
    while a bar is open. A span of None keeps that expectation fixed.

    ``signs="tick"`` signs trades by the tick rule (the first trade gets ``first_sign``);
    ``"side"`` uses the trade's aggressor side where known and the tick rule elsewhere.
    """
    _check_kind(kind)
    low, high = bounds
    if not (math.isfinite(expected_ticks) and expected_ticks >= 1):
        raise ValidationError(
            f"imbalance bars: expected_ticks must be at least 1, got {expected_ticks}."
        )
    if not 0 < low <= 1 <= high or not math.isfinite(high):
        raise ValidationError(
            f"imbalance bars: bounds must satisfy 0 < low <= 1 <= high, got {bounds}."
        )
    if imbalance_span is None and expected_imbalance is None:
        raise ValidationError(
            "imbalance bars: with imbalance_span=None the expected imbalance stays fixed; "
            "give its value with expected_imbalance."
        )
    if expected_imbalance is not None and not math.isfinite(expected_imbalance):
        raise ValidationError("imbalance bars: expected_imbalance must be a finite number.")
    _check_first_sign(first_sign)
    params = np.array(
        [
            expected_ticks,
            _alpha("bar_span", bar_span),
            _alpha("imbalance_span", imbalance_span),
            low * expected_ticks,
            high * expected_ticks,
            1.0 if signs == "side" else 0.0,
        ]
    )
    frame = _trades(trades, signs=signs)

    def assign(segment: pl.DataFrame, out: np.ndarray) -> int:
        state = np.zeros(ks.IMBALANCE_STATE)
        state[ks.PREV_SIGN] = first_sign
        state[ks.EXP_TICKS] = expected_ticks
        state[ks.EXP_IMB] = np.nan if expected_imbalance is None else expected_imbalance
        price = read_only(segment.get_column("price").to_numpy())
        side = _side(segment, signs)
        ks.imbalance_bar_ids(price, _metric(segment, kind), side, params, state, out)
        return int(state[ks.BAR])

    return _bars(frame, assign, partial=partial, with_end=with_end)


def trade_signs(
    trades: pl.DataFrame | pl.LazyFrame, signs: SignSource = "tick", first_sign: int = 0
) -> pl.LazyFrame:
    """The trades (grouped by symbol, in time order) with ``sign``, the +1/-1 each trade
    counts with in imbalance bars: the tick rule (an unchanged price repeats the last
    sign; a symbol's first trade gets ``first_sign``), or with ``signs="side"`` the
    aggressor side where it is known."""
    _check_first_sign(first_sign)
    frame = _trades(trades, signs=signs)
    out = np.empty(frame.height)
    for start, end in segments(frame.get_column("symbol"), frame.height):
        segment = frame.slice(start, end - start)
        state = np.array([0.0, 0.0, float(first_sign)])
        side = _side(segment, signs)
        price = read_only(segment.get_column("price").to_numpy())
        ks.trade_signs(price, side, signs == "side", state, out[start:end])
    return frame.with_columns(pl.Series("sign", out).cast(pl.Int8)).lazy()


def _check_first_sign(first_sign: int) -> None:
    if first_sign not in (-1, 0, 1):
        raise ValidationError(f"first_sign must be -1, 0 or 1, got {first_sign}.")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError(f"Unknown bar kind {kind!r}; choose from: {', '.join(KINDS)}.")


def _alpha(name: str, span: float | None) -> float:
    """EWMA weight ``2 / (span + 1)``; 0 (no updates) for None."""
    if span is None:
        return 0.0
    if not math.isfinite(span) or span < 1:
        raise ValidationError(f"imbalance bars: {name} must be at least 1 (or None), got {span}.")
    return 2.0 / (span + 1.0)


def _trades(trades: pl.DataFrame | pl.LazyFrame, *, signs: str) -> pl.DataFrame:
    """The trades with the columns bars need, checked, grouped by symbol in time order."""
    if signs not in get_args(SignSource):
        raise ValidationError(f"Unknown sign source {signs!r}; choose 'tick' or 'side'.")
    needed = [*TRADE_COLUMNS, *(("side",) if signs == "side" else ())]
    lazy = trades.lazy()
    present = lazy.collect_schema().names()
    missing = [c for c in needed if c not in present]
    if missing:
        raise ValidationError(
            f"Bars are built from trades with columns {needed}; missing {missing} "
            f"(the data has {present})."
        )
    frame = ordered(
        lazy.select(
            pl.col("symbol").cast(pl.String),
            pl.col("ts"),
            pl.col("price").cast(pl.Float64),
            pl.col("size").cast(pl.Float64),
            *([pl.col("side").cast(pl.Int8)] if signs == "side" else []),
        ).collect()
    )
    bad = frame.select(
        (pl.col("symbol").is_null() | pl.col("ts").is_null()).sum().alias("missing symbol or ts"),
        (~pl.col("price").is_finite() | (pl.col("price") <= 0))
        .fill_null(True)
        .sum()
        .alias("missing or non-positive price"),
        (~pl.col("size").is_finite() | (pl.col("size") < 0))
        .fill_null(True)
        .sum()
        .alias("missing or negative size"),
    ).row(0, named=True)
    problems = [f"{n:,} with {reason}" for reason, n in bad.items() if n]
    if problems:
        raise ValidationError(
            f"Cannot build bars: {len(problems)} kind(s) of bad trades ({'; '.join(problems)}); "
            "validate the trades first (cift data import rejects such rows)."
        )
    return frame


def _metric(segment: pl.DataFrame, kind: str) -> np.ndarray:
    if kind == "tick":
        return read_only(np.ones(segment.height))
    size = segment.get_column("size").to_numpy()
    return read_only(size if kind == "volume" else segment.get_column("price").to_numpy() * size)


def _side(segment: pl.DataFrame, signs: SignSource) -> np.ndarray:
    """The aggressor sides (0 where unknown), or zeros when signs come from the tick rule."""
    if signs != "side":
        return read_only(np.zeros(segment.height))
    return read_only(segment.get_column("side").fill_null(0).cast(pl.Float64).to_numpy())


def _bars(frame: pl.DataFrame, assign: Assigner, *, partial: bool, with_end: bool) -> pl.LazyFrame:
    """Run ``assign`` on each symbol and aggregate the trades of each bar.

    Bar numbers are made unique and increasing over the whole frame, so the trades of a
    bar are one run of a sorted key, which Polars groups without hashing symbols.
    """
    ids = np.empty(frame.height, dtype=np.int64)
    complete = np.empty(frame.height, dtype=bool)
    offset = 0
    for start, end in segments(frame.get_column("symbol"), frame.height):
        closed = assign(frame.slice(start, end - start), ids[start:end])
        complete[start:end] = ids[start:end] < closed
        ids[start:end] += offset
        offset = int(ids[end - 1]) + 1
    tagged = frame.with_columns(pl.Series("_bar", ids).set_sorted())
    if not partial:
        tagged = tagged.filter(pl.Series(complete))
    price, size, value = pl.col("price"), pl.col("size"), pl.col("_value")
    bars = (
        tagged.lazy()
        .with_columns((price * size).alias("_value"))
        .group_by("_bar", maintain_order=True)
        .agg(
            pl.col("symbol").first(),
            pl.col("ts").first(),
            price.first().alias("open"),
            price.max().alias("high"),
            price.min().alias("low"),
            price.last().alias("close"),
            size.sum().alias("volume"),
            value.sum(),
            pl.len().cast(pl.Int64).alias("trades"),
            pl.col("ts").last().alias("ts_end"),
        )
        .with_columns(pl.when(pl.col("volume") > 0).then(value / pl.col("volume")).alias("vwap"))
    )
    columns = [pl.col(name).cast(dtype) for name, dtype in BAR_SCHEMA.items()]
    if with_end:
        columns.append(pl.col("ts_end").cast(TS_DTYPE))
    return bars.select(columns)
