"""The Polygon and Alpaca live feeds against local servers speaking their documented
stream frames, with the REST servers of the same tape to fill gaps: every trade comes
out once across a connection dropped mid-burst (the missed ones from REST, the repeats
after the reconnect dropped), a refused key ends the feed without a retry loop, error
codes say whether to reconnect, and the stream parses as the REST history does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing, closing, suppress
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cift.core.errors import FeedRefusedError
from cift.core.settings import Settings
from cift.data.providers import get_provider
from cift.data.providers.live import LiveFeed, get_feed
from cift.data.providers.live.socket import Backoff
from cift.data.providers.polygon.stream import PolygonWire
from cift.model import DataKind

from .stream_wire import Plan, StreamServer, streaming
from .wire import ALPACA_KEY_ID, ALPACA_SECRET, POLYGON_KEY, make_tape, serving

SYMBOLS = ["AAPL", "MSFT"]
TAPE = make_tape(SYMBOLS, trades=120, quotes=1)
EVENTS = sorted(
    ({"symbol": s} | row for s, rows in TAPE.trades.items() for row in rows),
    key=lambda row: row["ts"],
)
FAST = Backoff(first=0.01, cap=0.05)
SettingsFactory = Callable[..., Settings]


def collect(feed: LiveFeed, rows: int, seconds: float = 20.0) -> pl.DataFrame:
    """The feed's trades until ``rows`` are in (or ``seconds`` pass)."""
    frames: list[pl.DataFrame] = []

    async def run() -> None:
        async with aclosing(feed.events(SYMBOLS, [DataKind.TRADES])) as events:
            async for kind, frame in events:
                assert kind is DataKind.TRADES
                frames.append(frame)
                if sum(f.height for f in frames) >= rows:
                    return

    async def bounded() -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(run(), seconds)

    try:
        asyncio.run(bounded())
    finally:
        feed.close()
    return pl.concat(frames) if frames else pl.DataFrame()


def feed_for(
    dialect: str, stream: StreamServer, rest_url: str, make_settings: SettingsFactory, **extra: Any
) -> LiveFeed:
    if dialect == "polygon":
        settings = make_settings(
            polygon_api_key=extra.pop("key", POLYGON_KEY),
            polygon_base_url=rest_url,
            polygon_stream_url=stream.url,
            polygon_requests_per_minute=100_000,
        )
    else:
        settings = make_settings(
            alpaca_api_key_id=extra.pop("key", ALPACA_KEY_ID),
            alpaca_api_secret_key=ALPACA_SECRET,
            alpaca_data_url=rest_url,
            alpaca_stream_url=stream.url.removesuffix("/stream"),
            alpaca_feed="iex",
            alpaca_stream_msgpack=extra.pop("msgpack", True),
            alpaca_requests_per_minute=100_000,
        )
    return get_feed(dialect, settings, backoff=FAST, seed=1, **extra)


def rest_trades(dialect: str, rest_url: str, make_settings: SettingsFactory) -> pl.DataFrame:
    """The whole tape's trades as the REST provider reads them."""
    from datetime import UTC, datetime

    settings = make_settings(
        polygon_api_key=POLYGON_KEY,
        polygon_base_url=rest_url,
        alpaca_api_key_id=ALPACA_KEY_ID,
        alpaca_api_secret_key=ALPACA_SECRET,
        alpaca_data_url=rest_url,
    )
    start, end = datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)
    with closing(get_provider(dialect, settings)) as provider:
        return pl.concat(list(provider.trades(SYMBOLS, start, end)))


