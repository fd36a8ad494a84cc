"""Validate market data: count and reject bad rows per reason; never drop silently.

Each row gets the first reason it fails (checked in the order of ``Reason``); among valid
rows sharing a key one wins (the first, or the last for quotes) and the others are
rejected as ``duplicate_key``. The
report says how many rows each reason rejected, and keeps a sample of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import polars as pl

from cift.core.errors import ValidationError
from cift.core.timeutil import MARKET_EARLIEST, MARKET_LATEST, to_ns
from cift.model.schemas import (
    KEEP_LAST,
    KEY_COLUMNS,
    NULLABLE,
    SCHEMAS,
    TS_DTYPE,
    DataKind,
    conform,
)
from cift.model.symbols import (
    SYMBOL_RULE,
    canonical_symbol,
    canonical_symbols,
    is_symbol,
    valid_symbol,
)

REASON_COLUMN = "_reject_reason"
SAMPLE_ROWS = 5


class Reason(StrEnum):
    """Why a row was rejected."""

    MISSING_VALUE = "missing_value"
    INVALID_SYMBOL = "invalid_symbol"
    TIME_OUT_OF_BOUNDS = "time_out_of_bounds"
    NAN_PRICE = "nan_price"
    INFINITE_VALUE = "infinite_value"
    NON_POSITIVE_PRICE = "non_positive_price"
    NEGATIVE_SIZE = "negative_size"
    INVALID_SIDE = "invalid_side"
    CROSSED_QUOTE = "crossed_quote"
    INCONSISTENT_BAR = "inconsistent_bar"
    OUT_OF_RANGE = "out_of_range"
    DUPLICATE_KEY = "duplicate_key"


@dataclass(frozen=True)
class TimeBounds:
    """The times market data may carry, ``[earliest, latest)``: a row stamped 1500 or
    9999 is a typo, not history, and is rejected as ``time_out_of_bounds``."""

    earliest: datetime = MARKET_EARLIEST
    latest: datetime = MARKET_LATEST

    def __post_init__(self) -> None:
        if to_ns(self.latest) <= to_ns(self.earliest):
            raise ValidationError(
                f"The latest market time {self.latest.isoformat()} must be after the earliest "
                f"{self.earliest.isoformat()} (CIFT_MARKET_EARLIEST_TIME, CIFT_MARKET_LATEST_TIME)."
            )

    def outside(self) -> pl.Expr:
        """True for rows whose ``ts`` lies outside the bounds."""
        ts = pl.col("ts").dt.epoch("ns")
        return (ts < to_ns(self.earliest)) | (ts >= to_ns(self.latest))


DEFAULT_TIME_BOUNDS = TimeBounds()


@dataclass
class ValidationReport:
    """What validation kept and rejected, per reason."""

    kind: DataKind
    received: int
    accepted: int
    rejected: dict[Reason, int] = field(default_factory=dict)
    samples: pl.DataFrame | None = None

    @classmethod
    def refused(cls, kind: DataKind, rows: pl.DataFrame, reason: Reason) -> ValidationReport:
        """The report of ``rows`` rejected before validation (e.g. while parsing a file)."""
        return cls(
            kind=kind,
            received=rows.height,
            accepted=0,
            rejected={reason: rows.height} if rows.height else {},
            samples=rows.head(SAMPLE_ROWS).with_columns(pl.lit(reason.value).alias(REASON_COLUMN))
            if rows.height
            else None,
        )

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def merge(self, other: ValidationReport) -> ValidationReport:
        """Add another batch's counts (samples of the first batch with rejects are kept)."""
        counts = dict(self.rejected)
        for reason, n in other.rejected.items():
            counts[reason] = counts.get(reason, 0) + n
        return ValidationReport(
            kind=self.kind,
            received=self.received + other.received,
            accepted=self.accepted + other.accepted,
            rejected=counts,
            samples=self.samples if self.samples is not None else other.samples,
        )

    def describe(self) -> str:
        if not self.rejected:
            return f"{self.accepted:,} of {self.received:,} rows accepted"
        parts = ", ".join(f"{n:,} {reason.value}" for reason, n in sorted(self.rejected.items()))
        return f"{self.accepted:,} of {self.received:,} rows accepted; rejected: {parts}"


