"""Alert rules on a trading account, on SQLite and PostgreSQL: P&L and drawdown from the
ledger at its last prices, orders the risk checks refused, and differences found by a
reconciliation with the broker (the local Alpaca server); each fires once per news."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cift.audit.chain import Actor
from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.data.store import open_store
from cift.db.base import utcnow
from cift.db.models import AccountMode, BrokerKind, Role, TradingAccount
from cift.db.models.ledger import LedgerPosition
from cift.execution import alerts
from cift.execution.accounts import AccountSpec, RiskLimits, open_account
from cift.execution.brokers.alpaca.factories import create_broker
from cift.execution.oms import OrderManager
from cift.execution.reconcile import reconcile
from cift.model.fields import validated
from tests.execution.alpaca_server import KEY_ID, SECRET, AlpacaServer
from tests.execution.ledgers import buy, feed, paper
from tests.security.conftest import make_user

Sessions = sessionmaker[Session]


def rule(db: Sessions, account: TradingAccount, kind: str, level: float) -> alerts.Alert:
    spec = alerts.AlertSpec.model_validate(
        {"name": kind, "trading_account_id": account.id, "cooldown_seconds": 0,
         "condition": {"kind": kind, "level": level, "window_minutes": 30}}
    )  # fmt: skip
    return alerts.create_alert(db, account.user_id, spec)


def fired(db: Sessions, settings: Settings, **later: Any) -> dict[str, float]:
    store = open_store(settings)
    try:
        now = utcnow() + timedelta(**later) if later else None
        return {f.name: f.price for f in alerts.check_alerts(db, store, now)}
    finally:
        store.close()


def test_pnl_and_drawdown_from_the_ledger_at_its_last_prices(
    any_db: Sessions, any_db_settings: Settings, account: TradingAccount
) -> None:
    broker = paper()
    oms = OrderManager(any_db, account.id, broker)
    feed(oms, broker, 0, {"AAA": 100.0})
    oms.submit(buy(100, "s1"))
    feed(oms, broker, 1, {"AAA": 100.0})  # bought 100 at 100 (commission 5 bps: 5.0)
    rule(any_db, account, "pnl_below", -50)
    rule(any_db, account, "drawdown_above", 0.001)
    assert fired(any_db, any_db_settings) == {}  # -5 of P&L, 0.005% down
    with any_db.begin() as session:  # the ledger's mark falls to 99
        held = session.get(LedgerPosition, (account.id, "AAA"))
        assert held is not None
        held.last_price = Decimal(99)
    seen = fired(any_db, any_db_settings, seconds=1)
    assert seen["pnl_below"] == pytest.approx(-105.0)
    assert seen["drawdown_above"] == pytest.approx(105 / 100_000)


def test_risk_rejections_fire_once_per_new_refusal(
    any_db: Sessions, any_db_settings: Settings, account: TradingAccount
) -> None:
    with any_db.begin() as session:
        row = session.get(TradingAccount, account.id)
        assert row is not None
        row.risk_limits = RiskLimits(max_order_quantity=Decimal(10)).model_dump(mode="json")
    oms = OrderManager(any_db, account.id, None)
    oms.marks["AAA"] = Decimal(100)
    rule(any_db, account, "risk_rejections", 1)
    oms.submit(buy(5, "fine"))
    assert fired(any_db, any_db_settings) == {}
    oms.submit(buy(50, "too-big"))
    assert fired(any_db, any_db_settings) == {"risk_rejections": 1.0}
    assert fired(any_db, any_db_settings, seconds=1) == {}  # no newer refusal
    withdrawn = oms.submit(buy(5, "gone"))
    oms.cancel(withdrawn.client_order_id)  # a withdrawal is no risk refusal
    assert fired(any_db, any_db_settings, seconds=2) == {}
    oms.submit(buy(60, "too-big-again"))
    assert fired(any_db, any_db_settings, seconds=3) == {"risk_rejections": 2.0}


def test_reconciliation_differences_fire(
    any_db: Sessions, any_db_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIFT_TEST_ALPACA_KEYS", f"{KEY_ID}:{SECRET}")
    trader = make_user(any_db, any_db_settings, "trader", Role.TRADER)
    spec = AccountSpec(
        name="alpaca", broker=BrokerKind.ALPACA, mode=AccountMode.PAPER,
        initial_cash=Decimal(100_000), credentials_ref="CIFT_TEST_ALPACA_KEYS",
    )  # fmt: skip
    account = open_account(any_db, trader.id, spec)
    rule(any_db, account, "reconciliation_differences", 1)
    with AlpacaServer() as server:
        broker = create_broker(any_db_settings, account, base_url=server.url, stream=False)
        oms = OrderManager(any_db, account.id, broker)
        assert reconcile(oms, broker, Actor(None, "tests")).clean
        assert fired(any_db, any_db_settings) == {}
        server.positions["TSLA"] = Decimal(3)
        assert not reconcile(oms, broker, Actor(None, "tests")).clean
        broker.close()
    assert fired(any_db, any_db_settings, seconds=1) == {"reconciliation_differences": 1.0}


def test_an_account_rule_names_its_account() -> None:
    with pytest.raises(ValidationError, match="names its trading_account_id"):
        validated(
            alerts.AlertSpec,
            {"name": "x", "condition": {"kind": "pnl_below", "level": -1}},
            "alert rule",
        )
    with pytest.raises(ValidationError, match="names its symbol"):
        validated(
            alerts.AlertSpec,
            {"name": "x", "condition": {"kind": "price_above", "price": 1}},
            "rule",
        )
