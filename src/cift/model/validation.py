"""Validate market data: count and reject bad rows per reason; never drop silently.

Each row gets the first reason it fails (checked in the order of ``Reason``); rows that
pass but repeat the key of an earlier row are rejected as ``duplicate_key``. The
report says how many rows each reason rejected, and keeps a sample of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import polars as pl

from cift.model.schemas import KEY_COLUMNS, NULLABLE, SCHEMAS, TS_DTYPE, DataKind, conform

REASON_COLUMN = "_reject_reason"
SAMPLE_ROWS = 5


class Reason(StrEnum):
    """Why a row was rejected."""

    MISSING_VALUE = "missing_value"
    NAN_PRICE = "nan_price"
    NON_POSITIVE_PRICE = "non_positive_price"
    NEGATIVE_SIZE = "negative_size"
    INVALID_SIDE = "invalid_side"
    CROSSED_QUOTE = "crossed_quote"
    INCONSISTENT_BAR = "inconsistent_bar"
    OUT_OF_RANGE = "out_of_range"
    DUPLICATE_KEY = "duplicate_key"


@dataclass
class ValidationReport:
    """What validation kept and rejected, per reason."""

    kind: DataKind
    received: int
    accepted: int
    rejected: dict[Reason, int] = field(default_factory=dict)
    samples: pl.DataFrame | None = None

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
    kind: DataKind, start: datetime | None, end: datetime | None
) -> list[tuple[Reason, pl.Expr]]:
    """(reason, failing condition) pairs, in the order they are checked."""
    required = [c for c in SCHEMAS[kind] if c not in NULLABLE[kind]]
    prices = _price_columns(kind)
    rules: list[tuple[Reason, pl.Expr]] = [
        (Reason.MISSING_VALUE, pl.any_horizontal(pl.col(c).is_null() for c in required)),
        (Reason.NAN_PRICE, pl.any_horizontal(pl.col(c).is_nan() for c in prices)),
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
    kind: DataKind, start: datetime | None = None, end: datetime | None = None
) -> pl.Expr:
    """The first reason each row fails, or null when it passes every rule."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for reason, failing in reversed(_rules(kind, start, end)):
        expr = pl.when(failing.fill_null(False)).then(pl.lit(reason.value)).otherwise(expr)
    return expr.alias(REASON_COLUMN)


def validate(
    frame: pl.DataFrame,
    kind: DataKind,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[pl.DataFrame, ValidationReport]:
    """Split ``frame`` into accepted rows (in the kind's schema) and a report of rejects.

    ``start`` (inclusive) and ``end`` (exclusive) bound the requested range; rows outside
    it are rejected as ``out_of_range``. Among rows sharing a key, the first is kept.
    """
    valid = pl.col(REASON_COLUMN).is_null()
    # Duplicates are judged among valid rows only: a bad row never shadows a good one.
    repeated = valid & ~pl.struct(KEY_COLUMNS[kind]).is_first_distinct().over(valid)
    checked = (
        conform(frame, kind)
        .with_columns(reason_expr(kind, start, end))
        .with_columns(
            pl.when(repeated)
            .then(pl.lit(Reason.DUPLICATE_KEY.value))
            .otherwise(pl.col(REASON_COLUMN))
            .alias(REASON_COLUMN)
        )
        .collect()
    )
    accepted = checked.filter(pl.col(REASON_COLUMN).is_null()).drop(REASON_COLUMN)
    rejected_rows = checked.filter(pl.col(REASON_COLUMN).is_not_null())
    counts = {
        Reason(row[0]): int(row[1])
        for row in rejected_rows.group_by(REASON_COLUMN).len().iter_rows()
    }
    report = ValidationReport(
        kind=kind,
        received=frame.height,
        accepted=accepted.height,
        rejected=counts,
        samples=rejected_rows.head(SAMPLE_ROWS) if rejected_rows.height else None,
    )
    return accepted, report