def check_symbols(symbols: Sequence[str] | None) -> tuple[str, ...] | None:
    """Symbols to filter by, canonical and without repeats (None: all), refusing values
    that cannot be a stored symbol."""
    if symbols is None:
        return None
    if isinstance(symbols, str):
        symbols = [symbols]
    bad = [s for s in symbols if not is_symbol(s)]
    if bad:
        raise ValidationError(f"Invalid symbol(s) {bad[:5]}: a symbol is {SYMBOL_RULE}.")
    return tuple(dict.fromkeys(canonical_symbol(s) for s in symbols))


def _price_columns(kind: DataKind) -> list[str]:
    return {
        DataKind.TRADES: ["price"],
        DataKind.QUOTES: ["bid", "ask"],
        DataKind.BARS: ["open", "high", "low", "close"],
    }[kind]


def _size_columns(kind: DataKind) -> list[str]:
    return {
        DataKind.TRADES: ["size"],
        DataKind.QUOTES: ["bid_size", "ask_size"],
        DataKind.BARS: ["volume"],
    }[kind]


def _rules(
    kind: DataKind, start: datetime | None, end: datetime | None, bounds: TimeBounds
) -> list[tuple[Reason, pl.Expr]]:
    """(reason, failing condition) pairs, in the order they are checked."""
    required = [c for c in SCHEMAS[kind] if c not in NULLABLE[kind]]
    prices = _price_columns(kind)
    floats = [c for c, dtype in SCHEMAS[kind].items() if dtype.is_float()]
    rules: list[tuple[Reason, pl.Expr]] = [
        (Reason.MISSING_VALUE, pl.any_horizontal(pl.col(c).is_null() for c in required)),
        (Reason.INVALID_SYMBOL, ~valid_symbol(pl.col("symbol"))),
        (Reason.TIME_OUT_OF_BOUNDS, bounds.outside()),
        (Reason.NAN_PRICE, pl.any_horizontal(pl.col(c).is_nan() for c in prices)),
        (Reason.INFINITE_VALUE, pl.any_horizontal(pl.col(c).is_infinite() for c in floats)),
        (Reason.NON_POSITIVE_PRICE, pl.any_horizontal(pl.col(c) <= 0 for c in prices)),
        (
            Reason.NEGATIVE_SIZE,
            pl.any_horizontal((pl.col(c) < 0) | pl.col(c).is_nan() for c in _size_columns(kind)),
        ),
    ]
    if kind is DataKind.TRADES:
        rules.append((Reason.INVALID_SIDE, ~pl.col("side").is_in([-1, 0, 1])))
    if kind is DataKind.QUOTES:
        rules.append((Reason.CROSSED_QUOTE, pl.col("bid") > pl.col("ask")))
    if kind is DataKind.BARS:
        high, low = pl.col("high"), pl.col("low")
        inside = [pl.col(c).is_between(low, high) for c in ("open", "close")]
        rules.append((Reason.INCONSISTENT_BAR, (high < low) | ~pl.all_horizontal(inside)))
    if start is not None or end is not None:
        ts = pl.col("ts")
        outside = pl.lit(False)
        if start is not None:
            outside = outside | (ts < pl.lit(start).cast(TS_DTYPE))
        if end is not None:
            outside = outside | (ts >= pl.lit(end).cast(TS_DTYPE))
        rules.append((Reason.OUT_OF_RANGE, outside))
    return rules


