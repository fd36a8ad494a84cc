"""Bars close when their session closes: with an exchange calendar a daily bar is known
at 16:00 New York (13:00 on an early close), so a decision sent with latency reaches the
next session's open, whatever weekday or holiday lies between. The expected times are
NYSE's published hours, not values read off a run."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from cift.backtest.config import BacktestConfig
from cift.backtest.engine import run_backtest
from cift.core.calendars import bar_closes
from tests.backtest.scripted import DAY, scripted

HOUR_NS, DAY_NS = 3_600_000_000_000, 86_400_000_000_000


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


def test_bars_close_at_their_sessions_close() -> None:
    days = np.array([ns("2024-07-05T00:00"), ns("2024-07-03T00:00"), ns("2024-07-06T00:00")])
    assert bar_closes(days, DAY_NS, "XNYS").tolist() == [
        ns("2024-07-05T20:00"),  # a Friday in summer: 16:00 EDT
        ns("2024-07-03T17:00"),  # the eve of Independence Day closes at 13:00
        ns("2024-07-07T00:00"),  # a Saturday is no session: open time plus a day
    ]
    assert bar_closes(np.array([ns("2014-12-31T00:00")]), DAY_NS, "XNYS").tolist() == [
        ns("2014-12-31T21:00")  # 16:00 EST, the last day of the year, not 2015
    ]
    week = np.array([ns("2024-07-01T00:00")])
    assert bar_closes(week, 7 * DAY_NS, "XNYS").tolist() == [ns("2024-07-05T20:00")]
    hours = np.array([ns("2024-07-03T16:30"), ns("2024-07-05T19:00")])
    assert bar_closes(hours, HOUR_NS, "XNYS").tolist() == [
        ns("2024-07-03T17:00"),  # cut at the early close
        ns("2024-07-05T20:00"),  # a full hour
    ]
    assert bar_closes(days, DAY_NS, "24/7").tolist() == (days + DAY_NS).tolist()


TRADING_DAYS = [  # NYSE sessions from Friday 28 June to Tuesday 9 July 2024 (4 July closed)
    "2024-06-28", "2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08",
    "2024-07-09",
]  # fmt: skip


def _daily_bars() -> pl.DataFrame:
    opens = [100.0 + i for i in range(len(TRADING_DAYS))]
    return pl.DataFrame(
        {
            "symbol": "X",
            "ts": [datetime.fromisoformat(d).replace(tzinfo=UTC) for d in TRADING_DAYS],
            "open": opens,
            "high": [o + 0.5 for o in opens],
            "low": [o - 0.5 for o in opens],
            "close": opens,
            "volume": 1_000.0,
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


@pytest.mark.parametrize("decided", range(len(TRADING_DAYS) - 1))
def test_a_decision_with_latency_fills_at_the_next_sessions_open(decided: int) -> None:
    bars = _daily_bars()
    strategy = scripted({decided: lambda s, b: s.ctx.market("X", 1)})
    config = BacktestConfig(latency_ns=5_000_000, calendar="XNYS")  # 5 ms to the venue
    result = run_backtest(strategy, bars=bars, timeframe=DAY, config=config)
    assert result.fills.height == 1
    assert result.fills.item(0, "ts") == bars.item(decided + 1, "ts")  # the next session
    assert result.fills.item(0, "price") == bars.item(decided + 1, "open")


def test_without_a_calendar_a_daily_bar_closes_a_day_after_it_opens() -> None:
    bars = _daily_bars()
    strategy = scripted({1: lambda s, b: s.ctx.market("X", 1)})  # Monday's close
    config = BacktestConfig(latency_ns=5_000_000)
    result = run_backtest(strategy, bars=bars, timeframe=DAY, config=config)
    # known only at Tuesday 00:00, the order misses Tuesday's open: that is what a
    # calendar fixes
    assert result.fills.item(0, "ts") == bars.item(3, "ts")


def test_the_equity_curve_ends_on_the_last_sessions_close() -> None:
    days = ["2014-12-29", "2014-12-30", "2014-12-31"]  # the last NYSE sessions of 2014
    bars = pl.DataFrame(
        {
            "symbol": "X",
            "ts": [datetime.fromisoformat(d).replace(tzinfo=UTC) for d in days],
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.0,
            "volume": 1_000.0,
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    result = run_backtest(
        scripted({}), bars=bars, timeframe=DAY, config=BacktestConfig(calendar="XNYS")
    )
    assert result.equity.item(-1, "ts") == datetime(2014, 12, 31, 21, tzinfo=UTC)  # not 2015
