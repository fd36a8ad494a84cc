"""``cift trade`` on an Alpaca paper account, against a local server speaking Alpaca's
trading API and stream: SMA cross trades on the simulator's bars, the orders and fills
in CIFT equal the server's, and reconciling finds nothing to fix."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli.running import cift
from tests.execution.alpaca_server import KEY_ID, SECRET, AlpacaServer

pytestmark = pytest.mark.serial  # a timed live session

KEYS = "CIFT_TEST_ALPACA_PAPER"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CIFT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_sma_cross_on_alpaca_paper_equals_the_broker_and_reconciles_clean(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AlpacaServer() as server:
        server.price("AAA", 100.0)
        server.price("BBB", 50.0)
        monkeypatch.setenv("CIFT_ALPACA_PAPER_URL", server.url)
        monkeypatch.setenv(KEYS, f"{KEY_ID}:{SECRET}")
        assert "Opened alpaca account alpaca-paper (paper)" in cift(
            "trade", "open", "alpaca-paper", "--broker", "alpaca", "--credentials-ref", KEYS
        )
        cift("trade", "run", "--account", "alpaca-paper", "--strategy", "sma_cross",
             "--symbols", "AAA,BBB", "--param", "fast=3", "--param", "slow=8",
             "--speed", "1200", "--duration", "4s")  # fmt: skip

        orders = json.loads(cift("trade", "orders", "--account", "alpaca-paper", "--json"))
        at_server = {o["client_order_id"]: o for o in server.orders.values()}
        assert len(orders) > 3
        assert {o["client_order_id"] for o in orders} == set(at_server) == set(server.posted)
        for order in orders:
            theirs = at_server[order["client_order_id"]]
            assert Decimal(order["filled_quantity"]) == Decimal(theirs["filled_qty"])
            assert sum(Decimal(f["quantity"]) for f in order["fills"]) == Decimal(
                theirs["filled_qty"]
            )
        book = json.loads(cift("trade", "positions", "--account", "alpaca-paper", "--json"))
        held = {p["symbol"]: Decimal(p["quantity"]) for p in book["positions"]}
        assert {s: q for s, q in held.items() if q} == {
            s: q for s, q in server.positions.items() if q
        }
        assert "nothing to fix" in cift("trade", "reconcile", "--account", "alpaca-paper")
        listed = json.loads(cift("trade", "accounts", "--json"))
        assert [(a["name"], a["broker"], a["credentials_ref"]) for a in listed] == [
            ("alpaca-paper", "alpaca", KEYS)
        ]
