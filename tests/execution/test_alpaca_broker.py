"""The Alpaca broker against a local server speaking Alpaca's trading wire format: orders
through the OMS into the ledger equal the server's, asked twice but placed once, fills
booked once however the stream repeats, reorders or drops them, and refused keys,
rate limits and lost answers handled as Alpaca documents them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.audit.chain import Actor
from cift.core.errors import BrokerError, ConfigurationError
from cift.core.settings import Settings
from cift.db.models import AccountMode, AuditEntry, BrokerKind, Role, TradingAccount
from cift.db.models.ledger import LedgerOrder, LedgerOrderType, OrderState
from cift.execution.accounts import AccountSpec, open_account
from cift.execution.brokers.alpaca.broker import AlpacaBroker
from cift.execution.brokers.alpaca.factories import create_broker
from cift.execution.oms import OrderManager
from cift.execution.reconcile import ADJUST, reconcile
from cift.execution.recovery import recover
from cift.execution.requests import OrderChange, OrderRequest
from tests.execution.alpaca_server import KEY_ID, SECRET, AlpacaServer
from tests.execution.ledgers import assert_consistent, ledger
from tests.security.conftest import make_user

Sessions = sessionmaker[Session]
CREDENTIALS = "CIFT_TEST_ALPACA_PAPER"


@pytest.fixture
def server(any_db: Sessions, alpaca_account: TradingAccount) -> Iterator[AlpacaServer]:
    """The local Alpaca; after the test, the invariants of reconciliation hold: no order
    sent twice, every execution at the broker booked exactly once, the ledger's
    positions equal to the broker's."""
    with AlpacaServer() as running:
        yield running
    assert len(running.posted) == len(set(running.posted))
    executed: dict[str, Decimal] = {}
    for execution in running.executions:
        client = execution["client"]
        executed[client] = executed.get(client, Decimal(0)) + execution["qty"]
    with any_db() as session:
        rows = session.scalars(
            select(LedgerOrder).where(LedgerOrder.account_id == alpaca_account.id)
        )
        booked = {o.client_order_id: o.filled_quantity for o in rows if o.filled_quantity}
    assert booked == executed
    held = {s: q for s, q in ledger(any_db, alpaca_account.id)["positions"].items() if q}
    assert held == {s: q for s, q in running.positions.items() if q}


