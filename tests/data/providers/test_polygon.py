"""The polygon provider against a local server speaking Polygon's wire format."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime

import httpx
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loguru import logger
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from cift.cli.app import app
from cift.core.errors import ConfigurationError, ProviderError, UpstreamError
from cift.core.settings import Settings
from cift.data.providers import get_provider
from cift.data.providers.http import Fetched, HttpClient, RetryPolicy, Throttle, pages, server_wait
from cift.data.providers.polygon import PolygonProvider, create, parse_page
from cift.data.providers.polygon.provider import UPSTREAM
from cift.model import SCHEMAS, DataKind, Timeframe
from tests.budget import deep

from .wire import POLYGON_KEY, SESSION_OPEN, Drop, Reply, WireServer, make_tape, serving

TAPE = make_tape(["AAPL", "MSFT"], trades=1200, quotes=900)
START = datetime(2024, 1, 2, 14, 30, 3, tzinfo=UTC)
END = datetime(2024, 1, 2, 14, 30, 30, tzinfo=UTC)
RATE_LIMITED = {
    "status": "ERROR",
    "request_id": "7e6d5c4b3a2918f7e6d5c4b3a2918f7e",
    "error": "You've exceeded the maximum requests per minute, please wait or upgrade your "
    "subscription to continue. https://polygon.io/pricing",
}
NOT_ENTITLED = {
    "status": "NOT_AUTHORIZED",
    "request_id": "834a28975ffae6b825b7680097dbc5a8",
    "message": "You are not entitled to this data. Please upgrade your plan at "
    "https://polygon.io/pricing",
}
SettingsFactory = Callable[..., Settings]


@pytest.fixture
def server() -> Iterator[WireServer]:
    with serving(TAPE) as running:
        yield running


@pytest.fixture
def provider(server: WireServer, make_settings: SettingsFactory) -> Iterator[PolygonProvider]:
    settings = make_settings(polygon_api_key=POLYGON_KEY, polygon_base_url=server.url)
    made = create(
        settings, page_limit=500, max_retries=3, backoff=0.001, requests_per_minute=100_000
    )
    yield made
    made.close()


@pytest.fixture(params=["polars", "arrow"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each JSON reader in turn: Polars' (bodies up to a few MB) and Arrow's (larger ones)."""
    if request.param == "arrow":
        monkeypatch.setattr(pages, "POLARS_READER_MAX_BYTES", 0)
    return str(request.param)


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


def expected(kind: DataKind, symbols: list[str], start: int, end: int) -> pl.DataFrame:
    """The tape's rows in CIFT's schema, built from the canonical values."""
    rows = []
    for symbol in symbols:
        for r in getattr(TAPE, kind.value)[symbol]:
            if start <= r["ts"] < end:
                if kind is DataKind.TRADES:
                    codes = ",".join(str(c) for c in r["conditions"]) or None
                    rows.append(
                        (
                            symbol,
                            r["ts"],
                            r["price"],
                            r["size"],
                            0,
                            r["id"],
                            str(r["exchange"]),
                            codes,
                        )
                    )
                else:
                    rows.append((symbol, r["ts"], r["bid"], r["ask"], r["bid_size"], r["ask_size"]))
    return pl.DataFrame(
        rows, schema={**SCHEMAS[kind], "ts": pl.Int64()}, orient="row"
    ).with_columns(pl.col("ts").cast(SCHEMAS[kind]["ts"]))


def page_of(body: dict[str, object] | bytes, kind: DataKind) -> tuple[pl.DataFrame, str | None]:
    client = HttpClient(
        UPSTREAM, "http://127.0.0.1:9", headers={}, secrets=[], timeout=1, policy=RetryPolicy()
    )
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_page(client, Fetched("http://127.0.0.1:9/x", raw), kind, "AAPL")


