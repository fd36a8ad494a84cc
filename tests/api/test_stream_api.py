"""The live path over HTTP and WebSocket: stage statuses, latest feature values (live
from Redis, else the newest stored), and an authenticated WebSocket that pushes the
subscribed symbols' trades, bars and features from the real Redis bus."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from cift.data.aggregate import trades_to_bars
from cift.data.bus.redis import RedisBus
from cift.data.stream.board import LocalBoard, RedisBoard
from cift.features.pipeline import compute_set, default_set
from cift.model import Timeframe
from tests.api.conftest import auth_headers
from tests.data.marketdata import random_trades

AppFactory = Callable[..., FastAPI]
MINUTE = Timeframe.parse("1m")
BARS = trades_to_bars(random_trades(3_000, ["AAA", "BBB"]).lazy(), MINUTE).collect()
SET = default_set(MINUTE)


@pytest.fixture
def redis_app(make_app: AppFactory, redis_url: str) -> FastAPI:
    prefix = f"a{uuid.uuid4().hex[:10]}."
    return make_app(bus="redis", redis_url=redis_url, bus_prefix=prefix)


def test_status_reports_each_stage_and_flags_the_stale(client: TestClient, app: FastAPI) -> None:
    board = app.state.cift.board
    assert isinstance(board, LocalBoard)
    board.post_status(
        "store-trades",
        {
            "rows_in": 10,
            "rows_out": 9,
            "batches": 2,
            "rate": 5.0,
            "lag": 1,
            "last_event": "2024-01-02T14:30:00+00:00",
            "latency_ms": 12.5,
        },
    )
    body = client.get("/api/v1/stream/status").json()
    assert body["bus"] == "memory"
    (stage,) = body["stages"]
    assert (stage["stage"], stage["rows_out"], stage["lag"], stage["stale"]) == (
        "store-trades",
        9,
        1,
        False,
    )


def test_latest_features_come_from_the_store_without_a_live_stage(
    client: TestClient, app: FastAPI
) -> None:
    values = compute_set(BARS, SET)
    app.state.cift.store.write_features(SET.set_id, values)
    body = client.get(
        f"/api/v1/stream/features/{SET.set_id}/latest", params={"symbols": "AAA"}
    ).json()
    assert body["source"] == "store"
    (aaa,) = body["symbols"]
    newest = values.filter(pl.col("symbol") == "AAA").tail(1)
    assert aaa["values"]["rsi"] == pytest.approx(newest.get_column("rsi").item())
    missing = client.get("/api/v1/stream/features/nope-000000000000/latest")
    assert missing.status_code == 404


def test_latest_features_kept_live_in_redis(redis_app: FastAPI) -> None:
    state = redis_app.state.cift
    assert isinstance(state.board, RedisBoard)
    values = compute_set(BARS, SET)
    state.board.put_latest(SET.set_id, values)
    with TestClient(redis_app, headers=auth_headers(redis_app)) as client:
        body = client.get(f"/api/v1/stream/features/{SET.set_id}/latest").json()
    assert body["source"] == "live"
    assert [s["symbol"] for s in body["symbols"]] == ["AAA", "BBB"]
    newest = values.filter(pl.col("symbol") == "BBB").tail(1)
    assert body["symbols"][1]["values"]["sma"] == pytest.approx(newest.get_column("sma").item())


def test_the_websocket_pushes_subscribed_symbols_only(redis_app: FastAPI, redis_url: str) -> None:
    settings = redis_app.state.cift.settings
    bus = RedisBus(redis_url, settings.bus_prefix.replace(".", ":"))
    headers = auth_headers(redis_app)
    with TestClient(redis_app) as client, client.websocket_connect("/api/v1/stream/ws") as socket:
        socket.send_json({"action": "auth", "token": headers["X-API-Key"]})
        assert socket.receive_json() == {"type": "authenticated"}
        socket.send_json({"action": "subscribe", "symbols": ["AAA"], "kinds": ["bars"]})
        assert socket.receive_json() == {
            "type": "subscribed",
            "symbols": ["AAA"],
            "kinds": ["bars"],
        }
        bus.publish("trades", random_trades(10, ["AAA"]))  # not subscribed to trades
        bus.publish("bars", BARS)
        message = socket.receive_json()
    assert message["kind"] == "bars"
    assert message["dropped"] == 0
    expected = BARS.filter(pl.col("symbol") == "AAA")
    assert len(message["rows"]) == expected.height
    assert {r["symbol"] for r in message["rows"]} == {"AAA"}
    assert [r["close"] for r in message["rows"]] == expected.get_column("close").to_list()
    bus.close()


def test_the_websocket_refuses_bad_credentials_and_a_private_bus(
    redis_app: FastAPI, app: FastAPI
) -> None:
    with TestClient(redis_app) as client, client.websocket_connect("/api/v1/stream/ws") as socket:
        socket.send_json({"action": "auth", "token": "not-a-token"})
        assert socket.receive_json()["type"] == "error"
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 1008
    with (
        TestClient(app) as client,
        client.websocket_connect("/api/v1/stream/ws", headers=auth_headers(app)) as socket,
    ):
        refusal = socket.receive_json()
        assert "CIFT_BUS=redis or kafka" in refusal["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 1013


def test_a_bad_subscription_is_explained(redis_app: FastAPI) -> None:
    with (
        TestClient(redis_app) as client,
        client.websocket_connect("/api/v1/stream/ws", headers=auth_headers(redis_app)) as socket,
    ):
        assert socket.receive_json() == {"type": "authenticated"}
        socket.send_json({"action": "subscribe", "symbols": "AAA"})
        assert "must be a list" in socket.receive_json()["message"]
