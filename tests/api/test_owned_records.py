"""Accounts, model configurations and alert rules over HTTP, on SQLite and PostgreSQL:
each user sees and changes only their own, bad input is a 422 that stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cift.db.models import AuditEntry, ModelConfiguration, Role, TradingAccount
from tests.api.conftest import auth_headers

ACCOUNTS, MODELS, ALERTS = "/api/v1/accounts", "/api/v1/models", "/api/v1/alerts"
MODEL: dict[str, Any] = {
    "name": "trend",
    "model_type": "lightgbm_classifier",
    "features": ["rsi(14)", "macd(12,26,9)"],
    "timeframe": "5Min",
    "label": {"kind": "triple_barrier", "horizon": 20, "profit_taking": 2, "stop_loss": 1},
    "hyperparameters": {"num_leaves": 31, "learning_rate": 0.05},
}


@pytest.fixture
def app(backend_app: FastAPI) -> FastAPI:
    return backend_app


@pytest.fixture
def clients(app: FastAPI) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    """A client, and the headers of two traders, alice and bob."""
    alice = auth_headers(app, "alice", Role.TRADER)
    bob = auth_headers(app, "bob", Role.TRADER)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, alice, bob


def _count(app: FastAPI, model: type[Any]) -> int:
    with app.state.cift.db() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_accounts_are_private_and_hold_exact_cash(app: FastAPI, clients: Any) -> None:
    client, alice, bob = clients
    body = {
        "name": "paper 1",
        "initial_cash": "100000.0000000001",
        "risk_limits": {"max_order_value": "25000", "allowed_symbols": ["NVDA", "BRK.B"]},
    }
    made = client.post(ACCOUNTS, json=body, headers=alice)
    assert made.status_code == 201, made.text
    account = made.json()
    assert Decimal(account["cash"]) == Decimal("100000.0000000001")  # not a binary float
    assert (account["broker"], account["mode"], account["is_active"]) == ("paper", "paper", True)
    assert account["risk_limits"] == {
        "max_order_value": "25000",
        "allowed_symbols": ["NVDA", "BRK.B"],
    }
    url = f"{ACCOUNTS}/{account['id']}"
    assert client.get(url, headers=alice).json()["cash"] == "100000.0000000001"  # as stored

    assert client.post(ACCOUNTS, json=body, headers=alice).status_code == 409  # same name
    assert client.post(ACCOUNTS, json=body, headers=bob).status_code == 201  # bob's own
    assert [a["name"] for a in client.get(ACCOUNTS, headers=bob).json()] == ["paper 1"]
    assert len(client.get(ACCOUNTS, headers=alice).json()) == 1
    for method in ("get", "patch", "delete"):
        answer = client.request(method, url, headers=bob, json={"is_active": False})
        assert answer.status_code == 404, (method, answer.text)

    changed = client.patch(url, json={"is_active": False, "risk_limits": {}}, headers=alice)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["is_active"], changed.json()["risk_limits"]) == (False, {})
    assert changed.json()["name"] == "paper 1"  # omitted fields unchanged
    assert client.delete(url, headers=alice).status_code == 200
    assert client.get(url, headers=alice).status_code == 404
    assert _count(app, TradingAccount) == 1  # bob's


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "initial_cash": "0"},
        {"name": "x", "initial_cash": "1e16"},
        {"name": "x", "initial_cash": "NaN"},
        {"name": "x", "initial_cash": "Infinity"},
        {"name": "x", "initial_cash": "1_000"},  # Python's Decimal reads these three
        {"name": "x", "initial_cash": "\u0661\u0660\u0660\u0660"},  # Arabic-Indic 1000
        {"name": "x", "initial_cash": "1e3"},
        {"name": "x", "initial_cash": "1000000000000000"},  # 10^15 is not below 10^15
        {"name": "x", "initial_cash": 1000.5},  # a binary float is no exact amount
        {"name": "x", "initial_cash": True},
        {"name": "x", "initial_cash": "1.00000000001"},  # 11 decimals
        {"name": "x\x00y", "initial_cash": "1"},
        {"name": "   ", "initial_cash": "1"},
        {"name": "x", "initial_cash": "1", "mode": "live"},  # the paper broker is paper only
        {"name": "x", "initial_cash": "1", "broker": "alpaca"},  # no credentials_ref
        {"name": "x", "initial_cash": "1", "broker": "alpaca", "credentials_ref": "sk-abc"},
        {"name": "x", "initial_cash": "1", "base_currency": "usd"},
        {"name": "x", "initial_cash": "1", "risk_limits": {"max_leverage": 3}},
        {"name": "x", "initial_cash": "1", "cash": "5"},
    ],
)
def test_bad_accounts_are_refused_and_not_stored(app: FastAPI, clients: Any, body: Any) -> None:
    client, alice, _ = clients
    answer = client.post(ACCOUNTS, json=body, headers=alice)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert _count(app, TradingAccount) == 0


def test_a_live_account_names_its_secret(clients: Any) -> None:
    client, alice, _ = clients
    body = {
        "name": "live",
        "broker": "alpaca",
        "mode": "live",
        "initial_cash": "5000",
        "credentials_ref": "CIFT_ALPACA_LIVE",
    }
    answer = client.post(ACCOUNTS, json=body, headers=alice)
    assert answer.status_code == 201, answer.text
    assert answer.json()["credentials_ref"] == "CIFT_ALPACA_LIVE"


def test_model_configurations_version_per_name(app: FastAPI, clients: Any) -> None:
    client, alice, bob = clients
    first = client.post(MODELS, json=MODEL, headers=alice).json()
    second = client.post(MODELS, json={**MODEL, "features": ["rsi(14)"]}, headers=alice).json()
    bobs = client.post(MODELS, json=MODEL, headers=bob).json()
    assert (first["version"], second["version"], bobs["version"]) == (1, 2, 1)
    assert first["parameters"]["features"] == {
        "kind": "bars",
        "timeframe": "5m",
        "features": ["rsi(14)", "macd(12,26,9)"],
    }
    spelled = {**MODEL, "features": ["rsi(timeperiod=14)", "macd"], "timeframe": "5m"}
    third = client.post(MODELS, json=spelled, headers=alice).json()
    assert third["feature_set_hash"] == first["feature_set_hash"]  # canonical, defaults filled
    assert first["feature_set_hash"] != second["feature_set_hash"]
    assert first["feature_set_hash"] == bobs["feature_set_hash"]  # same inputs, same hash
    assert first["parameters"]["label"] == {
        **MODEL["label"],
        "volatility_span": 100,
    }  # default kept
    assert first["status"] == "draft"

    listed = client.get(MODELS, params={"name": "trend"}, headers=alice).json()
    assert [m["version"] for m in listed] == [3, 2, 1]
    assert client.get(f"{MODELS}/{first['id']}", headers=bob).status_code == 404
    archived = client.patch(f"{MODELS}/{first['id']}", json={"status": "archived"}, headers=alice)
    assert archived.json()["status"] == "archived"
    assert (
        client.patch(
            f"{MODELS}/{first['id']}", json={"status": "deployed"}, headers=alice
        ).status_code
        == 422
    )  # deployment sets that, not a user
    assert client.delete(f"{MODELS}/{first['id']}", headers=bob).status_code == 404
    assert client.delete(f"{MODELS}/{first['id']}", headers=alice).status_code == 200
    assert _count(app, ModelConfiguration) == 3


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"features": ["no_such_feature(3)"]}, "no_such_feature"),
        ({"features": ["rsi(-1)"]}, "timeperiod"),
        ({"timeframe": "5 fortnights"}, "timeframe"),
        ({"label": {"kind": "triple_barrier", "horizon": 5}}, "profit_taking"),
        ({"model_type": "gpt"}, "model_type"),
        ({"hyperparameters": {"bad key": 1}}, "hyperparameters"),
        ({"hyperparameters": {"learning_rate": float("nan")}}, "learning_rate"),
        ({"hyperparameters": {"learning_rate": float("inf")}}, "learning_rate"),
        ({"features": ["rsi(1e400)"]}, "finite"),
        ({"features": ["rsi(inf)"]}, "rsi"),
    ],
)
def test_bad_model_configurations_say_why(
    app: FastAPI, clients: Any, change: dict[str, Any], says: str
) -> None:
    client, alice, _ = clients
    body = json.dumps({**MODEL, **change})  # NaN and Infinity as a careless client sends them
    answer = client.post(
        MODELS, content=body, headers={**alice, "Content-Type": "application/json"}
    )
    assert answer.status_code in (400, 422), answer.text
    assert says in answer.text
    assert _count(app, ModelConfiguration) == 0


def test_alert_rules_are_private_and_cannot_borrow_an_account(app: FastAPI, clients: Any) -> None:
    client, alice, bob = clients
    bobs_account = client.post(
        ACCOUNTS, json={"name": "b", "initial_cash": "10"}, headers=bob
    ).json()
    rule = {
        "name": "breakout",
        "symbol": "NVDA",
        "condition": {"kind": "price_above", "price": 150},
    }
    borrowed = {**rule, "trading_account_id": bobs_account["id"]}
    assert client.post(ALERTS, json=borrowed, headers=alice).status_code == 404

    made = client.post(ALERTS, json=rule, headers=alice)
    assert made.status_code == 201, made.text
    alert = made.json()
    assert alert["condition"] == {
        "kind": "price_above",
        "price": 150.0,
        "source": "bars",
        "timeframe": "1m",
    }
    assert (alert["kind"], alert["status"], alert["trigger_count"]) == ("price_above", "active", 0)
    url = f"{ALERTS}/{alert['id']}"
    assert client.get(url, headers=bob).status_code == 404
    assert client.get(ALERTS, headers=bob).json() == []
    off = client.patch(url, json={"status": "disabled"}, headers=alice).json()
    assert off["status"] == "disabled"
    assert client.patch(url, json={"status": "triggered"}, headers=alice).status_code == 422
    assert client.delete(url, headers=bob).status_code == 404
    assert client.delete(url, headers=alice).status_code == 200
    assert client.get(ALERTS, headers=alice).json() == []


def test_changes_are_audited_with_their_target(app: FastAPI, clients: Any) -> None:
    client, alice, bob = clients
    account = client.post(ACCOUNTS, json={"name": "a", "initial_cash": "1"}, headers=alice).json()
    client.delete(f"{ACCOUNTS}/{account['id']}", headers=bob)
    with app.state.cift.db() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.target_type == "accounts"))
        seen = [(r.action, r.actor.split()[0], r.outcome.value, r.target_id) for r in rows]
    assert ("POST /api/v1/accounts", "alice", "success", account["id"]) in seen
    assert (
        "DELETE /api/v1/accounts/{account_id}",
        "bob",
        "failure",
        account["id"],
    ) in seen


def test_closing_an_account_removes_its_alert_rules(clients: Any) -> None:
    client, alice, _ = clients
    account = client.post(ACCOUNTS, json={"name": "a", "initial_cash": "1"}, headers=alice).json()
    rule = {"name": "r", "symbol": "NVDA", "condition": {"kind": "price_below", "price": 1}}
    tied = client.post(ALERTS, json={**rule, "trading_account_id": account["id"]}, headers=alice)
    free = client.post(ALERTS, json=rule, headers=alice)
    assert tied.status_code == free.status_code == 201
    assert client.delete(f"{ACCOUNTS}/{account['id']}", headers=alice).status_code == 200
    left = [a["id"] for a in client.get(ALERTS, headers=alice).json()]
    assert left == [free.json()["id"]]
