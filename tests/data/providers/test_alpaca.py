"""The alpaca provider against a local server speaking Alpaca's market data v2 format."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from unittest.mock import patch

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cift.core.errors import ConfigurationError, ProviderError, UpstreamError, ValidationError
from cift.core.settings import Settings
from cift.data.providers import get_provider
from cift.data.providers.alpaca import AlpacaProvider, alpaca_timeframe, create, parse_page
from cift.data.providers.alpaca.provider import UPSTREAM
from cift.data.providers.http import Fetched, HttpClient, RetryPolicy, pages
from cift.model import SCHEMAS, DataKind, Timeframe
from tests.budget import deep

from .wire import (
    ALPACA_KEY_ID,
    ALPACA_SECRET,
    POLYGON_EXCHANGES,
    Drop,
    Reply,
    WireServer,
    make_tape,
    rfc3339,
    serving,
)

TAPE = make_tape(["AAPL", "MSFT", "NVDA"], trades=900, quotes=700)
START = datetime(2024, 1, 2, 14, 30, 2, tzinfo=UTC)
END = datetime(2024, 1, 2, 14, 30, 20, tzinfo=UTC)
NOT_PERMITTED = {
    "code": 42210000,
    "message": "subscription does not permit querying recent SIP data",
}
SettingsFactory = Callable[..., Settings]


@pytest.fixture
def server() -> Iterator[WireServer]:
    with serving(TAPE) as running:
        yield running


def keyed(make_settings: SettingsFactory, url: str, **more: object) -> Settings:
    values = {
        "alpaca_api_key_id": ALPACA_KEY_ID,
        "alpaca_api_secret_key": ALPACA_SECRET,
        "alpaca_data_url": url,
    }
    return make_settings(**{**values, **more})


@pytest.fixture
def provider(server: WireServer, make_settings: SettingsFactory) -> Iterator[AlpacaProvider]:
    made = create(
        keyed(make_settings, server.url),
        page_limit=400,
        max_retries=3,
        backoff=0.001,
        requests_per_minute=100_000,
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
    """The tape's rows in CIFT's schema, from the canonical values (symbol, then time)."""
    rows = []
    for symbol in sorted(symbols):
        for r in getattr(TAPE, kind.value)[symbol]:
            if not start <= r["ts"] < end:
                continue
            if kind is DataKind.TRADES:
                exchange, codes = POLYGON_EXCHANGES[r["exchange"]], ",".join(r["codes"])
                trade_id = str(r["alpaca_id"])
                rows.append((symbol, r["ts"], r["price"], r["size"], 0, trade_id, exchange, codes))
            else:
                rows.append((symbol, r["ts"], r["bid"], r["ask"], r["bid_size"], r["ask_size"]))
    schema = {**SCHEMAS[kind], "ts": pl.Int64()}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(pl.col("ts").cast(SCHEMAS[kind]["ts"]))


def page_of(
    body: dict[str, object] | bytes, kind: DataKind, symbols: list[str]
) -> tuple[pl.DataFrame, str | None]:
    client = HttpClient(
        UPSTREAM, "http://127.0.0.1:9", headers={}, secrets=[], timeout=1, policy=RetryPolicy()
    )
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_page(client, Fetched("http://127.0.0.1:9/x", raw), kind, symbols)


def test_reference_pages_map_onto_the_model(reader: str) -> None:
    """The worked examples A1-A5 of the providers' reference, checked field by field."""
    bars, token = page_of(
        {
            "bars": {
                "AAPL": [
                    {"t": "2024-01-02T14:30:00Z", "o": 185.64, "h": 185.88, "l": 185.02}
                    | {"c": 185.31, "v": 48211, "n": 611, "vw": 185.4009},
                    {"t": "2024-01-02T14:31:00Z", "o": 185.3, "h": 185.47, "l": 184.95}
                    | {"c": 185.12, "v": 30177, "n": 402, "vw": 185.2188},
                ],
                "MSFT": [
                    {"t": "2024-01-02T14:30:00Z", "o": 373.86, "h": 374.5, "l": 373.5}
                    | {"c": 374.08, "v": 12904, "n": 233, "vw": 374.0477}
                ],
            },
            "next_page_token": "TVNGVHxNfDIwMjQtMDEtMDJUMTQ6MzA6MDAuMDAwMDAwMDAwWg==",
        },
        DataKind.BARS,
        ["AAPL", "MSFT"],
    )
    assert token == "TVNGVHxNfDIwMjQtMDEtMDJUMTQ6MzA6MDAuMDAwMDAwMDAwWg=="
    assert bars.schema == SCHEMAS[DataKind.BARS]
    open_ = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    assert bars.rows()[2] == ("MSFT", open_, 373.86, 374.5, 373.5, 374.08, 12904.0, 374.0477, 233)
    assert bars.get_column("ts").dt.epoch("ms").to_list() == [
        1704205800000,
        1704205860000,
        1704205800000,
    ]
    empty, last = page_of({"bars": {}, "next_page_token": None}, DataKind.BARS, ["AAPL"])
    assert (empty.height, last) == (0, None)
    nulled, _ = page_of({"bars": None, "next_page_token": None}, DataKind.BARS, ["AAPL"])
    assert nulled.height == 0

    trades, _ = page_of(
        {
            "trades": {
                "AAPL": [
                    {"t": "2024-01-02T14:30:00.001234567Z", "x": "V", "p": 185.64, "s": 100}
                    | {"c": ["@"], "i": 52983525029461, "z": "C"},
                    {"t": "2024-01-02T14:30:00.002354012Z", "x": "D", "p": 185.63, "s": 3}
                    | {"c": ["@", "I"], "i": 71675577320245, "z": "C"},
                ]
            },
            "next_page_token": "QUFQTHwy",
        },
        DataKind.TRADES,
        ["AAPL"],
    )
    assert trades.get_column("ts").dt.epoch("ns").to_list() == [
        1704205800001234567,
        1704205800002354012,
    ]
    assert trades.drop("ts").rows() == [
        ("AAPL", 185.64, 100.0, 0, "52983525029461", "V", "@"),
        ("AAPL", 185.63, 3.0, 0, "71675577320245", "D", "@,I"),
    ]
    quotes, _ = page_of(
        {
            "quotes": {
                "AAPL": [
                    {"t": "2024-01-02T14:30:00.0011000Z", "ax": "V", "ap": 185.65, "as": 3}
                    | {"bx": "V", "bp": 185.63, "bs": 4, "c": ["R"], "z": "C"},
                    {"t": "2024-01-02T09:30:00.003210333-05:00", "ap": 185.66, "as": 1}
                    | {"bp": 185.62, "bs": 2},
                ]
            },
            "next_page_token": None,
        },
        DataKind.QUOTES,
        ["AAPL"],
    )
    assert quotes.get_column("ts").dt.epoch("ns").to_list() == [
        1704205800001100000,
        1704205800003210333,
    ]
    assert quotes.drop("ts").rows() == [
        ("AAPL", 185.63, 185.65, 4.0, 3.0),
        ("AAPL", 185.62, 185.66, 2.0, 1.0),
    ]


