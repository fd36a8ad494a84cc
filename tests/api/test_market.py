"""Market data over HTTP: pages that add up, three formats, coverage and quality."""

from __future__ import annotations

import base64
import io

import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from polars.testing import assert_frame_equal

from cift.data.files import load
from cift.model import DataKind, Timeframe
from tests.api.conftest import auth_headers
from tests.data.marketdata import random_trades
from tests.samples import DATA


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    store = app.state.cift.store
    nvda = load(DATA / "daily/nvda-1999-2014.csv")
    store.write(DataKind.BARS, nvda.frame, timeframe=nvda.timeframe)
    trades = random_trades(2_500, ["AAPL"])
    # Same-instant trades make the cursor's tie-break on trade_id matter.
    trades = pl.concat([trades, trades.head(300).with_columns(pl.col("trade_id") + "x")])
    store.write(DataKind.TRADES, trades)
    return TestClient(app, headers=auth_headers(app))


def _all_pages(
    client: TestClient, path: str, **params: object
) -> tuple[list[dict[str, object]], int]:
    rows: list[dict[str, object]] = []
    cursor, pages = None, 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["rows"]
        pages += 1
        cursor = body["next_cursor"]
        assert response.headers.get("x-next-cursor") == cursor
        if cursor is None:
            return rows, pages


def test_bar_pages_add_up_to_the_stored_rows(client: TestClient) -> None:
    rows, pages = _all_pages(
        client,
        "/api/v1/market/bars",
        symbol="NVDA",
        timeframe="1d",
        start="2010-01-01",
        end="2010-12-31",
        limit=100,
    )
    assert pages == 3
    assert len(rows) == 252
    assert rows[0]["ts"] == "2010-01-04T00:00:00Z"
    assert rows[-1]["ts"] == "2010-12-31T00:00:00Z"
    assert {"open", "high", "low", "close", "volume", "vwap", "trades"} <= set(rows[0])


def test_trade_pages_split_same_instant_trades_without_loss(
    client: TestClient, app: FastAPI
) -> None:
    rows, _ = _all_pages(client, "/api/v1/market/trades", symbol="AAPL", limit=97)
    expected = app.state.cift.store.read(DataKind.TRADES, symbols=["AAPL"]).collect()
    assert [r["trade_id"] for r in rows] == expected.get_column("trade_id").to_list()


def test_arrow_and_csv_carry_the_same_rows(client: TestClient, app: FastAPI) -> None:
    params = {"symbol": "NVDA", "timeframe": "1d", "limit": 50}
    arrow = client.get(
        "/api/v1/market/bars",
        params=params,
        headers={"Accept": "application/vnd.apache.arrow.stream"},
    )
    assert arrow.headers["content-type"] == "application/vnd.apache.arrow.stream"
    frame = pl.read_ipc_stream(io.BytesIO(arrow.content))
    expected = app.state.cift.store.read(
        DataKind.BARS, symbols=["NVDA"], timeframe=load(DATA / "daily/nvda-1999-2014.csv").timeframe
    )
    assert_frame_equal(frame, expected.head(50).collect())
    csv = client.get("/api/v1/market/bars", params=params, headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    parsed = pl.read_csv(io.StringIO(csv.text))
    assert parsed.height == 50
    assert parsed.get_column("close").to_list() == frame.get_column("close").to_list()
    assert csv.headers["x-next-cursor"] == arrow.headers["x-next-cursor"]


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


HOSTILE_CURSORS = [
    '[1e30, ""]',
    f'[{-(2**63) - 1}, ""]',
    f'[{2**64}, ""]',
    '[Infinity, ""]',
    '[NaN, ""]',
    '[true, ""]',
    "[1, 2]",
    "[1]",
    "{}",
]


def test_unknown_symbol_is_an_empty_page(client: TestClient) -> None:
    body = client.get("/api/v1/market/quotes", params={"symbol": "NOPE"}).json()
    assert body == {"rows": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"symbol": "NVDA", "cursor": "garbage!"}, "cursor"),
        ({"symbol": "NVDA", "start": "2020-02-30"}, "Cannot read"),
        ({"symbol": "NVDA", "start": "2020-02-01", "end": "2020-01-01"}, "not after"),
        ({"symbol": "NVDA", "timeframe": "3 weeks"}, "timeframe"),
        ({"symbol": "NVDA", "limit": 0}, "limit"),
        ({"symbol": "NVDA", "bogus": 1}, "bogus"),
        # Times nanoseconds since the epoch cannot hold once overflowed into the catalog.
        ({"symbol": "NVDA", "start": "9999-12-31"}, "outside the times"),
        ({"symbol": "NVDA", "start": "0001-01-01"}, "outside the times"),
        ({"symbol": "NVDA", "start": "2262-04-12"}, "outside the times"),
        ({"symbol": "NVDA", "end": "9999-12-31"}, "outside the times"),
        # Cursors that decode to values no page ends at.
        *(({"symbol": "NVDA", "cursor": _cursor(raw)}, "cursor") for raw in HOSTILE_CURSORS),
    ],
)
def test_bad_parameters_are_problems(
    client: TestClient, params: dict[str, object], says: str
) -> None:
    response = client.get("/api/v1/market/bars", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.text


def test_coverage_and_quality(client: TestClient) -> None:
    coverage = client.get("/api/v1/market/coverage").json()
    assert {(c["kind"], c["symbol"]) for c in coverage} == {("bars", "NVDA"), ("trades", "AAPL")}
    nvda = next(c for c in coverage if c["symbol"] == "NVDA")
    assert nvda["rows"] == 4012
    report = client.get(
        "/api/v1/market/quality", params={"symbols": "NVDA", "timeframe": "1d"}
    ).json()
    checks = {f["check"]: f["count"] for f in report["findings"]}
    assert checks["missing_bars"] == 0
    assert report["rows"] == 4012


def test_one_vocabulary_symbol_and_the_stored_timeframe_by_default(
    client: TestClient, app: FastAPI
) -> None:
    # No timeframe: the symbol's one stored bar length (daily), not a silent 1m.
    page = client.get("/api/v1/market/bars", params={"symbol": "NVDA", "limit": 5}).json()
    assert [row["ts"] for row in page["rows"]][:1] == ["1999-01-22T00:00:00Z"]
    # Quality takes ``symbol`` like every market route (``symbols`` as the CLI writes it).
    for params in ({"symbol": "NVDA"}, {"symbols": "NVDA"}, {"symbol": "NVDA,NOPE"}):
        report = client.get("/api/v1/market/quality", params=params)
        assert report.status_code == 200, report.text
        assert report.json()["rows"] == 4012
    # A second bar length makes the default ambiguous: the answer lists both.
    nvda = load(DATA / "daily/nvda-1999-2014.csv").frame
    app.state.cift.store.write(DataKind.BARS, nvda.head(10), timeframe=Timeframe.parse("1m"))
    for path in ("/api/v1/market/bars", "/api/v1/market/quality"):
        response = client.get(path, params={"symbol": "NVDA"})
        assert response.status_code == 422, response.text
        assert "1d, 1m" in response.json()["detail"]
    explicit = client.get("/api/v1/market/bars", params={"symbol": "NVDA", "timeframe": "1d"})
    assert len(explicit.json()["rows"]) == 1000
