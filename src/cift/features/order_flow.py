"""Order flow on frames: the prevailing quote of each trade, and how well trade
classifiers recover the true aggressor side.

Quote convention: a trade is compared with the last quote stamped at or before
``ts - lag`` (``lag`` 0 by default: modern feeds are time-synchronised, unlike the 1980s
tape for which Lee and Ready lagged quotes by 5 seconds). A quote stamped at the trade's
own instant counts as prevailing.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from cift.core.errors import ValidationError
from cift.data.aggregate import trades_to_bars, window_start, with_prevailing_quote
from cift.features.engine import compute
from cift.features.spec import parse_call
from cift.model import Timeframe
from cift.model.schemas import TS_DTYPE

TRADE_RULES = ("tick_rule", "quote_rule", "lee_ready")


def with_quotes(
    trades: pl.LazyFrame | pl.DataFrame,
    quotes: pl.LazyFrame | pl.DataFrame,
    lag: timedelta = timedelta(0),
) -> pl.LazyFrame:
    """Each trade with ``bid, ask, bid_size, ask_size`` of the quote prevailing ``lag``
    before it (nulls before the first quote), ordered by symbol and time."""
    if lag < timedelta(0):
        raise ValidationError(f"The quote lag must not be negative, got {lag}.")
    for name, frame in (("trades", trades), ("quotes", quotes)):
        missing = {"symbol", "ts"} - set(frame.lazy().collect_schema().names())
        if missing:
            raise ValidationError(f"The {name} need column(s) {sorted(missing)} to be joined.")
    later = pl.col("ts") + pl.lit(lag).cast(pl.Duration("ns"))
    shifted = quotes.lazy().with_columns(later.cast(TS_DTYPE)).sort("ts")
    joined = with_prevailing_quote(trades.lazy().sort("ts", maintain_order=True), shifted)
    return joined.sort("symbol", "ts", maintain_order=True)


def _trade_scores(signed: pl.DataFrame, rule: str) -> dict[str, object]:
    """Trades scored, share classified, accuracy by count and by volume of the classified."""
    sign, truth, size = pl.col(rule), pl.col("side"), pl.col("size")
    classified = sign.is_not_null() & (sign != 0)
    right = classified & (sign == truth)
    row = signed.select(
        trades=pl.len(),
        classified=classified.mean(),
        accuracy=right.sum() / classified.sum(),
        volume_accuracy=size.filter(right).sum() / size.filter(classified).sum(),
    ).row(0, named=True)
    return {"rule": rule, **row}


def _bar_accuracy(estimated_buy: pl.Expr, frame: pl.DataFrame) -> float:
    """1 - Σ|estimated - true buy volume| / Σ volume over bars: the share of volume put on
    the right side, the measure bulk classification is judged by."""
    error = (estimated_buy - pl.col("buy")).abs().sum() / pl.col("volume").sum()
    return float(frame.select(1.0 - error).item())


def score_classifiers(
    trades: pl.DataFrame,
    quotes: pl.DataFrame,
    *,
    bar: str = "1s",
    window: int = 10,
    tick_size: float = 0.01,
    lag: timedelta = timedelta(0),
    student_df: float = 1.0,
) -> pl.DataFrame:
    """Accuracy of the tick, quote and Lee-Ready rules (per trade) and of bulk volume
    classification (per ``bar``, normal and Student-t CDFs over a ``window`` of bars)
    against the true aggressor ``side``, on the trades that have a prevailing quote.

    Every rule also gets the volume accuracy over the bars where bulk classification
    exists, so trade-level and bulk rules are compared on the same footing; ``even_split``
    (half of every bar's volume to each side) is the baseline to beat.
    """
    if trades.filter(pl.col("side") == 0).height:
        raise ValidationError("Scoring needs the true aggressor side (+1/-1) of every trade.")
    calls = [parse_call(f"{rule}({tick_size})") for rule in TRADE_RULES]
    signed = compute(with_quotes(trades, quotes, lag).collect(), calls)
    frame = Timeframe.parse(bar)
    buy_volume = {  # unclassified volume counts half to each side
        rule: pl.col("size")
        * pl.when(pl.col(rule) > 0).then(1.0).when(pl.col(rule) < 0).then(0.0).otherwise(0.5)
        for rule in TRADE_RULES
    }
    quoted = signed.filter(pl.col("bid").is_not_null())
    per_bar = (
        quoted.group_by("symbol", window_start(frame).alias("ts"))
        .agg(
            pl.col("size").filter(pl.col("side") > 0).sum().alias("buy"),
            *[volume.sum().alias(rule) for rule, volume in buy_volume.items()],
        )
        .sort("symbol", "ts")
    )
    bars = trades_to_bars(quoted.lazy(), frame).collect().join(per_bar, on=["symbol", "ts"])
    bulk = {"bvc_normal": 0.0, f"bvc_t{student_df:g}": student_df}
    bulk_calls = [parse_call(f"{name}=bvc({window},{df})") for name, df in bulk.items()]
    scored = compute(bars, bulk_calls).drop_nulls()  # bars where bulk classification exists
    rows: list[dict[str, object]] = []
    for rule in TRADE_RULES:
        row = _trade_scores(quoted, rule)
        row["bar_accuracy"] = _bar_accuracy(pl.col(rule), scored)
        rows.append(row)
    for name in bulk:
        rows.append({"rule": name, "bar_accuracy": _bar_accuracy(pl.col(f"{name}_buy"), scored)})
    rows.append({"rule": "even_split", "bar_accuracy": _bar_accuracy(pl.col("volume") / 2, scored)})
    return pl.DataFrame(rows, schema_overrides={"trades": pl.Int64})