def test_reference_pages_map_onto_the_model(reader: str) -> None:
    """The worked examples P1-P5 of the providers' reference, checked field by field."""
    first = {
        "ticker": "AAPL",
        "status": "OK",
        "results": [
            {"v": 1204531.0, "vw": 185.4217, "o": 185.64, "c": 185.31, "h": 185.88}
            | {"l": 185.02, "t": 1704205800000, "n": 11873},
            {"v": 688220.0, "vw": 185.2011, "o": 185.30, "c": 185.12, "h": 185.47}
            | {"l": 184.95, "t": 1704205860000, "n": 7021},
        ],
        "next_url": "https://api.massive.com/v2/aggs/ticker/AAPL/range/1/minute/1704205920000/"
        "2024-01-02?cursor=bGltaXQ9MiZzb3J0PWFzYw",
    }
    bars, next_url = page_of(first, DataKind.BARS)
    assert next_url == first["next_url"]
    assert bars.get_column("ts").to_list() == [
        datetime(2024, 1, 2, 14, 30, tzinfo=UTC),
        datetime(2024, 1, 2, 14, 31, tzinfo=UTC),
    ]
    assert bars.row(0)[2:] == (185.64, 185.88, 185.02, 185.31, 1204531.0, 185.4217, 11873)
    daily, last = page_of(
        {"status": "OK", "results": [{"o": 187.15, "t": 1704171600000}]}, DataKind.BARS
    )
    assert last is None
    assert daily.get_column("ts").to_list() == [datetime(2024, 1, 2, 5, tzinfo=UTC)]
    empty, _ = page_of({"ticker": "AAPL", "status": "OK", "resultsCount": 0}, DataKind.BARS)
    assert empty.schema == SCHEMAS[DataKind.BARS]
    assert empty.height == 0

    trades, _ = page_of(
        {
            "status": "OK",
            "results": [
                {"conditions": [12, 37], "exchange": 11, "id": "52983525029461", "price": 185.64}
                | {"sip_timestamp": 1704205800001234567, "size": 100, "tape": 3},
                {"conditions": [37], "exchange": 4, "id": "71675577320245", "price": 185.63}
                | {"sip_timestamp": 1704205800002354012, "size": 3, "trf_id": 201},
                {"exchange": 12, "id": "5", "price": 185.65}
                | {"sip_timestamp": 1704205800010777001, "size": 0.5, "tape": 3},
            ],
        },
        DataKind.TRADES,
    )
    assert trades.schema == SCHEMAS[DataKind.TRADES]
    assert trades.get_column("ts").dt.epoch("ns").to_list() == [
        1704205800001234567,
        1704205800002354012,
        1704205800010777001,
    ]
    assert trades.select("size", "side", "trade_id", "exchange", "conditions").rows() == [
        (100.0, 0, "52983525029461", "11", "12,37"),
        (3.0, 0, "71675577320245", "4", "37"),
        (0.5, 0, "5", "12", None),
    ]
    quotes, _ = page_of(
        {
            "status": "OK",
            "results": [
                {"ask_price": 185.65, "ask_size": 3, "bid_price": 185.63, "bid_size": 4}
                | {"sip_timestamp": 1704205800001100020, "participant_timestamp": 1},
                {"ask_price": 0, "ask_size": 0, "bid_price": 185.62, "bid_size": 1}
                | {"sip_timestamp": 1704205800003210333, "indicators": [604]},
            ],
        },
        DataKind.QUOTES,
    )
    assert quotes.drop("ts").rows() == [
        ("AAPL", 185.63, 185.65, 4.0, 3.0),
        ("AAPL", 185.62, 0.0, 1.0, 0.0),
    ]


@pytest.mark.parametrize("kind", [DataKind.TRADES, DataKind.QUOTES])
def test_pages_cover_every_symbol_exactly(
    kind: DataKind, provider: PolygonProvider, server: WireServer, reader: str
) -> None:
    pages = list(getattr(provider, kind.value)(["AAPL", "MSFT"], START, END))
    want = expected(kind, ["AAPL", "MSFT"], ns(START), ns(END))
    assert max(p.height for p in pages) == 500
    assert len(pages) >= 4  # several pages per symbol
    assert_frame_equal(pl.concat(pages), want)
    first = server.requests[0]
    assert first.path == f"/v3/{kind.value}/AAPL"
    assert first.query == {
        "timestamp.gte": str(ns(START)),
        "timestamp.lt": str(ns(END)),
        "order": "asc",
        "sort": "timestamp",
        "limit": "500",
    }
    follow_ups = [r for r in server.requests if "cursor" in r.query]
    assert len(follow_ups) == len(server.requests) - 2
    for request in server.requests:
        assert request.headers["authorization"] == f"Bearer {POLYGON_KEY}"
        assert "apiKey" not in request.query


