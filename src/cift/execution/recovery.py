"""After a restart: make the ledger and the broker agree before trading goes on.

For each order the ledger holds open, the broker is asked by client order id. One it
holds is reconciled: the fills it made while we were down are booked (each once, by
fill id) and its closing state is caught up. One it never got is sent again under the
same id; a cancel or a replacement asked of an order the broker no longer knows is
taken as done. Orders are taken oldest first, so an order being replaced is settled
before its replacement is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cift.db.engine import transaction
from cift.db.models.ledger import OrderState
from cift.execution.brokers.base import BrokerOrderStatus
from cift.execution.ledger import book_fill, open_orders, order_by_client, record
from cift.execution.oms import OrderManager
from cift.execution.state import OrderEventKind

_FINAL_EVENTS = {
    OrderState.CANCELED: OrderEventKind.CANCEL,
    OrderState.EXPIRED: OrderEventKind.EXPIRE,
    OrderState.REPLACED: OrderEventKind.REPLACE,
}
_GONE_WHEN_UNKNOWN = {
    OrderState.PENDING_CANCEL: OrderEventKind.CANCEL,
    OrderState.PENDING_REPLACE: OrderEventKind.REPLACE,
}
"""A request the broker cannot act on any more, because it does not hold the order."""


@dataclass
class Recovery:
    """What :func:`recover` found and did."""

    resent: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    fills_booked: int = 0


def catch_up(oms: OrderManager, status: BrokerOrderStatus) -> int:
    """Bring the ledger's order to the broker's view of it: sent and accepted if the
    ledger never heard, the fills it misses booked, its closing state recorded; how many
    fills were booked."""
    booked = 0
    with transaction(oms.db) as session:
        row = order_by_client(session, status.client_order_id)
        assert row is not None
        if row.state is OrderState.NEW:
            record(session, row, OrderEventKind.SUBMIT, oms.clock())
            record(session, row, OrderEventKind.ACCEPT, oms.clock())
            row.broker_order_id = status.broker_order_id
        for fill in status.fills:
            if book_fill(session, row, fill) is not None:
                booked += 1
        final = _FINAL_EVENTS.get(status.state)
        if final is not None and row.state.is_open:
            if final is OrderEventKind.REPLACE and row.state is not OrderState.PENDING_REPLACE:
                record(session, row, OrderEventKind.REPLACE_REQUEST, oms.clock())  # not ours
            record(session, row, final, oms.clock(), details={"reason": "reconciled"})
    return booked


def recover(oms: OrderManager) -> Recovery:
    """Book fills the broker made while we were down, catch up closed orders, and send
    what it never received."""
    assert oms.broker is not None
    outcome = Recovery()
    with oms.db() as session:
        orders = open_orders(session, oms.account_id)
    for order in orders:
        status = oms.broker.find(order.client_order_id)
        if status is None:
            if order.state in _GONE_WHEN_UNKNOWN:
                with transaction(oms.db) as session:
                    row = order_by_client(session, order.client_order_id)
                    assert row is not None
                    kind = _GONE_WHEN_UNKNOWN[order.state]
                    record(session, row, kind, oms.clock(), details={"reason": "not at the broker"})
                continue
            sent_before = order.state is not OrderState.NEW
            oms.send(order, filled_before=order.filled_quantity if sent_before else None)
            outcome.resent.append(order.client_order_id)
            continue
        outcome.fills_booked += catch_up(oms, status)
        outcome.reconciled.append(order.client_order_id)
    return outcome
