"""``cift trade`` as a user types it: a paper run on the simulator, its orders with fills,
positions, the run list, its parity with the backtest, the kill switch, and mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.running import cift


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CIFT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.serial  # a timed live session: its bar count is the time it had
def test_a_paper_run_its_ledger_and_its_parity(home: Path) -> None:
    out = cift(
        "trade", "run", "--account", "paper-1", "--strategy", "sma_cross",
        "--symbols", "AAA,BBB", "--param", "fast=3", "--param", "slow=8",
        "--speed", "1200", "--duration", "4s",
    )  # fmt: skip
    assert "Opened paper account paper-1" in out
    (run,) = json.loads(cift("trade", "runs", "--json"))
    assert run["state"] == "stopped"
    assert run["bars_seen"] > 100
    orders = json.loads(cift("trade", "orders", "--account", "paper-1", "--json"))
    assert len(orders) == run["orders"] > 5
    assert [o for o in orders if o["state"] == "filled"]
    for order in orders:  # each order's fills add up to what it filled
        assert sum(float(f["quantity"]) for f in order["fills"]) == float(order["filled_quantity"])
    working = [o for o in orders if o["state"] in ("new", "submitted", "accepted")]
    assert working == []  # canceled at the stop
    book = json.loads(cift("trade", "positions", "--account", "paper-1", "--json"))
    net: dict[str, float] = {}
    for order in orders:
        done = order["side"] * float(order["filled_quantity"])
        net[order["symbol"]] = net.get(order["symbol"], 0.0) + done
    assert {p["symbol"]: float(p["quantity"]) for p in book["positions"]} == net
    report = json.loads(cift("trade", "parity", run["id"], "--json"))
    assert report["unexplained"] == 0
    assert report["live_orders"] == run["orders"]
    assert "No unexplained difference" in cift("trade", "parity", run["id"])


def test_halt_reset_and_mistakes(home: Path) -> None:
    assert "paper-1" in cift(
        "trade",
        "run",
        "--account",
        "paper-1",
        "--strategy",
        "sma_cross",
        "--symbols",
        "AAA",
        "--speed",
        "1200",
        "--duration",
        "2s",  # long enough for a first bar: the order below is valued at its price
    )
    placed = json.loads(
        cift("trade", "order", "--account", "paper-1", "--symbol", "AAA", "--side", "buy",
             "--quantity", "2", "--signal", "by-hand", "--json")
    )  # fmt: skip
    assert (placed["state"], placed["quantity"]) == ("new", "2"), placed  # for the next session
    withdrawn = json.loads(cift("trade", "cancel", placed["id"], "--account", "paper-1", "--json"))
    assert (withdrawn["state"], withdrawn["reason"]) == ("rejected", "withdrawn before it was sent")
    assert "--side 'hold'" in cift(
        "trade", "order", "--account", "paper-1", "--symbol", "AAA", "--side", "hold",
        "--quantity", "1", code=2,
    )  # fmt: skip
    assert "Halted paper-1" in cift("trade", "halt", "--account", "paper-1", "--reason", "test")
    refused = json.loads(
        cift("trade", "order", "--account", "paper-1", "--symbol", "AAA", "--side", "buy",
             "--quantity", "1", "--json")
    )  # fmt: skip
    assert refused["reason"] == "halted: Trading is halted: test"
    assert "Lifted 1 halt" in cift("trade", "reset", "--account", "paper-1")
    assert "Name one --account" in cift("trade", "halt", "--reason", "x", code=2)
    assert "No trading account named 'nope'" in cift("trade", "orders", "--account", "nope", code=1)
    assert "Name --account, --strategy" in cift("trade", "run", "--account", "paper-1", code=2)
    assert "is not a run id" in cift("trade", "parity", "x", code=2)
    (first,) = json.loads(cift("trade", "runs", "--json"))
    assert "soon" in cift(
        "trade", "run", "--account", "paper-1", "--strategy", "sma_cross", "--symbols", "AAA",
        "--duration", "soon", code=2,
    )  # fmt: skip
    assert json.loads(cift("trade", "runs", "--json")) == [first]  # no run was started


def test_an_order_replaced_by_hand_is_sent_by_the_next_session(home: Path) -> None:
    session = ("--speed", "1200", "--duration", "1s", "--keep-open")
    cift("trade", "run", "--account", "paper-1", "--strategy", "sma_cross", "--symbols", "AAA",
         "--param", "fast=50", "--param", "slow=100", *session)  # fmt: skip
    (run,) = json.loads(cift("trade", "runs", "--json"))
    far = json.loads(
        cift("trade", "order", "--account", "paper-1", "--symbol", "AAA", "--side", "buy",
             "--quantity", "2", "--limit", "1", "--json")
    )  # fmt: skip
    assert "only a working order" in cift(
        "trade", "replace", far["id"], "--account", "paper-1", "--limit", "2", code=1
    )
    assert "name what to change" in cift("trade", "replace", far["id"], "--account", "paper-1",
                                         code=2)  # fmt: skip
    cift("trade", "run", "--resume", run["id"], *session)  # sends it; it rests below the market
    made = json.loads(
        cift("trade", "replace", far["id"], "--account", "paper-1", "--limit", "1.5",
             "--quantity", "3", "--json")
    )  # fmt: skip
    assert (made["state"], made["replaces_id"], made["quantity"]) == ("new", far["id"], "3")
    cift("trade", "run", "--resume", run["id"], *session)
    orders = {o["id"]: o for o in json.loads(cift("trade", "orders", "--account", "paper-1",
                                                  "--json"))}  # fmt: skip
    assert orders[far["id"]]["state"] == "replaced"
    assert (orders[made["id"]]["state"], orders[made["id"]]["limit_price"]) == ("accepted", "1.5")