def test_minute_and_day_bars(provider: PolygonProvider, server: WireServer) -> None:
    start, end = datetime(2024, 1, 2, 15, tzinfo=UTC), datetime(2024, 1, 2, 20, tzinfo=UTC)
    minute = pl.concat(provider.bars(["MSFT"], start, end, Timeframe.parse("1Min")))
    source = [b for b in TAPE.bars["1Min"]["MSFT"] if ns(start) <= b["ts"] < ns(end)]
    assert minute.height == len(source) == 300
    assert minute.get_column("ts").dt.epoch("ns").to_list() == [b["ts"] for b in source]
    assert minute.get_column("close").to_list() == [b["close"] for b in source]
    assert minute.get_column("trades").to_list() == [b["trades"] for b in source]
    assert server.requests[0].path == (
        f"/v2/aggs/ticker/MSFT/range/1/minute/{ns(start) // 10**6}/{ns(end) // 10**6 - 1}"
    )
    assert server.requests[0].query == {"adjusted": "false", "sort": "asc", "limit": "500"}
    week = datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 5, tzinfo=UTC)
    daily = pl.concat(provider.bars(["AAPL"], *week, Timeframe.parse("1D")))
    # Day bars open at midnight New York time: 05:00 UTC in January.
    assert daily.get_column("ts").to_list() == [
        datetime(2024, 1, day, 5, tzinfo=UTC) for day in (2, 3, 4)
    ]


def test_a_burst_of_429_then_success(provider: PolygonProvider, server: WireServer) -> None:
    limited = Reply(429, RATE_LIMITED, {"Retry-After": "0"})
    server.inject("/v3/trades/MSFT", limited, limited, limited)
    got = pl.concat(provider.trades(["MSFT"], START, END))
    assert_frame_equal(got, expected(DataKind.TRADES, ["MSFT"], ns(START), ns(END)))
    firsts = [r for r in server.requests if "cursor" not in r.query]
    assert len(firsts) == 4


def test_5xx_then_success_and_a_dropped_connection(
    provider: PolygonProvider, server: WireServer
) -> None:
    server.inject("/v3/quotes/AAPL", Reply(502, b"<html>Bad gateway</html>"), Reply(503), Drop())
    got = pl.concat(provider.quotes(["AAPL"], START, END))
    assert_frame_equal(got, expected(DataKind.QUOTES, ["AAPL"], ns(START), ns(END)))
    assert len([r for r in server.requests if "cursor" not in r.query]) == 4


def test_5xx_forever_gives_up_naming_the_url(provider: PolygonProvider, server: WireServer) -> None:
    server.fail_always("/v3/trades", Reply(503, {"status": "ERROR", "error": "overloaded"}))
    with pytest.raises(UpstreamError) as caught:
        list(provider.trades(["AAPL"], START, END))
    message = str(caught.value)
    assert f"{server.url}/v3/trades/AAPL?timestamp.gte=" in message
    assert "failed 4 times" in message
    assert "HTTP 503 (overloaded)" in message
    assert POLYGON_KEY not in message
    assert len(server.requests) == 4


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"status":"OK","results":[{"sip_timestamp":17042', "delimiter at character 48"),
        (b"<html>maintenance</html>", "the body is not a JSON object"),
        (b"null", "the body is not a JSON object"),
        (b'{"status":"OK"}\n{"status":"OK"}', "Extra data at character 16"),
        ({"status": "ERROR", "error": "boom"}, "status 'ERROR' (boom)"),
        ({"status": "OK", "results": "none"}, "a field has an unexpected type"),
        ({"status": "OK", "results": [], "next_url": "cursor=abc"}, "no absolute path"),
    ],
)
def test_malformed_pages_fail_clearly_without_retrying(
    body: dict[str, object] | bytes,
    said: str,
    provider: PolygonProvider,
    server: WireServer,
    reader: str,
) -> None:
    server.inject("/v3/trades/AAPL", Reply(200, body))
    with pytest.raises(ProviderError) as caught:
        list(provider.trades(["AAPL"], START, END))
    assert "not in its documented format" in str(caught.value)
    assert said in str(caught.value)
    assert f"{server.url}/v3/trades/AAPL" in str(caught.value)
    assert len(server.requests) == 1


