"""Event sampling and labels (AFML ch. 2-3): the CUSUM filter, a volatility target,
forward returns, triple-barrier labels and meta-labels.

The CUSUM filter and the volatility target are causal: their value at ``t`` uses data
up to ``t`` only. Everything else here is FORWARD-LOOKING by design: it reads prices
after ``t`` to say what happened next, which is what a model learns to predict. Those
columns start with ``fwd_`` and must never be used as features.

Frames are bars (``symbol, ts`` and a price column, ``close`` by default) of one or many
symbols; each symbol is handled on its own, in time order.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Literal

import numpy as np
import polars as pl

from cift.core.errors import ValidationError
from cift.features.engine import ordered, read_only, segments
from cift.features.kernels import sampling as ks
from cift.model import Timeframe

Frame = pl.DataFrame | pl.LazyFrame
Horizon = int | str | timedelta
BARRIERS = ("sl", "vertical", "pt", "end")  # by barrier code + 1; "end": data ran out


def cusum_events(
    bars: Frame, threshold: float | str, *, price: str = "close", log: bool = True
) -> pl.LazyFrame:
    """Times where the symmetric CUSUM filter fires (AFML snippet 2.4): ``symbol, ts,
    cusum`` with ``cusum`` +1 after a run up, -1 after a run down of more than
    ``threshold`` (a number, or a column of per-bar thresholds such as a volatility).
    Runs are sums of changes of ``ln(price)`` (``log=False``: of the price itself)."""
    column = threshold if isinstance(threshold, str) else None
    if not isinstance(threshold, str) and not (math.isfinite(threshold) and threshold > 0):
        raise ValidationError(f"cusum: threshold must be a positive number, got {threshold}.")
    data = _bars(bars, price, [column] if column else [])
    series = data.get_column(price).to_numpy()
    values = read_only(np.log(series) if log else series)
    limits = read_only(
        data.get_column(column).cast(pl.Float64).fill_null(np.nan).to_numpy()
        if column
        else np.full(data.height, threshold, dtype=np.float64)
    )
    out = np.empty(data.height, dtype=np.int8)
    for start, end in segments(data.get_column("symbol"), data.height):
        state = np.zeros(ks.CUSUM_STATE)
        ks.cusum_events(values[start:end], limits[start:end], state, out[start:end])
    marked = data.select("symbol", "ts").with_columns(pl.Series("cusum", out))
    return marked.filter(pl.col("cusum") != 0).lazy()


def return_volatility(
    bars: Frame, span: int = 100, *, price: str = "close", name: str = "target"
) -> pl.LazyFrame:
    """``bars`` (in symbol and time order) plus ``name``: the exponentially weighted
    standard deviation (span ``span`` bars, as pandas' ``ewm(span).std()``) of
    bar-to-bar simple returns; causal. AFML uses it as the barrier width ``trgt``."""
    if span < 1:
        raise ValidationError(f"return_volatility: span must be at least 1, got {span}.")
    data = _bars(bars, price, [], keep=True)
    returns = pl.col(price).pct_change().over("symbol")
    volatility = returns.ewm_std(span=span, adjust=True, bias=False).over("symbol")
    return data.lazy().with_columns(volatility.alias(name))


def forward_returns(
    bars: Frame, horizons: int | list[int] = 1, *, price: str = "close", log: bool = False
) -> pl.LazyFrame:
    """FORWARD-LOOKING: ``bars`` (in symbol and time order) plus ``fwd_ret_<h>``, the
    return from this bar's price to the price ``h`` bars later (null near the end)."""
    steps = [horizons] if isinstance(horizons, int) else list(horizons)
    if not steps or any(h < 1 for h in steps):
        raise ValidationError(f"forward_returns: horizons must be at least 1, got {horizons}.")
    data = _bars(bars, price, [], keep=True)
    now = pl.col(price)
    columns = []
    for h in steps:
        later = now.shift(-h).over("symbol")
        value = (later / now).log() if log else later / now - 1.0
        columns.append(value.alias(f"fwd_ret_{h}"))
    return data.lazy().with_columns(columns)


def triple_barrier(
    bars: Frame,
    events: Frame | None = None,
    *,
    target: float | str,
    horizon: Horizon,
    pt: float = 1.0,
    sl: float = 1.0,
    side: str | None = None,
    min_target: float = 0.0,
    vertical: Literal["sign", "zero"] = "sign",
    price: str = "close",
) -> pl.LazyFrame:
    """FORWARD-LOOKING triple-barrier labels (AFML 3.4), one row per event.

    From an event at ``t0`` (every bar, or the ``symbol, ts`` rows of ``events``), the
    path return ``R_t = (p_t/p_t0 - 1)·side`` is followed over the bars in
    ``(t0, t0 + horizon]`` (``horizon``: a number of bars, or a duration such as
    ``"1d"``). The first bar with ``R > pt·target`` labels +1, with ``R < -sl·target``
    -1; ``pt`` or ``sl`` of 0 disables that barrier. If neither is hit, the label is the
    sign of ``R`` at the vertical barrier (``vertical="zero"``: 0). ``target`` is a
    number or a column (of ``events`` or ``bars``, e.g. from ``return_volatility``);
    events with a target not above ``min_target``, with side 0 or null, or with no later
    bar are dropped.

    Columns: ``symbol, ts, fwd_t1`` (the bar that ended the event), ``fwd_ret`` (R
    there), ``target``, ``side`` (when given), ``fwd_barrier`` (pt, sl, vertical; end
    when the data stops before the vertical barrier) and ``fwd_label``.
    """
    for name, value in (("pt", pt), ("sl", sl), ("min_target", min_target)):
        if not (math.isfinite(value) and value >= 0):
            raise ValidationError(f"triple_barrier: {name} must be a number >= 0, got {value}.")
    if vertical not in ("sign", "zero"):
        raise ValidationError(
            f"triple_barrier: vertical must be 'sign' or 'zero', not {vertical!r}."
        )
    data, picked = _labelled_events(bars, events, target, side, min_target, price)
    start = picked.get_column("_row").to_numpy()
    end, complete = _vertical(data, start, horizon)
    keep = end > start
    picked, start, end, complete = (
        picked.filter(pl.Series(keep)),
        start[keep],
        end[keep],
        complete[keep],
    )
    close = read_only(data.get_column(price).to_numpy())
    direction = np.sign(picked.get_column("_side").to_numpy())
    touch = np.empty(len(start), dtype=np.int64)
    barrier = np.empty(len(start), dtype=np.int8)
    ks.barrier_touches(
        close,
        start,
        end,
        read_only(picked.get_column("_target").to_numpy()),
        direction,
        float(pt),
        float(sl),
        touch,
        barrier,
    )
    ret = (close[touch] / close[start] - 1.0) * direction
    label = np.where(barrier != 0, barrier, np.sign(ret) if vertical == "sign" else 0)
    kind = np.where((barrier == 0) & ~complete, 2, barrier) + 1
    result = picked.select(
        "symbol",
        "ts",
        data.get_column("ts").gather(touch).alias("fwd_t1"),
        pl.Series("fwd_ret", ret),
        pl.col("_target").alias("target"),
        *([pl.Series("side", direction).cast(pl.Int8)] if side is not None else []),
        pl.Series("fwd_barrier", kind.astype(np.uint8)).replace_strict(
            dict(enumerate(BARRIERS)), return_dtype=pl.String
        ),
        pl.Series("fwd_label", label).cast(pl.Int8),
    )
    return result.sort("symbol", "ts", maintain_order=True).lazy()


def meta_labels(
    bars: Frame,
    events: Frame | None = None,
    *,
    side: str,
    target: float | str,
    horizon: Horizon,
    pt: float = 1.0,
    sl: float = 1.0,
    min_target: float = 0.0,
    price: str = "close",
) -> pl.LazyFrame:
    """FORWARD-LOOKING meta-labels (AFML 3.6): the triple-barrier outcome of the primary
    model's bet ``side`` (+1 long, -1 short, a column), plus ``fwd_meta_label`` = 1 when
    the bet earned a positive return at the first barrier touched, else 0. A secondary
    model learns from it whether, and how much, to act on the primary's signal."""
    labels = triple_barrier(
        bars,
        events,
        target=target,
        horizon=horizon,
        pt=pt,
        sl=sl,
        side=side,
        min_target=min_target,
        price=price,
    )
    return labels.with_columns((pl.col("fwd_ret") > 0).cast(pl.Int8).alias("fwd_meta_label"))


def volatility_barrier_labels(
    bars: Frame,
    *,
    horizon: Horizon,
    pt: float = 1.0,
    sl: float = 1.0,
    span: int = 100,
    cusum: float | None = None,
    vertical: Literal["sign", "zero"] = "sign",
    price: str = "close",
) -> pl.LazyFrame:
    """FORWARD-LOOKING: AFML's recipe in one call. Barrier widths are the returns'
    EWMA volatility (``return_volatility(span)``); events are every bar, or the CUSUM
    filter's with threshold ``cusum`` on log prices; then ``triple_barrier``."""
    with_target = return_volatility(bars, span, price=price).collect()
    events = None if cusum is None else cusum_events(with_target, cusum, price=price)
    return triple_barrier(
        with_target,
        events,
        target="target",
        horizon=horizon,
        pt=pt,
        sl=sl,
        vertical=vertical,
        price=price,
    )


def _labelled_events(
    bars: Frame,
    events: Frame | None,
    target: float | str,
    side: str | None,
    min_target: float,
    price: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ordered bars, and the events to label: ``symbol, ts``, their bar ``_row``,
    ``_target`` and ``_side`` (events without a usable target or side left out)."""
    columns = [c for c in (target, side) if isinstance(c, str)]
    data = _bars(bars, price, [c for c in columns if events is None or c not in _names(events)])
    picked = _events(data, events, columns)
    if not isinstance(target, str):
        picked = picked.with_columns(pl.lit(float(target)).alias("_target"))
    picked = picked.rename({c: f"_{'target' if c == target else 'side'}" for c in columns})
    if side is None:
        picked = picked.with_columns(pl.lit(1.0).alias("_side"))
    usable = picked.with_columns(pl.col("_target", "_side").cast(pl.Float64)).filter(
        (pl.col("_target") > min_target) & pl.col("_target").is_finite() & (pl.col("_side") != 0)
    )
    return data, usable


def _names(frame: Frame) -> list[str]:
    return frame.lazy().collect_schema().names()


def _bars(bars: Frame, price: str, extra: list[str], *, keep: bool = False) -> pl.DataFrame:
    """``symbol, ts``, the price and ``extra`` columns (``keep``: every column), grouped
    by symbol in time order, the price as float."""
    present = _names(bars)
    needed = ["symbol", "ts", price, *extra]
    missing = [c for c in dict.fromkeys(needed) if c not in present]
    if missing:
        raise ValidationError(
            f"The bars lack column(s) {missing}; they have {present}. Name the price column "
            "with price=... and the target or side column as it is called."
        )
    chosen = present if keep else list(dict.fromkeys(needed))
    data = ordered(bars.lazy().select(chosen).collect())
    prices = data.get_column(price).cast(pl.Float64)
    if (prices.is_null() | ~prices.is_finite() | (prices <= 0)).any():
        raise ValidationError(
            f"The bars' {price!r} column has missing, infinite or non-positive prices; "
            "drop or fill those bars first."
        )
    return data.with_columns(prices)


def _events(data: pl.DataFrame, events: Frame | None, columns: list[str]) -> pl.DataFrame:
    """Each event's row in ``data`` (``_row``) and its ``columns`` (from the events
    where they have them, else from the bars)."""
    indexed = data.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    if events is None:
        return indexed.select("symbol", "ts", "_row", *columns)
    names = _names(events)
    if "symbol" not in names or "ts" not in names:
        raise ValidationError(f"Events need columns symbol and ts; they have {names}.")
    if indexed.select(pl.struct("symbol", "ts").is_duplicated().any()).item():
        raise ValidationError(
            "Several bars of one symbol share a timestamp, so events cannot be matched to "
            "bars by time; label every bar (no events) or make bar times unique."
        )
    own = [c for c in columns if c in names]
    from_bars = [c for c in columns if c not in names]
    wanted = events.lazy().select("symbol", "ts", *own).collect()
    matched = wanted.join(
        indexed.select("symbol", "ts", "_row", *from_bars),
        on=["symbol", "ts"],
        how="left",
        maintain_order="left",
    )
    unmatched = matched.get_column("_row").null_count()
    if unmatched:
        raise ValidationError(
            f"{unmatched:,} event(s) have no bar of their symbol at the same ts; events must "
            "be bar times (e.g. from cusum_events on the same bars)."
        )
    return matched.select("symbol", "ts", "_row", *columns)


def _vertical(
    data: pl.DataFrame, start: np.ndarray, horizon: Horizon
) -> tuple[np.ndarray, np.ndarray]:
    """The last row each event may look at, and whether the data reaches its vertical
    barrier (else the path is cut at the symbol's last bar)."""
    last = np.empty(data.height, dtype=np.int64)
    for first, stop in segments(data.get_column("symbol"), data.height):
        last[first:stop] = stop - 1
    if isinstance(horizon, int) and not isinstance(horizon, bool):
        if horizon < 1:
            raise ValidationError(f"triple_barrier: horizon must be at least 1 bar, got {horizon}.")
        return np.minimum(start + horizon, last[start]), start + horizon <= last[start]
    span = _duration(horizon)
    times = data.get_column("ts").cast(pl.Int64).to_numpy()
    end = np.empty(len(start), dtype=np.int64)
    for first, stop in segments(data.get_column("symbol"), data.height):
        mine = (start >= first) & (start < stop)
        found = np.searchsorted(times[first:stop], times[start[mine]] + span, side="right")
        end[mine] = first + found - 1
    return end, times[start] + span <= times[last[start]]


def _duration(horizon: Horizon) -> int:
    """A horizon given as a duration, in nanoseconds."""
    if isinstance(horizon, timedelta):
        nanos = int(horizon / timedelta(microseconds=1)) * 1_000
        if nanos <= 0:
            raise ValidationError(f"triple_barrier: horizon must be positive, got {horizon}.")
        return nanos
    if isinstance(horizon, str):
        return Timeframe.parse(horizon).nanos
    raise ValidationError(
        f"triple_barrier: horizon is a number of bars or a duration such as '1d', not {horizon!r}."
    )
