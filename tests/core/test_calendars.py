"""Bar closes on an exchange calendar: the live runner's one-at-a-time closer agrees with
the backtest's vectorised one."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.core.calendars import BarCloser, bar_closes
from cift.model import Timeframe
from tests.budget import deep

DAY = Timeframe.parse("1d").nanos
MINUTE = Timeframe.parse("1m").nanos
SPAN = (
    int(datetime(2018, 1, 1, tzinfo=UTC).timestamp()) // 60,
    int(datetime(2025, 12, 31, tzinfo=UTC).timestamp()) // 60,
)


def test_a_daily_bar_closes_at_the_session_close() -> None:
    closer = BarCloser(DAY, "XNYS")
    friday = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1e9)
    assert closer(friday) == int(datetime(2024, 3, 1, 21, tzinfo=UTC).timestamp() * 1e9)
    black_friday = int(datetime(2024, 11, 29, tzinfo=UTC).timestamp() * 1e9)  # 13:00 close
    assert closer(black_friday) == int(datetime(2024, 11, 29, 18, tzinfo=UTC).timestamp() * 1e9)
    saturday = friday + DAY
    assert closer(saturday) == saturday + DAY  # no session: open time plus a day
    assert BarCloser(DAY, None)(friday) == friday + DAY


@given(st.lists(st.integers(*SPAN), min_size=1, max_size=30), st.sampled_from([DAY, MINUTE]))
@settings(max_examples=deep(40), deadline=None)
def test_one_at_a_time_equals_all_at_once(minutes: list[int], length: int) -> None:
    opened = np.array(sorted(minutes), dtype=np.int64) * 60_000_000_000
    if length == DAY:
        opened -= opened % DAY  # daily bars open at midnight UTC
    closer = BarCloser(length, "XNYS")
    assert [closer(int(t)) for t in opened] == bar_closes(opened, length, "XNYS").tolist()
