"""Times into the model's type without wrapping: int64 nanoseconds end at 1677 and 2262,
and Polars multiplies or parses past them silently into some other date. Every parser of
market-data times goes through these expressions, which give null instead."""

from __future__ import annotations

import polars as pl

from cift.core.timeutil import LATEST_NS
from cift.model.schemas import TS_DTYPE

NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def fits_ns(units: pl.Expr, per_unit: int) -> pl.Expr:
    """True where integer ``units`` (of ``per_unit`` nanoseconds each) fit in int64 ns."""
    return units.abs() <= LATEST_NS // per_unit


def epoch_to_ts(units: pl.Expr, per_unit: int) -> pl.Expr:
    """Integer epoch ``units`` as the model's time; null where nanoseconds cannot hold them."""
    return pl.when(fits_ns(units, per_unit)).then(units * per_unit).cast(TS_DTYPE)


def datetime_to_ts(moments: pl.Expr, time_unit: str) -> pl.Expr:
    """A UTC datetime column of ``time_unit`` as the model's time (null where it overflows)."""
    return epoch_to_ts(moments.dt.epoch(time_unit), NS_PER_UNIT[time_unit])  # type: ignore[arg-type]


def text_to_ts(text: pl.Expr, fmt: str | None = None) -> pl.Expr:
    """Text times carrying their offset as the model's time: read as microseconds (whose
    range reaches any year) to find what nanoseconds can hold, then as nanoseconds, so no
    digit is lost and nothing wraps; null where unreadable or out of range."""
    wide = text.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)
    exact = text.str.to_datetime(fmt, time_unit="ns", time_zone="UTC", strict=False)
    return pl.when(fits_ns(wide.dt.epoch("us"), NS_PER_UNIT["us"])).then(exact)
