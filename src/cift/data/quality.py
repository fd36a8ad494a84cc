"""Data quality: gaps against the exchange calendar, duplicates, outliers, bad prices,
crossed, locked and stale quotes.

Every check is a small Polars expression over one symbol's rows; the report holds one
row per (symbol, check) with a count and a few examples, as a table or as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from cift.core.calendars import exchange_calendar, quiet_calendars
from cift.data.store.base import MarketStore
from cift.model import KEY_COLUMNS, DataKind, Timeframe

if TYPE_CHECKING:  # exchange calendars bring pandas: imported where a calendar is built
    import exchange_calendars as xcals
    import pandas as pd

OUTLIER_Z = 10.0
"""Robust z-score of a return above which it is flagged (median/MAD based)."""
STALE_SECONDS = 60.0
"""A quote unchanged for longer than this within a session is stale."""
EXAMPLES = 5
MAD_SCALE = 1.4826


@dataclass(frozen=True)
class Finding:
    """One check on one symbol."""

    symbol: str
    check: str
    count: int
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.count == 0


@dataclass
class QualityReport:
    """What the checks found, per symbol."""

    kind: str
    timeframe: str | None
    calendar: str
    rows: int
    findings: list[Finding]

    @property
    def issues(self) -> int:
        return sum(f.count for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["issues"] = self.issues
        return data


def _examples(frame: pl.DataFrame, column: str = "ts") -> list[str]:
    values = frame.get_column(column).head(EXAMPLES).to_list()
    return [v.isoformat() if isinstance(v, datetime | date) else str(v) for v in values]


def calendar_for(name: str, first: datetime, last: datetime) -> xcals.ExchangeCalendar:
    """An exchange calendar covering ``first``..``last`` (a week's margin each side)."""
    return exchange_calendar(
        name, first.date() - timedelta(days=7), last.date() + timedelta(days=7)
    )


def expected_bar_times(
    calendar: xcals.ExchangeCalendar, timeframe: Timeframe, first: datetime, last: datetime
) -> pl.Series:
    """Open times of every bar the calendar's sessions call for in ``[first, last]``."""
    with quiet_calendars():
        if timeframe.nanos >= 86_400 * 10**9:
            # Daily bars are stamped with their session's date at 00:00 UTC.
            return _utc(calendar.sessions_in_range(first.date(), last.date()))
        minutes = _utc(calendar.minutes_in_range(first, last))
    return minutes.dt.truncate(timeframe.polars).unique(maintain_order=True)


def _utc(index: pd.DatetimeIndex) -> pl.Series:
    """A pandas index (naive dates or aware UTC times) as UTC nanoseconds."""
    return pl.Series("ts", index.asi8).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")


def missing_bars(
    bars: pl.DataFrame, calendar: xcals.ExchangeCalendar, timeframe: Timeframe
) -> pl.DataFrame:
    """Expected bar times with no bar, between a symbol's first and last bar."""
    if bars.is_empty():
        return bars.select("ts")
    first, last = bars.get_column("ts").min(), bars.get_column("ts").max()
    assert isinstance(first, datetime)
    assert isinstance(last, datetime)
    expected = pl.DataFrame(expected_bar_times(calendar, timeframe, first, last))
    if timeframe.nanos >= 86_400 * 10**9:
        have = bars.select(pl.col("ts").dt.truncate("1d"))
    else:
        have = bars.select("ts")
    return expected.join(have, on="ts", how="anti").sort("ts")


def duplicates(frame: pl.DataFrame, kind: DataKind) -> pl.DataFrame:
    """Rows whose key repeats an earlier row's."""
    return frame.filter(pl.struct(KEY_COLUMNS[kind]).is_duplicated())


def return_outliers(frame: pl.DataFrame, price: str, threshold: float = OUTLIER_Z) -> pl.DataFrame:
    """Rows whose log return from the previous row has a robust z-score above ``threshold``."""
    log_return = pl.col(price).log().diff()
    median = log_return.median()
    mad = (log_return - median).abs().median() * MAD_SCALE
    score = ((log_return - median) / mad).abs()
    return frame.filter(pl.when(mad > 0).then(score > threshold).otherwise(False).fill_null(False))


def bad_prices(frame: pl.DataFrame, kind: DataKind) -> pl.DataFrame:
    """Rows with a zero, negative or missing price."""
    prices = {
        DataKind.TRADES: ["price"],
        DataKind.QUOTES: ["bid", "ask"],
        DataKind.BARS: ["open", "high", "low", "close"],
    }[kind]
    return frame.filter(pl.any_horizontal((pl.col(c) <= 0) | pl.col(c).is_null() for c in prices))


def quote_states(
    frame: pl.DataFrame, stale_seconds: float = STALE_SECONDS
) -> dict[str, pl.DataFrame]:
    """Crossed (bid > ask), locked (bid == ask) and stale quotes (unchanged too long)."""
    gap = pl.col("ts").diff().dt.total_nanoseconds() / 1e9
    same = (pl.col("bid") == pl.col("bid").shift()) & (pl.col("ask") == pl.col("ask").shift())
    same_day = pl.col("ts").dt.date() == pl.col("ts").shift().dt.date()
    return {
        "crossed_quotes": frame.filter(pl.col("bid") > pl.col("ask")),
        "locked_quotes": frame.filter(pl.col("bid") == pl.col("ask")),
        "stale_quotes": frame.filter((gap > stale_seconds) & same & same_day),
    }


def check_symbol(
    frame: pl.DataFrame,
    kind: DataKind,
    symbol: str,
    *,
    timeframe: Timeframe | None,
    calendar: xcals.ExchangeCalendar | None,
) -> list[Finding]:
    """Every check that applies to ``kind`` on one symbol's rows (sorted by time)."""
    found: dict[str, pl.DataFrame] = {
        "duplicates": duplicates(frame, kind),
        "bad_prices": bad_prices(frame, kind),
    }
    price = {DataKind.TRADES: "price", DataKind.BARS: "close", DataKind.QUOTES: "bid"}[kind]
    found["return_outliers"] = return_outliers(frame.filter(pl.col(price) > 0), price)
    if kind is DataKind.QUOTES:
        found.update(quote_states(frame))
    if kind is DataKind.BARS and timeframe is not None and calendar is not None:
        found["missing_bars"] = missing_bars(frame, calendar, timeframe)
    return [Finding(symbol, name, rows.height, _examples(rows)) for name, rows in found.items()]


def assess(
    frame: pl.DataFrame,
    kind: DataKind,
    *,
    timeframe: Timeframe | None = None,
    calendar_name: str = "XNYS",
) -> QualityReport:
    """Run the checks on stored rows of one kind (several symbols allowed)."""
    calendar = None
    if kind is DataKind.BARS and timeframe is not None and not frame.is_empty():
        first, last = frame.get_column("ts").min(), frame.get_column("ts").max()
        assert isinstance(first, datetime)
        assert isinstance(last, datetime)
        calendar = calendar_for(calendar_name, first, last)
    findings: list[Finding] = []
    for (symbol,), rows in frame.partition_by("symbol", as_dict=True, maintain_order=True).items():
        findings += check_symbol(
            rows.sort("ts"), kind, str(symbol), timeframe=timeframe, calendar=calendar
        )
    return QualityReport(
        kind=kind.value,
        timeframe=str(timeframe) if timeframe else None,
        calendar=calendar_name,
        rows=frame.height,
        findings=findings,
    )


def check_store(
    store: MarketStore,
    kind: DataKind,
    *,
    symbols: list[str] | None = None,
    timeframe: Timeframe | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    calendar: str = "XNYS",
) -> QualityReport:
    """Assess what ``store`` holds of ``kind`` for some symbols and range."""
    rows = store.read(kind, symbols=symbols, start=start, end=end, timeframe=timeframe).collect()
    return assess(rows, kind, timeframe=timeframe, calendar_name=calendar)
