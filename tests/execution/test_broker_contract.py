"""The contract every broker keeps, run against each one: the paper broker, and Alpaca
through a local server speaking its trading wire format (REST and the trade_updates
stream).

An order is accepted once under its client order id however often it is sent; a working
order can be canceled or replaced and says so; a marketable order fills and ``find``
lists its fills; an order the broker never received is not found."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from cift.backtest.config import BacktestConfig
from cift.core.settings import Settings
from cift.db.models import AccountMode, BrokerKind, TradingAccount
from cift.db.models.ledger import LedgerOrderType, LedgerTimeInForce, OrderState
from cift.execution.brokers.alpaca.factories import create_broker
from cift.execution.brokers.base import Broker, BrokerEvent, BrokerEventKind, BrokerOrder
from cift.execution.brokers.paper import PaperBroker
from tests.execution.alpaca_server import KEY_ID, SECRET, AlpacaServer

MINUTE_NS = 60_000_000_000
CREDENTIALS = "CIFT_TEST_ALPACA_CONTRACT"
SettingsFactory = Callable[..., Settings]


@dataclass
class Venue:
    """A broker, a way to move the market, and the events heard so far."""

    broker: Broker
    move: Callable[[float], None]
    heard: list[BrokerEvent] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def order(self, quantity: int = 5, limit: float | None = None, side: int = 1) -> BrokerOrder:
        return BrokerOrder(
            client_order_id=f"contract-{next(self.ids)}-{time.time_ns()}",
            symbol="AAPL",
            side=side,
            quantity=Decimal(quantity),
            order_type=LedgerOrderType.MARKET if limit is None else LedgerOrderType.LIMIT,
            time_in_force=LedgerTimeInForce.DAY,
            limit_price=None if limit is None else Decimal(str(limit)),
        )

    def hear(self, wanted: Callable[[list[BrokerEvent]], bool], seconds: float = 5.0) -> None:
        """Collect the broker's events until ``wanted`` holds for them."""
        deadline = time.monotonic() + seconds
        while True:
            self.heard.extend(self.broker.events())
            if wanted(self.heard):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"events did not arrive: {self.heard}")
            time.sleep(0.02)

    def of(self, client_order_id: str, kind: BrokerEventKind) -> list[BrokerEvent]:
        return [e for e in self.heard if e.client_order_id == client_order_id and e.kind is kind]


@pytest.fixture(params=["paper", "alpaca"])
def venue(
    request: pytest.FixtureRequest,
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Venue]:
    if request.param == "paper":
        paper = PaperBroker(["AAPL"], BacktestConfig(), cash=1_000_000.0)
        clock = itertools.count(1)

        def bar(price: float) -> None:
            ts = next(clock) * MINUTE_NS
            paper.on_bar("AAPL", ts, ts + MINUTE_NS, (price, price, price, price, 1e6))

        bar(185.0)
        yield Venue(paper, bar)
        paper.close()
        return
    monkeypatch.setenv(CREDENTIALS, f"{KEY_ID}:{SECRET}")
    account = TradingAccount(
        name="contract",
        broker=BrokerKind.ALPACA,
        mode=AccountMode.PAPER,
        credentials_ref=CREDENTIALS,
    )
    with AlpacaServer() as server:
        server.price("AAPL", 185.0)
        alpaca = create_broker(
            make_settings(), account, base_url=server.url, max_retries=3, backoff=0.01
        )
        yield Venue(alpaca, lambda price: server.price("AAPL", price))
        alpaca.close()


def test_an_order_is_accepted_once_under_its_client_id(venue: Venue) -> None:
    order = venue.order(limit=100.0)  # far below the market: it works
    first = venue.broker.submit(order)
    assert first.kind is BrokerEventKind.ACCEPTED
    assert first.broker_order_id
    again = venue.broker.submit(order)
    assert (again.kind, again.broker_order_id) == (BrokerEventKind.ACCEPTED, first.broker_order_id)
    status = venue.broker.find(order.client_order_id)
    assert status is not None
    assert status.broker_order_id == first.broker_order_id
    assert status.state is OrderState.ACCEPTED
    assert status.fills == []


def test_a_working_order_is_canceled_and_says_so(venue: Venue) -> None:
    order = venue.order(limit=100.0)
    venue.broker.submit(order)
    venue.broker.cancel(order.client_order_id)
    venue.move(185.5)  # the paper broker acts on the next market event
    venue.hear(lambda _: bool(venue.of(order.client_order_id, BrokerEventKind.CANCELED)))
    status = venue.broker.find(order.client_order_id)
    assert status is not None
    assert status.state is OrderState.CANCELED


def test_a_working_order_is_replaced(venue: Venue) -> None:
    old = venue.order(limit=100.0)
    venue.broker.submit(old)
    new = venue.order(quantity=7, limit=101.0)
    answer = venue.broker.replace(old.client_order_id, new)
    assert answer.kind is BrokerEventKind.ACCEPTED
    assert answer.client_order_id == new.client_order_id
    venue.move(185.5)
    venue.hear(lambda _: bool(venue.of(old.client_order_id, BrokerEventKind.REPLACED)))
    status = venue.broker.find(new.client_order_id)
    assert status is not None
    assert status.state is OrderState.ACCEPTED


def test_a_marketable_order_fills_and_find_lists_its_fills(venue: Venue) -> None:
    order = venue.order(quantity=5)
    assert venue.broker.submit(order).kind is BrokerEventKind.ACCEPTED
    venue.move(186.0)

    def filled(_: list[BrokerEvent]) -> bool:
        fills = venue.of(order.client_order_id, BrokerEventKind.FILL)
        return sum((e.fill.quantity for e in fills if e.fill), Decimal(0)) == 5

    venue.hear(filled)
    status = venue.broker.find(order.client_order_id)
    assert status is not None
    assert status.state is OrderState.FILLED
    assert sum(f.quantity for f in status.fills) == 5


def test_an_order_never_received_is_not_found(venue: Venue) -> None:
    assert venue.broker.find("contract-never-sent") is None