def by_trade(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("symbol", "exchange", "trade_id")


@pytest.mark.parametrize("dialect", ["polygon", "alpaca"])
def test_a_dropped_connection_loses_nothing_and_repeats_nothing(
    dialect: str, make_settings: SettingsFactory
) -> None:
    total = len(EVENTS)
    plans = [
        Plan(events=EVENTS[:160], then="drop"),  # sends 80, then drops mid-burst
        Plan(events=EVENTS[60:70] + EVENTS[200:]),  # repeats, then resumes past a hole
    ]
    with serving(TAPE) as rest, streaming(dialect, plans) as stream:  # type: ignore[arg-type]
        feed = feed_for(dialect, stream, rest.url, make_settings)
        got = collect(feed, total)
        expected = rest_trades(dialect, rest.url, make_settings)
    assert got.height == total
    assert got.select("symbol", "exchange", "trade_id").is_unique().all()
    keys = ["symbol", "exchange", "trade_id"]
    assert by_trade(got).select(keys).equals(by_trade(expected).select(keys))
    assert feed.counters.reconnects == 1
    # REST filled everything after the last trade seen (the history runs to now), so the
    # stream's repeats (60..69) and its later trades (200..) were dropped as repeats.
    assert feed.counters.gap_rows == total - 80
    assert feed.counters.repeats >= 10 + (total - 200)
    assert stream.seen.connections == 2
    assert len(stream.seen.subscriptions) == 2  # subscribed again after the reconnect


def test_polygon_stream_rows_read_as_the_rest_rows(make_settings: SettingsFactory) -> None:
    with serving(TAPE) as rest, streaming("polygon", [Plan(events=EVENTS)]) as stream:
        got = collect(feed_for("polygon", stream, rest.url, make_settings), len(EVENTS))
        expected = rest_trades("polygon", rest.url, make_settings)
    # The stream stamps trades in milliseconds, the REST history in nanoseconds.
    truncated = expected.with_columns(pl.col("ts").dt.truncate("1ms"))
    assert_frame_equal(by_trade(got), by_trade(truncated), check_exact=True)
    assert stream.seen.subscriptions == [{"action": "subscribe", "params": "T.AAPL,T.MSFT"}]


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
def test_alpaca_stream_rows_read_as_the_rest_rows(
    binary: bool, make_settings: SettingsFactory
) -> None:
    with serving(TAPE) as rest, streaming("alpaca", [Plan(events=EVENTS)]) as stream:
        feed = feed_for("alpaca", stream, rest.url, make_settings, msgpack=binary)
        got = collect(feed, len(EVENTS))
        expected = rest_trades("alpaca", rest.url, make_settings)
    assert stream.seen.binary == [binary]
    assert_frame_equal(by_trade(got), by_trade(expected), check_exact=True)
    assert stream.seen.subscriptions[0] == {"action": "subscribe", "trades": SYMBOLS}


@pytest.mark.parametrize("dialect", ["polygon", "alpaca"])
def test_a_refused_key_ends_the_feed_without_retrying(
    dialect: str, make_settings: SettingsFactory
) -> None:
    with serving(TAPE) as rest, streaming(dialect, [Plan(events=EVENTS)]) as stream:  # type: ignore[arg-type]
        feed = feed_for(dialect, stream, rest.url, make_settings, key="wrong-key")
        with pytest.raises(FeedRefusedError) as refused:
            collect(feed, 1)
    assert stream.seen.connections == 1
    setting = "CIFT_POLYGON_API_KEY" if dialect == "polygon" else "CIFT_ALPACA_API_KEY_ID"
    assert setting in str(refused.value)
    assert "wrong-key" not in str(refused.value)


def test_alpaca_slow_client_reconnects_and_a_symbol_limit_stops(
    make_settings: SettingsFactory,
) -> None:
    slow = [Plan(events=EVENTS[:50], then="error", error=(407, "slow client")), Plan(events=EVENTS)]
    with serving(TAPE) as rest, streaming("alpaca", slow) as stream:
        feed = feed_for("alpaca", stream, rest.url, make_settings)
        got = collect(feed, len(EVENTS))
    assert got.height == len(EVENTS)
    assert feed.counters.reconnects == 1
    assert "slow client" in str(feed.counters.last_error)
    limited = [Plan(events=EVENTS[:10], then="error", error=(405, "symbol limit exceeded"))]
    with serving(TAPE) as rest, streaming("alpaca", limited) as stream:
        feed = feed_for("alpaca", stream, rest.url, make_settings)
        with pytest.raises(FeedRefusedError, match="symbol limit"):
            collect(feed, len(EVENTS))
    assert stream.seen.connections == 1


def test_status_frames_among_events_are_skipped_and_errors_raise() -> None:
    wire = PolygonWire("ws://unused", POLYGON_KEY)
    mixed = (
        '[{"ev":"status","status":"success","message":"subscribed to: T.AAPL"},'
        '{"ev":"T","sym":"AAPL","x":4,"i":"9","p":1.5,"s":10,"t":1704205800000}]'
    )
    ((kind, frame),) = wire.parse(mixed)
    assert kind is DataKind.TRADES
    assert frame.select("symbol", "trade_id", "price", "exchange").row(0) == ("AAPL", "9", 1.5, "4")
    with pytest.raises(FeedRefusedError):
        wire.parse('[{"ev":"status","status":"auth_failed","message":"authentication failed"}]')
