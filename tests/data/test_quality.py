"""Quality checks find exactly what was planted, and nothing in clean real data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from cift.core.errors import ValidationError
from cift.data.files import load
from cift.data.quality import assess, calendar_for, expected_bar_times
from cift.model import DataKind, Timeframe
from tests.samples import DATA


def findings(report: object) -> dict[str, int]:
    return {f.check: f.count for f in report.findings}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def nvda() -> pl.DataFrame:
    return load(DATA / "daily/nvda-1999-2014.csv").frame


def test_real_daily_bars_have_every_nyse_session(nvda: pl.DataFrame) -> None:
    report = assess(nvda, DataKind.BARS, timeframe=Timeframe.parse("1d"))
    assert findings(report)["missing_bars"] == 0
    assert findings(report)["duplicates"] == 0
    assert findings(report)["bad_prices"] == 0


def test_removed_sessions_are_reported_but_holidays_are_not(nvda: pl.DataFrame) -> None:
    removed = [date(2014, 7, 3), date(2014, 7, 7)]  # around Independence Day (a holiday)
    gappy = nvda.filter(~pl.col("ts").dt.date().is_in(removed))
    report = assess(gappy, DataKind.BARS, timeframe=Timeframe.parse("1d"))
    missing = next(f for f in report.findings if f.check == "missing_bars")
    assert missing.count == 2
    assert [e[:10] for e in missing.examples] == ["2014-07-03", "2014-07-07"]


def test_minute_bars_are_checked_against_session_minutes() -> None:
    calendar = calendar_for(
        "XNYS", datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)
    )
    minutes = expected_bar_times(
        calendar,
        Timeframe.parse("1m"),
        datetime(2024, 1, 2, tzinfo=UTC),
        datetime(2024, 1, 3, tzinfo=UTC),
    )
    assert minutes.len() == 390
    assert minutes[0] == datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    five = expected_bar_times(
        calendar,
        Timeframe.parse("5m"),
        datetime(2024, 1, 2, tzinfo=UTC),
        datetime(2024, 1, 3, tzinfo=UTC),
    )
    assert five.len() == 78


def test_planted_problems_are_found(nvda: pl.DataFrame) -> None:
    spiked = nvda.with_columns(
        pl.when(pl.int_range(pl.len()) == 2000)
        .then(pl.col("close") * 5)
        .otherwise(pl.col("close"))
        .alias("close")
    )
    bad = pl.concat([spiked, spiked.slice(10, 3)])
    bad = bad.with_columns(
        pl.when(pl.int_range(pl.len()) == 100).then(0.0).otherwise(pl.col("open")).alias("open")
    )
    counts = findings(assess(bad, DataKind.BARS, timeframe=Timeframe.parse("1d")))
    assert counts["duplicates"] == 6  # three rows, each present twice
    assert counts["bad_prices"] == 1
    assert counts["return_outliers"] >= 2  # the jump up and the jump back


def test_quote_states() -> None:
    t0 = datetime(2024, 1, 2, 15, tzinfo=UTC)
    quotes = pl.DataFrame(
        {
            "symbol": ["X"] * 5,
            "ts": [t0.replace(second=s) for s in (0, 1, 2, 3)] + [t0.replace(minute=5)],
            "bid": [10.0, 10.1, 10.2, 10.2, 10.2],
            "ask": [10.1, 10.1, 10.1, 10.3, 10.3],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    counts = findings(assess(quotes, DataKind.QUOTES))
    assert counts["locked_quotes"] == 1
    assert counts["crossed_quotes"] == 1
    assert counts["stale_quotes"] == 1


def test_unknown_calendar_is_a_clear_error(nvda: pl.DataFrame) -> None:
    with pytest.raises(ValidationError, match="Unknown exchange calendar 'MOON'"):
        assess(nvda, DataKind.BARS, timeframe=Timeframe.parse("1d"), calendar_name="MOON")
