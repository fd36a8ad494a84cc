"""Order news: what the API records is published on the ``orders`` topic for the
watchers, and a bus that fails loses the news, never the order."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from cift.core.errors import UpstreamError
from cift.data.bus import EventBus
from cift.data.bus.memory import MemoryBus
from cift.db.models import Role
from cift.execution.order_events import ORDERS_TOPIC, SCHEMA, OrderNews
from cift.model import DataKind, Timeframe
from tests.api.conftest import AppFactory, auth_headers
from tests.features.reference import random_bars


def _account(client: TestClient, headers: dict[str, str]) -> str:
    body = {"name": "news", "initial_cash": "10000", "risk_limits": {"max_order_quantity": "50"}}
    return str(client.post("/api/v1/accounts", json=body, headers=headers).json()["id"])


def test_orders_recorded_over_http_are_published_as_news(make_app: AppFactory) -> None:
    app = make_app()
    app.state.cift.store.write(
        DataKind.BARS, random_bars(5, symbol="AAA"), timeframe=Timeframe.parse("1m")
    )
    bus = MemoryBus()
    app.state.cift.news = OrderNews(lambda: bus)
    watcher = bus.subscribe(ORDERS_TOPIC, "watcher")
    trader = auth_headers(app, "trader", Role.TRADER)
    with TestClient(app) as client:
        base = f"/api/v1/trading/accounts/{_account(client, trader)}/orders"
        placed = client.post(
            base, json={"symbol": "AAA", "side": 1, "quantity": "10"}, headers=trader
        )
        refused = client.post(
            base, json={"symbol": "AAA", "side": -1, "quantity": "60"}, headers=trader
        )
        canceled = client.post(f"{base}/{placed.json()['id']}/cancel", headers=trader)
    news = [d.frame for d in watcher.poll(10, timeout=1)]
    assert [frame.schema for frame in news] == [SCHEMA] * 3
    rows = [frame.row(0, named=True) for frame in news]
    assert [(r["order_id"], r["state"]) for r in rows] == [
        (placed.json()["id"], "new"),
        (refused.json()["id"], "rejected"),
        (canceled.json()["id"], canceled.json()["state"]),
    ]
    assert rows[1]["reason"].startswith("max_order_quantity")
    assert (rows[0]["symbol"], rows[0]["side"], rows[0]["quantity"]) == ("AAA", 1, 10.0)


def test_a_bus_that_fails_loses_the_news_not_the_order(make_app: AppFactory) -> None:
    app = make_app()

    def down() -> EventBus:
        raise UpstreamError("Redis at redis://localhost:1 is not reachable.")

    app.state.cift.news = OrderNews(down)
    trader = auth_headers(app, "trader", Role.TRADER)
    before = REGISTRY.get_sample_value("cift_trading_unpublished_orders_total") or 0.0
    with TestClient(app) as client:
        base = f"/api/v1/trading/accounts/{_account(client, trader)}/orders"
        placed = client.post(
            base, json={"symbol": "AAA", "side": 1, "quantity": "5"}, headers=trader
        )
        assert placed.status_code == 201, placed.text
        listed = client.get(base, headers=trader).json()
    assert [o["id"] for o in listed] == [placed.json()["id"]]  # the ledger has it
    after = REGISTRY.get_sample_value("cift_trading_unpublished_orders_total")
    assert after == before + 1