@pytest.mark.parametrize("largest_for_polars", [pages.POLARS_READER_MAX_BYTES, 0])
@settings(max_examples=deep(150), deadline=None)
@given(moment=st.integers(0, 2**62), trade_id=st.integers(0, 2**64 - 1))
def test_every_nanosecond_and_trade_id_survive(
    largest_for_polars: int, moment: int, trade_id: int
) -> None:
    row = {"t": rfc3339(moment), "p": 1.0, "s": 1, "i": trade_id, "x": "V"}
    with patch.object(pages, "POLARS_READER_MAX_BYTES", largest_for_polars):
        trades, _ = page_of({"trades": {"X": [row]}}, DataKind.TRADES, ["X"])
    assert trades.get_column("ts").dt.epoch("ns").to_list() == [moment]
    assert trades.get_column("trade_id").to_list() == [str(trade_id)]


@pytest.mark.parametrize("kind", [DataKind.TRADES, DataKind.QUOTES])
def test_multi_symbol_pages_cover_every_symbol_exactly(
    kind: DataKind, provider: AlpacaProvider, server: WireServer, reader: str
) -> None:
    symbols = ["MSFT", "AAPL", "NVDA"]
    pages = list(getattr(provider, kind.value)(symbols, START, END))
    assert_frame_equal(pl.concat(pages), expected(kind, symbols, ns(START), ns(END)))
    assert max(p.height for p in pages) == 400
    assert any(p.get_column("symbol").n_unique() > 1 for p in pages)
    first, *rest = server.requests
    assert first.path == f"/v2/stocks/{kind.value}"
    assert first.query == {
        "symbols": "MSFT,AAPL,NVDA",
        "start": "2024-01-02T14:30:02.000000Z",
        "end": "2024-01-02T14:30:20.000000Z",
        "limit": "400",
        "feed": "iex",
        "sort": "asc",
    }
    assert len(rest) == len(pages) - 1
    for request in rest:
        assert {k: v for k, v in request.query.items() if k != "page_token"} == first.query
    assert len({r.query["page_token"] for r in rest}) == len(rest)
    for request in server.requests:
        assert request.headers["apca-api-key-id"] == ALPACA_KEY_ID
        assert request.headers["apca-api-secret-key"] == ALPACA_SECRET