def reason_expr(
    kind: DataKind,
    start: datetime | None = None,
    end: datetime | None = None,
    bounds: TimeBounds = DEFAULT_TIME_BOUNDS,
) -> pl.Expr:
    """The first reason each row fails, or null when it passes every rule."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for reason, failing in reversed(_rules(kind, start, end, bounds)):
        expr = pl.when(failing.fill_null(False)).then(pl.lit(reason.value)).otherwise(expr)
    return expr.alias(REASON_COLUMN)


def check(
    frame: pl.DataFrame | pl.LazyFrame,
    kind: DataKind,
    start: datetime | None = None,
    end: datetime | None = None,
    bounds: TimeBounds = DEFAULT_TIME_BOUNDS,
) -> pl.DataFrame:
    """The frame in the kind's schema, symbols in their canonical spelling, plus the first
    rule each row fails (null if none)."""
    rows = conform(frame, kind).collect()
    return rows.with_columns(
        canonical_symbols(rows.get_column("symbol")), reason_expr(kind, start, end, bounds)
    )


def sort_by_key(frame: pl.DataFrame, kind: DataKind) -> pl.DataFrame:
    """Stable sort by the kind's key (skipped when time is already strictly increasing)."""
    single_symbol = frame.get_column("symbol").n_unique() <= 1
    steps = frame.get_column("ts").dt.epoch("ns").diff().drop_nulls()
    if single_symbol and not steps.le(0).any():
        return frame
    return frame.sort(list(KEY_COLUMNS[kind]), maintain_order=True)


def repeated_keys(frame: pl.DataFrame, kind: DataKind) -> pl.Series:
    """True for rows that repeat a key and lose to another row of it (frame sorted by key).

    The first row of each key wins, or the last one for kinds in ``KEEP_LAST``.
    """
    step = -1 if kind in KEEP_LAST else 1
    same = [pl.col(c).eq_missing(pl.col(c).shift(step)) for c in KEY_COLUMNS[kind]]
    return frame.select(pl.all_horizontal(same).fill_null(False)).to_series()


def validate_parts(
    frame: pl.DataFrame | pl.LazyFrame,
    kind: DataKind,
    *,
    by: Sequence[pl.Expr],
    start: datetime | None = None,
    end: datetime | None = None,
    bounds: TimeBounds = DEFAULT_TIME_BOUNDS,
) -> tuple[dict[tuple[object, ...], pl.DataFrame], ValidationReport]:
    """Validate and split the accepted rows into parts keyed by the ``by`` expressions.

    Each part is sorted by the kind's key; among rows sharing a key the first one (in
    input order) is kept, or the last for quotes. Columns that ``by`` adds stay on the parts.
    """
    checked = check(frame, kind, start, end, bounds)
    valid = pl.col(REASON_COLUMN).is_null()
    rejected = [checked.filter(~valid)]
    names = [expr.meta.output_name() for expr in by]
    added = [name for name in names if name not in SCHEMAS[kind]]
    parts = (
        checked.filter(valid)
        .drop(REASON_COLUMN)
        .with_columns(by)
        .partition_by(names, as_dict=True, maintain_order=True)
    )
    accepted: dict[tuple[object, ...], pl.DataFrame] = {}
    for key, part in parts.items():
        ordered = sort_by_key(part, kind)
        repeated = repeated_keys(ordered, kind)
        if repeated.any():
            dups = ordered.filter(repeated).drop(added)
            rejected.append(
                dups.with_columns(pl.lit(Reason.DUPLICATE_KEY.value).alias(REASON_COLUMN))
            )
            ordered = ordered.filter(~repeated)
        accepted[key] = ordered
    rejected_rows = pl.concat(rejected)
    counts = {
        Reason(reason): int(n)
        for reason, n in rejected_rows.group_by(REASON_COLUMN).len().iter_rows()
    }
    report = ValidationReport(
        kind=kind,
        received=checked.height,
        accepted=sum(p.height for p in accepted.values()),
        rejected=counts,
        samples=rejected_rows.head(SAMPLE_ROWS) if rejected_rows.height else None,
    )
    return accepted, report


def validate(
    frame: pl.DataFrame | pl.LazyFrame,
    kind: DataKind,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[pl.DataFrame, ValidationReport]:
    """Accepted rows (in the kind's schema, sorted by key) and a report of the rejects.

    ``start`` (inclusive) and ``end`` (exclusive) bound the requested range; rows outside
    it are rejected as ``out_of_range``. Among rows sharing a key the first is kept (the
    last for quotes: the prevailing update at that instant).
    """
    parts, report = validate_parts(
        frame, kind, by=[pl.col("symbol").alias("_part")], start=start, end=end
    )
    ordered = [parts[key].drop("_part") for key in sorted(parts, key=str)]
    accepted = pl.concat(ordered) if ordered else pl.DataFrame(schema=SCHEMAS[kind])
    return accepted, report