@pytest.fixture
def alpaca_account(
    any_db: Sessions, any_db_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> TradingAccount:
    monkeypatch.setenv(CREDENTIALS, f"{KEY_ID}:{SECRET}")
    owner = make_user(any_db, any_db_settings, "trader", Role.TRADER)
    spec = AccountSpec(
        name="alpaca-paper",
        broker=BrokerKind.ALPACA,
        mode=AccountMode.PAPER,
        initial_cash=Decimal(100_000),
        credentials_ref=CREDENTIALS,
    )
    return open_account(any_db, owner.id, spec)


def broker_for(settings: Settings, account: TradingAccount, server: AlpacaServer) -> AlpacaBroker:
    return create_broker(settings, account, base_url=server.url, max_retries=3, backoff=0.01)


@pytest.fixture
def trading(
    any_db: Sessions,
    any_db_settings: Settings,
    alpaca_account: TradingAccount,
    server: AlpacaServer,
) -> Iterator[tuple[AlpacaBroker, OrderManager]]:
    """The account's Alpaca broker (its stream listening) and an OMS on it, AAPL at 185."""
    broker = broker_for(any_db_settings, alpaca_account, server)
    oms = OrderManager(any_db, alpaca_account.id, broker)
    oms.marks["AAPL"] = Decimal(185)
    yield broker, oms
    broker.close()


def settle(oms: OrderManager, until: object, seconds: float = 5.0) -> None:
    """Process the broker's events until ``until()`` holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        oms.process()
        if until():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("the broker's events did not arrive in time")


def buy(quantity: int, signal: str, **extra: object) -> OrderRequest:
    return OrderRequest(
        symbol="AAPL", side=1, quantity=Decimal(quantity), signal_id=signal, **extra
    )  # type: ignore[arg-type]


def test_orders_fill_and_the_ledger_equals_the_server(
    any_db: Sessions,
    alpaca_account: TradingAccount,
    server: AlpacaServer,
    trading: tuple[AlpacaBroker, OrderManager],
) -> None:
    server.fill_step = Decimal(4)  # partial fills
    _, oms = trading
    order = oms.submit(buy(10, "s1"))
    assert order.state is OrderState.ACCEPTED
    assert order.broker_order_id == server.by_client[order.client_order_id]
    for price in (185.0, 185.5, 186.0):
        server.price("AAPL", price)
    settle(oms, lambda: ledger(any_db, alpaca_account.id)["positions"].get("AAPL") == 10)
    state = assert_consistent(any_db, alpaca_account.id)
    fills = sorted((f.quantity, f.price) for f in state["fills"])
    assert fills == sorted((e["qty"], e["price"]) for e in server.executions)
    assert state["positions"] == server.positions
    assert oms.submit(buy(10, "s1")).id == order.id  # the same signal: nothing new
    assert server.posted == [order.client_order_id]


def test_a_lost_answer_and_server_errors_place_the_order_once(
    any_db: Sessions,
    alpaca_account: TradingAccount,
    server: AlpacaServer,
    trading: tuple[AlpacaBroker, OrderManager],
) -> None:
    broker, oms = trading
    server.faults.lose_answer = 1  # taken, answered 502: retried under the same id -> 422
    first = oms.submit(buy(3, "lost"))
    assert first.state is OrderState.ACCEPTED
    server.faults.http_500, server.faults.http_429 = 2, 1
    second = oms.submit(buy(2, "flaky"))
    assert second.state is OrderState.ACCEPTED
    assert server.posted == [first.client_order_id, second.client_order_id]
    assert server.faults.injected == {"lose_answer": 1, "http_500": 2, "http_429": 1}

    server.faults.http_500 = 10  # beyond the retries: the fate is unknown, nothing is lost
    third = oms.submit(buy(1, "down"))
    assert third.state is OrderState.NEW
    server.faults.http_500 = 0
    restarted = OrderManager(any_db, alpaca_account.id, broker)
    assert recover(restarted).resent == [third.client_order_id]
    assert server.posted[-1] == third.client_order_id
    assert len(server.posted) == 3


def test_the_stream_repeating_holding_back_and_losing_fills_books_each_once(
    any_db: Sessions,
    alpaca_account: TradingAccount,
    server: AlpacaServer,
    trading: tuple[AlpacaBroker, OrderManager],
) -> None:
    server.fill_step = Decimal(2)
    _, oms = trading
    order = oms.submit(buy(8, "s1"))
    server.faults.duplicate_events, server.faults.hold_events = 1, 1
    server.faults.drop_events = 1
    for price in (185.0, 185.2, 185.4, 185.6):
        server.price("AAPL", price)
    held = server.orders[server.by_client[order.client_order_id]]
    assert held["status"] == "filled"
    settle(oms, lambda: ledger(any_db, alpaca_account.id)["positions"].get("AAPL") == 8)
    state = assert_consistent(any_db, alpaca_account.id)
    assert sum(f.quantity for f in state["fills"]) == 8
    booked = sum(f.quantity * f.price for f in state["fills"]) / 8
    assert booked == pytest.approx(Decimal(held["filled_avg_price"]), abs=Decimal("1e-9"))


def test_cancel_and_replace(
    any_db: Sessions,
    alpaca_account: TradingAccount,
    server: AlpacaServer,
    trading: tuple[AlpacaBroker, OrderManager],
) -> None:
    _, oms = trading
    limit = {"order_type": LedgerOrderType.LIMIT, "limit_price": Decimal(180)}
    working = oms.submit(buy(5, "w", **limit))
    new = oms.replace(str(working.id), OrderChange(limit_price=Decimal(181), quantity=Decimal(6)))
    assert new.state is OrderState.ACCEPTED
    old_at_server = server.orders[server.by_client[working.client_order_id]]
    assert old_at_server["status"] == "replaced"
    assert server.orders[new.broker_order_id]["replaces"] == old_at_server["id"]  # type: ignore[index]
    oms.cancel(new.client_order_id)
    settle(oms, lambda: _state(any_db, new.id) is OrderState.CANCELED)
    assert _state(any_db, working.id) is OrderState.REPLACED


def _state(db: Sessions, order_id: object) -> OrderState:
    with db() as session:
        row = session.get(LedgerOrder, order_id)
        assert row is not None
        return row.state


def test_refused_keys_stop_trading(
    any_db_settings: Settings,
    alpaca_account: TradingAccount,
    server: AlpacaServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(CREDENTIALS, f"{KEY_ID}:wrong")
    with pytest.raises(ConfigurationError, match="refused the account's keys"):
        broker_for(any_db_settings, alpaca_account, server)
    rest = create_broker(any_db_settings, alpaca_account, base_url=server.url, stream=False)
    with pytest.raises(ConfigurationError, match=r"HTTP 401") as refused:
        rest.positions()
    rest.close()
    assert "wrong" not in str(refused.value)
    monkeypatch.delenv(CREDENTIALS)
    with pytest.raises(ConfigurationError, match=f"set the environment variable {CREDENTIALS}"):
        broker_for(any_db_settings, alpaca_account, server)
    monkeypatch.setenv(CREDENTIALS, f"{KEY_ID}:{SECRET}")
    gone = create_broker(any_db_settings, alpaca_account, base_url="http://127.0.0.1:9",
                         stream=False, max_retries=1, backoff=0.01)  # fmt: skip
    with pytest.raises(BrokerError, match="Alpaca"):
        gone.cash()
    gone.close()


def test_reconciliation_books_missed_fills_flags_strangers_and_adjusts_positions(
    any_db: Sessions,
    alpaca_account: TradingAccount,
    server: AlpacaServer,
    trading: tuple[AlpacaBroker, OrderManager],
) -> None:
    broker, oms = trading
    server.price("AAPL", 185.0)
    server.faults.drop_events = 2  # "new" and "fill": the stream says nothing of it
    order = oms.submit(buy(5, "quiet"))
    assert order.state is OrderState.ACCEPTED
    time.sleep(0.3)
    oms.process()
    assert ledger(any_db, alpaca_account.id)["fills"] == []
    stranger = server.place(
        {"symbol": "MSFT", "qty": "1", "side": "buy", "type": "limit", "time_in_force": "day",
         "limit_price": "1", "client_order_id": "by-hand"}
    )  # fmt: skip
    server.positions["TSLA"] = Decimal(3)  # a position CIFT never traded

    actor = Actor(None, "tests")
    found = reconcile(oms, broker, actor)
    assert (found.fills_booked, found.caught_up) == (1, [order.client_order_id])
    assert found.unknown_orders == [stranger["client_order_id"]]
    assert found.positions == {"TSLA": (Decimal(0), Decimal(3))}
    assert found.adjusted == ["TSLA"]
    state = ledger(any_db, alpaca_account.id)
    assert state["positions"] == server.positions
    with any_db() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == ADJUST))
        assert entry.details == {"symbol": "TSLA", "ledger": "0", "broker": "3"}
    again = reconcile(oms, broker, actor)
    assert again.unknown_orders == ["by-hand"]
    assert (again.fills_booked, again.positions, again.caught_up) == (0, {}, [])


def test_a_stream_that_reconnects_is_noticed_so_what_it_missed_is_reconciled(
    any_db: Sessions,
    alpaca_account: TradingAccount,
    server: AlpacaServer,
    trading: tuple[AlpacaBroker, OrderManager],
) -> None:
    broker, oms = trading
    order = oms.submit(buy(5, "rests", order_type=LedgerOrderType.LIMIT, limit_price=Decimal(180)))
    assert not broker.reconnected()
    server.faults.drop_events = 1
    server.price("AAPL", 179.5)  # fills while the news is lost
    server.drop_streams()
    assert broker.stream is not None
    deadline = time.monotonic() + 10
    while broker.stream.connections < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broker.reconnected()
    assert not broker.reconnected()  # noticed once
    oms.process()
    assert _state(any_db, order.id) is OrderState.ACCEPTED
    found = reconcile(oms, broker, Actor(None, "tests"))
    assert found.counts() == {"missed_fill": 1, "order_behind": 1, "not_at_broker": 0,
                              "unknown_order": 0, "position": 0}  # fmt: skip
    assert _state(any_db, order.id) is OrderState.FILLED


def test_clock_and_calendar_in_utc_with_early_closes(
    any_db_settings: Settings, alpaca_account: TradingAccount, server: AlpacaServer
) -> None:
    broker = create_broker(any_db_settings, alpaca_account, base_url=server.url, stream=False)
    days = broker.calendar(date(2024, 7, 1), date(2024, 7, 5))
    assert [d.day.isoformat() for d in days] == [
        "2024-07-01",
        "2024-07-02",
        "2024-07-03",
        "2024-07-05",
    ]
    early = days[2]  # the day before Independence Day closes at 13:00 New York, 17:00 UTC
    assert (early.open.isoformat(), early.close.isoformat()) == (
        "2024-07-03T13:30:00+00:00",
        "2024-07-03T17:00:00+00:00",
    )
    clock = broker.clock()
    assert clock.at.tzinfo is not None
    assert clock.next_close > clock.at
    assert clock.next_open > clock.at or clock.is_open
    broker.close()