def test_minute_and_day_bars(provider: AlpacaProvider, server: WireServer) -> None:
    start, end = datetime(2024, 1, 2, 15, tzinfo=UTC), datetime(2024, 1, 2, 16, tzinfo=UTC)
    minute = pl.concat(provider.bars(["NVDA", "AAPL"], start, end, Timeframe.parse("1Min")))
    for symbol in ("AAPL", "NVDA"):
        source = [b for b in TAPE.bars["1Min"][symbol] if ns(start) <= b["ts"] < ns(end)]
        mine = minute.filter(pl.col("symbol") == symbol)
        assert mine.get_column("ts").dt.epoch("ns").to_list() == [b["ts"] for b in source]
        assert mine.get_column("vwap").to_list() == [b["vwap"] for b in source]
    assert minute.height == 120
    assert server.requests[0].query["timeframe"] == "1Min"
    assert server.requests[0].query["adjustment"] == "raw"
    week = datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 5, tzinfo=UTC)
    daily = pl.concat(provider.bars(["MSFT"], *week, Timeframe.parse("1D")))
    assert daily.get_column("ts").to_list() == [
        datetime(2024, 1, day, 5, tzinfo=UTC) for day in (2, 3, 4)
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [("1Min", "1Min"), ("59Min", "59Min"), ("60Min", "1Hour"), ("4H", "4Hour"), ("1D", "1Day")],
)
def test_timeframe_names(text: str, name: str) -> None:
    assert alpaca_timeframe(Timeframe.parse(text)) == name


@pytest.mark.parametrize("text", ["30s", "90Min", "2D", "25H"])
def test_timeframes_alpaca_lacks_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="Alpaca has no"):
        alpaca_timeframe(Timeframe.parse(text))


def test_rate_limit_reset_then_5xx_then_a_dropped_page(server: WireServer) -> None:
    waits: list[float] = []
    client = HttpClient(
        UPSTREAM,
        server.url,
        headers={"APCA-API-KEY-ID": ALPACA_KEY_ID, "APCA-API-SECRET-KEY": ALPACA_SECRET},
        secrets=[ALPACA_KEY_ID, ALPACA_SECRET],
        timeout=5,
        policy=RetryPolicy(max_retries=4, backoff=0.001),
        sleep=waits.append,
    )
    reset = str(int(time.time()) + 30)
    server.inject(
        "/v2/stocks/trades",
        Reply(
            429, {"code": 42910000, "message": "rate limit exceeded"}, {"X-RateLimit-Reset": reset}
        ),
        Reply(500, {"message": "internal error"}),
        Drop(),
    )
    with closing(client):
        got = pl.concat(AlpacaProvider(client, page_limit=500).trades(["AAPL"], START, END))
    assert_frame_equal(got, expected(DataKind.TRADES, ["AAPL"], ns(START), ns(END)))
    assert 27 <= waits[0] <= 31  # until the reset second, give or take the clock's tick
    assert len(waits) == 3
    assert len([r for r in server.requests if "page_token" not in r.query]) == 4