def test_bad_key_and_missing_entitlement(
    server: WireServer, make_settings: SettingsFactory
) -> None:
    wrong = "pk-wrong-key-9999"
    settings = make_settings(polygon_api_key=wrong, polygon_base_url=server.url)
    provider = get_provider("polygon", settings, max_retries=0)
    with closing(provider), pytest.raises(ProviderError) as caught:
        list(provider.trades(["AAPL"], START, END))
    message = str(caught.value)
    assert "HTTP 401" in message
    assert "Unknown API Key" in message
    assert "CIFT_POLYGON_API_KEY" in message
    assert wrong not in message
    right = get_provider(
        "polygon", make_settings(polygon_api_key=POLYGON_KEY, polygon_base_url=server.url)
    )
    server.inject("/v2/aggs", Reply(403, NOT_ENTITLED))
    with closing(right), pytest.raises(ProviderError) as denied:
        list(right.bars(["AAPL"], START, END, Timeframe.parse("1Min")))
    assert "HTTP 403" in str(denied.value)
    assert "not entitled to this data" in str(denied.value)
    assert "plan does not cover" in str(denied.value)


def test_a_missing_key_names_the_setting(make_settings: SettingsFactory) -> None:
    with pytest.raises(ConfigurationError, match="set CIFT_POLYGON_API_KEY"):
        create(make_settings())
    with pytest.raises(ConfigurationError, match=r"not an http.*set CIFT_POLYGON_BASE_URL"):
        create(make_settings(polygon_api_key="k", polygon_base_url="api.massive.com"))


def test_retries_wait_as_told_and_never_log_the_key(server: WireServer) -> None:
    waits: list[float] = []
    client = HttpClient(
        UPSTREAM,
        server.url,
        headers={"Authorization": f"Bearer {POLYGON_KEY}"},
        secrets=[POLYGON_KEY],
        timeout=5,
        policy=RetryPolicy(max_retries=3, backoff=0.001),
        sleep=waits.append,
    )
    lines: list[str] = []
    sink = logger.add(lines.append, level="WARNING")
    server.inject(
        "/v3/trades",
        Reply(429, RATE_LIMITED, {"Retry-After": "7"}),
        Reply(
            503, {"error": f"echo {POLYGON_KEY}"}, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
        ),
        Reply(500),
    )
    try:
        frame = pl.concat(PolygonProvider(client).trades(["AAPL"], START, END))
        server.inject("/v3/trades", Reply(429, RATE_LIMITED, {"Retry-After": "3600"}))
        with pytest.raises(ProviderError, match="asked to wait 3600 s"):
            list(PolygonProvider(client).trades(["AAPL"], START, END))
    finally:
        logger.remove(sink)
        client.close()
    assert frame.height == expected(DataKind.TRADES, ["AAPL"], ns(START), ns(END)).height
    assert 7 <= waits[0] <= 7.001  # Retry-After in seconds, plus at most the jitter
    assert 0 <= waits[1] <= 0.001  # an HTTP date in the past: no wait beyond jitter
    assert 0.002 <= waits[2] <= 0.004  # no header: backoff 0.001 * 2**2, half of it jitter
    assert len(lines) == 3
    assert all(POLYGON_KEY not in line for line in lines)
    assert "retry 1/3" in lines[0]
    assert "***" in lines[1]


