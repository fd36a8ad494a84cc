"""Alert rules checked against a real embedded store, on SQLite and PostgreSQL: what fires
is what the stored prices say, once per newer observation, after the cooldown."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import NotFoundError
from cift.core.settings import Settings
from cift.data.aggregate import trades_to_bars
from cift.data.store import MarketStore, open_store
from cift.db.models import AlertStatus, Role
from cift.execution import alerts
from cift.execution.accounts import AccountSpec, open_account
from cift.model import DataKind, Timeframe
from tests.data.marketdata import random_trades
from tests.security.conftest import make_user

MINUTE = Timeframe.parse("1m")
Sessions = sessionmaker[Session]


@pytest.fixture
def store(any_db_settings: Settings) -> Iterator[MarketStore]:
    market = open_store(any_db_settings)
    yield market
    market.close()


@pytest.fixture
def owners(any_db: Sessions, any_db_settings: Settings) -> tuple[uuid.UUID, uuid.UUID]:
    alice = make_user(any_db, any_db_settings, "alice", Role.TRADER)
    bob = make_user(any_db, any_db_settings, "bob", Role.TRADER)
    return alice.id, bob.id


def _store(store: MarketStore, trades: pl.DataFrame) -> None:
    store.write(DataKind.TRADES, trades)
    store.write(DataKind.BARS, trades_to_bars(trades.lazy(), MINUTE).collect(), timeframe=MINUTE)


def _last(trades: pl.DataFrame, symbol: str) -> tuple[float, datetime]:
    """The last trade of ``symbol`` (price, time), read straight off the frame."""
    row = trades.filter(pl.col("symbol") == symbol).sort("ts", "trade_id").row(-1, named=True)
    return float(row["price"]), row["ts"]


def _rule(db: Sessions, owner: uuid.UUID, symbol: str, **condition: Any) -> uuid.UUID:
    spec = alerts.AlertSpec.model_validate(
        {"name": f"{symbol} {condition}", "symbol": symbol, "condition": condition}
        | ({"cooldown_seconds": 0} if condition.pop("no_cooldown", False) else {})
    )
    return alerts.create_alert(db, owner, spec).id


def test_rules_fire_on_the_newest_stored_price(
    any_db: Sessions, store: MarketStore, owners: tuple[uuid.UUID, uuid.UUID]
) -> None:
    alice, bob = owners
    trades = random_trades(4000, ["NVDA", "AMD"], seed=7)
    _store(store, trades)
    nvda, nvda_at = _last(trades, "NVDA")
    amd, amd_at = _last(trades, "AMD")
    minute_end = nvda_at - timedelta(microseconds=nvda_at.microsecond, seconds=nvda_at.second)
    minute_end += timedelta(minutes=1)

    above = _rule(any_db, alice, "NVDA", kind="price_above", price=nvda - 0.01)
    _rule(any_db, alice, "NVDA", kind="price_below", price=nvda - 0.01)  # does not hold
    below = _rule(any_db, bob, "AMD", kind="price_below", price=amd + 0.01, source="trades")
    quiet = _rule(any_db, bob, "AMD", kind="price_below", price=amd + 0.01)
    alerts.change_alert(any_db, quiet, bob, alerts.AlertChanges(status=AlertStatus.DISABLED))
    _rule(any_db, bob, "MSFT", kind="price_above", price=1)  # nothing stored

    fired = {f.alert_id: f for f in alerts.check_alerts(any_db, store)}
    assert set(fired) == {above, below}
    assert (fired[above].price, fired[above].observed_at) == (nvda, minute_end)  # bar close
    assert (fired[below].price, fired[below].observed_at) == (amd, amd_at)  # last trade
    assert fired[below].user_id == bob
    rule = alerts.alert_rules(any_db).get(above, alice)
    assert (rule.status, rule.trigger_count, rule.last_observed_at) == (
        AlertStatus.TRIGGERED,
        1,
        minute_end,
    )
    assert alerts.alert_rules(any_db).get(quiet, bob).trigger_count == 0


def test_a_rule_fires_again_only_on_a_newer_price_after_its_cooldown(
    any_db: Sessions, store: MarketStore, owners: tuple[uuid.UUID, uuid.UUID]
) -> None:
    alice, _ = owners
    trades = random_trades(500, ["NVDA"], seed=3)
    _store(store, trades)
    eager = _rule(any_db, alice, "NVDA", kind="price_above", price=0.5, no_cooldown=True)
    patient = _rule(any_db, alice, "NVDA", kind="price_above", price=0.5)  # 300 s
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert {f.alert_id for f in alerts.check_alerts(any_db, store, now)} == {eager, patient}
    assert alerts.check_alerts(any_db, store, now + timedelta(minutes=1)) == []  # same price

    start = int(trades["ts"].max().timestamp() * 1e9) + 60_000_000_000
    newer = random_trades(50, ["NVDA"], seed=4, start=start)
    _store(store, newer.with_columns(pl.format("n{}", "trade_id").alias("trade_id")))

    def fired_at(minutes: int) -> set[uuid.UUID]:
        moment = now + timedelta(minutes=minutes)
        return {f.alert_id for f in alerts.check_alerts(any_db, store, moment)}

    assert fired_at(1) == {eager}  # patient cools down until minute 5
    assert fired_at(5) == {patient}  # eager already fired on this observation
    newest = newer.with_columns(
        pl.col("ts") + pl.duration(hours=1), pl.format("m{}", "trade_id").alias("trade_id")
    )
    _store(store, newest)
    assert fired_at(6) == {eager}  # patient cools down until minute 10
    assert fired_at(10) == {patient}
    counts = [alerts.alert_rules(any_db).get(r, alice).trigger_count for r in (eager, patient)]
    assert counts == [3, 3]


def test_a_rule_cannot_name_another_users_account(
    any_db: Sessions, owners: tuple[uuid.UUID, uuid.UUID]
) -> None:
    alice, bob = owners
    bobs = open_account(any_db, bob, AccountSpec(name="b", initial_cash=Decimal(1)))
    spec = alerts.AlertSpec.model_validate(
        {
            "name": "x",
            "symbol": "NVDA",
            "condition": {"kind": "price_above", "price": 1},
            "trading_account_id": str(bobs.id),
        }
    )
    with pytest.raises(NotFoundError, match="No trading account"):
        alerts.create_alert(any_db, alice, spec)
    assert alerts.alert_rules(any_db).list(alice) == []
    assert alerts.create_alert(any_db, bob, spec).trading_account_id == bobs.id