def test_5xx_forever_gives_up_naming_the_url(provider: AlpacaProvider, server: WireServer) -> None:
    server.fail_always("/v2/stocks", Reply(504, b"upstream timed out"))
    with pytest.raises(UpstreamError) as caught:
        list(provider.quotes(["AAPL"], START, END))
    message = str(caught.value)
    assert f"{server.url}/v2/stocks/quotes?symbols=AAPL&start=" in message
    assert "HTTP 504 (upstream timed out)" in message
    assert "failed 4 times" in message
    assert ALPACA_KEY_ID not in message
    assert ALPACA_SECRET not in message


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"trades":{"AAPL":[{"t":"2024-01-02T14:30:00Z","p":', "value at character 51"),
        ({"message": "internal"}, "no 'trades' map in the page (internal)"),
        ({"trades": {"AAPL": {"t": "x"}}}, "a field has an unexpected type"),
    ],
)
def test_malformed_pages_fail_clearly(
    body: dict[str, object] | bytes,
    said: str,
    provider: AlpacaProvider,
    server: WireServer,
    reader: str,
) -> None:
    server.inject("/v2/stocks/trades", Reply(200, body))
    with pytest.raises(ProviderError) as caught:
        list(provider.trades(["AAPL"], START, END))
    assert said in str(caught.value)
    assert f"{server.url}/v2/stocks/trades" in str(caught.value)
    assert len(server.requests) == 1


def test_a_page_token_that_does_not_advance_is_refused(
    provider: AlpacaProvider, server: WireServer
) -> None:
    stuck = {"trades": {}, "next_page_token": "same"}
    server.inject("/v2/stocks/trades", Reply(200, stuck), Reply(200, stuck))
    with pytest.raises(ProviderError, match="repeats the page"):
        list(provider.trades(["AAPL"], START, END))


def test_bad_keys_and_a_plan_without_the_data(
    server: WireServer, make_settings: SettingsFactory
) -> None:
    settings = keyed(make_settings, server.url, alpaca_api_secret_key="wrong-secret-123")
    provider = get_provider("alpaca", settings, max_retries=0)
    with closing(provider), pytest.raises(ProviderError) as caught:
        list(provider.trades(["AAPL"], START, END))
    message = str(caught.value)
    assert "HTTP 401" in message
    assert "request is not authorized" in message
    assert "CIFT_ALPACA_API_KEY_ID and CIFT_ALPACA_API_SECRET_KEY" in message
    assert "wrong-secret-123" not in message
    right = get_provider("alpaca", keyed(make_settings, server.url), feed="sip")
    server.inject("/v2/stocks/bars", Reply(403, NOT_PERMITTED))
    with closing(right), pytest.raises(ProviderError) as denied:
        list(right.bars(["AAPL"], START, END, Timeframe.parse("1Min")))
    assert "HTTP 403" in str(denied.value)
    assert "does not permit querying recent SIP data" in str(denied.value)
    assert "CIFT_ALPACA_FEED" in str(denied.value)
    assert server.requests[-1].query["feed"] == "sip"


def test_missing_keys_name_the_settings(make_settings: SettingsFactory) -> None:
    with pytest.raises(ConfigurationError) as both:
        create(make_settings())
    assert "CIFT_ALPACA_API_KEY_ID and CIFT_ALPACA_API_SECRET_KEY" in str(both.value)
    with pytest.raises(ConfigurationError) as secret:
        create(make_settings(alpaca_api_key_id="PKX"))
    assert "set CIFT_ALPACA_API_SECRET_KEY (" in str(secret.value)


def test_bad_options_are_refused(make_settings: SettingsFactory) -> None:
    settings = keyed(make_settings, "http://127.0.0.1:9")
    with closing(create(settings)) as provider, pytest.raises(ValidationError, match="got aapl"):
        provider.trades(["aapl"], START, END)
    with pytest.raises(ValidationError, match="Unknown Alpaca feed"):
        create(settings, feed="nasdaq")
    with pytest.raises(ValidationError, match="1 to 10000 rows"):
        create(settings, page_limit=20_000)


@pytest.mark.parametrize("stamp", ["9999-12-31T00:00:00Z", "1500-01-01T00:00:00Z"])
def test_times_beyond_nanoseconds_are_null_not_wrapped(stamp: str) -> None:
    rows = [
        {"t": stamp, "p": 1.0, "s": 1, "i": 1, "x": "V"},
        {"t": "2024-01-02T14:30:00.000000001Z", "p": 1.0, "s": 1, "i": 2, "x": "V"},
    ]
    trades, _ = page_of({"trades": {"X": rows}}, DataKind.TRADES, ["X"])
    assert trades.get_column("ts").dt.epoch("ns").to_list() == [None, 1_704_205_800_000_000_001]