def test_server_wait_reads_both_header_styles() -> None:
    assert server_wait({"retry-after": "2.5"}, rate_limited=False) == 2.5
    date = {"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}
    assert server_wait(date, rate_limited=False, now=40.0) == 60.0
    reset = {"x-ratelimit-reset": "1000"}
    assert server_wait(reset, rate_limited=True, now=990.0) == 10.0
    assert server_wait(reset, rate_limited=False, now=990.0) is None
    assert server_wait({}, rate_limited=True) is None


@settings(max_examples=deep(60), deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 10),
    st.lists(st.integers(0, 30), min_size=1, max_size=40),
)
def test_the_throttle_never_lets_more_than_the_budget_into_a_window(
    requests: int, period: int, gaps: list[int]
) -> None:
    """Whole seconds keep the float arithmetic exact."""
    clock = [0.0]
    throttle = Throttle(requests, period, clock=lambda: clock[0], sleep=lambda s: None)
    starts = []
    for gap in gaps:
        clock[0] += gap
        starts.append(clock[0] + throttle.reserve())
    assert starts == sorted(starts)
    for i, begin in enumerate(starts):
        assert sum(begin <= s < begin + period for s in starts[i:]) <= requests
    # No request waits longer than needed: each one starts at arrival or when a slot frees.
    arrivals = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    for i, (arrival, begin) in enumerate(zip(arrivals, starts, strict=True)):
        assert begin == arrival or (i >= requests and begin == starts[i - requests] + period)


def test_backfill_from_the_command_line(
    server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIFT_POLYGON_API_KEY", POLYGON_KEY)
    monkeypatch.setenv("CIFT_POLYGON_BASE_URL", server.url)
    monkeypatch.setenv("CIFT_POLYGON_REQUESTS_PER_MINUTE", "100000")
    runner = CliRunner()
    args = ["data", "backfill", "--provider", "polygon", "--symbols", "AAPL,MSFT"]
    window = ["--start", "2024-01-02T14:30:00", "--end", "2024-01-02T14:31:00"]
    result = runner.invoke(app, [*args, "--kind", "trades", *window])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["data", "ls", "--json"])
    rows = {r["symbol"]: r["rows"] for r in json.loads(listed.output) if r["kind"] == "trades"}
    end = SESSION_OPEN + 60 * 10**9
    assert rows == {
        symbol: expected(DataKind.TRADES, [symbol], SESSION_OPEN, end).height
        for symbol in ("AAPL", "MSFT")
    }
    again = runner.invoke(app, [*args, "--kind", "trades", *window])
    assert again.exit_code == 0
    assert "2 already done" in again.output
    monkeypatch.setenv("CIFT_POLYGON_API_KEY", "")
    missing = runner.invoke(app, [*args, "--kind", "bars", *window])
    assert missing.exit_code == 78
    assert "CIFT_POLYGON_API_KEY" in missing.output


def test_each_page_body_is_freed_at_once(provider: PolygonProvider) -> None:
    """Memory stays flat in the number of pages: no body waits for the garbage collector."""

    def holds_a_page(response: httpx.Response) -> bool:
        try:
            return len(response.content) > 10_000
        except httpx.ResponseNotRead:
            return False

    gc.collect()
    gc.disable()
    try:
        pages = sum(1 for _ in provider.trades(["AAPL"], START, END))
        held = [o for o in gc.get_objects() if isinstance(o, httpx.Response) and holds_a_page(o)]
    finally:
        gc.enable()
    assert pages == 3
    assert held == []


def test_times_beyond_nanoseconds_are_null_not_wrapped() -> None:
    # 253402214400000 ms is 9999-12-31; times 1000 its nanoseconds overflow int64.
    results = [{"o": 1.0, "t": 253_402_214_400_000}, {"o": 1.0, "t": 1_704_205_800_000}]
    bars, _ = page_of({"status": "OK", "results": results}, DataKind.BARS)
    assert bars.get_column("ts").to_list() == [None, datetime(2024, 1, 2, 14, 30, tzinfo=UTC)]
