"""Alpaca's trading wire format, both ways: our orders as request bodies, its Order
objects and ``trade_updates`` events as broker statuses and events.

Fills are named by the order's cumulative filled quantity at the broker after them
(``<alpaca order id>@<filled_qty>``) and carry that cumulative quantity and average
price, so the ledger books exactly what it has not booked yet, whether it hears of an
execution once, twice, out of order, or only from the order's totals after a missed
event (see :func:`cift.execution.ledger.book_fill`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cift.db.models.ledger import OrderState
from cift.execution.brokers.base import (
    BrokerEvent,
    BrokerEventKind,
    BrokerOrder,
    BrokerOrderStatus,
)
from cift.execution.ledger import FillReport

STATES = {
    "accepted": OrderState.ACCEPTED,
    "pending_new": OrderState.ACCEPTED,
    "accepted_for_bidding": OrderState.ACCEPTED,
    "new": OrderState.ACCEPTED,
    "held": OrderState.ACCEPTED,
    "calculated": OrderState.ACCEPTED,
    "stopped": OrderState.ACCEPTED,
    "suspended": OrderState.ACCEPTED,
    "pending_review": OrderState.ACCEPTED,
    "partially_filled": OrderState.PARTIALLY_FILLED,
    "filled": OrderState.FILLED,
    "pending_cancel": OrderState.PENDING_CANCEL,
    "pending_replace": OrderState.PENDING_REPLACE,
    "canceled": OrderState.CANCELED,
    "expired": OrderState.EXPIRED,
    "done_for_day": OrderState.EXPIRED,
    "replaced": OrderState.REPLACED,
    "rejected": OrderState.REJECTED,
}
"""Alpaca's order statuses as ledger states."""

EVENTS = {
    "new": BrokerEventKind.ACCEPTED,
    "accepted": BrokerEventKind.ACCEPTED,
    "pending_new": BrokerEventKind.ACCEPTED,
    "rejected": BrokerEventKind.REJECTED,
    "canceled": BrokerEventKind.CANCELED,
    "expired": BrokerEventKind.EXPIRED,
    "done_for_day": BrokerEventKind.EXPIRED,
    "replaced": BrokerEventKind.REPLACED,
    "order_replace_rejected": BrokerEventKind.REPLACE_REJECTED,
    "order_cancel_rejected": BrokerEventKind.CANCEL_REJECTED,
    "fill": BrokerEventKind.FILL,
    "partial_fill": BrokerEventKind.FILL,
}
"""The ``trade_updates`` events that move an order; the rest (pending_cancel, ...)
echo a request of ours and change nothing."""


class WireError(ValueError):
    """A payload that does not say what Alpaca's documented ones say."""


def order_body(order: BrokerOrder) -> dict[str, Any]:
    """The JSON body of ``POST /v2/orders`` (decimals as strings, as Alpaca sends them)."""
    body: dict[str, Any] = {
        "symbol": order.symbol,
        "qty": _text(order.quantity),
        "side": "buy" if order.side > 0 else "sell",
        "type": order.order_type.value,
        "time_in_force": order.time_in_force.value,
        "client_order_id": order.client_order_id,
    }
    if order.limit_price is not None:
        body["limit_price"] = _text(order.limit_price)
    if order.stop_price is not None:
        body["stop_price"] = _text(order.stop_price)
    return body


def replace_body(order: BrokerOrder) -> dict[str, Any]:
    """The JSON body of ``PATCH /v2/orders/{id}``: what a replace may change."""
    keep = ("qty", "time_in_force", "limit_price", "stop_price", "client_order_id")
    return {k: v for k, v in order_body(order).items() if k in keep}


def order_status(payload: Any) -> BrokerOrderStatus:
    """An Order object as the broker's view of the order, its fills as one cumulative
    report (what the totals say)."""
    order = _object(payload)
    status = str(order.get("status"))
    if status not in STATES:
        raise WireError(f"unknown order status {status!r}")
    filled = decimal(order.get("filled_qty") or "0")
    fills = []
    if filled > 0:
        at = _when(order, "filled_at", "updated_at")
        fills.append(_cumulative(order, filled, None, None, at))
    return BrokerOrderStatus(
        client_order_id=str(order["client_order_id"]),
        broker_order_id=str(order["id"]),
        state=STATES[status],
        fills=fills,
    )


def trade_update(payload: Any) -> BrokerEvent | None:
    """A ``trade_updates`` event's data as a broker event, or None when it moves nothing."""
    data = _object(payload)
    order = _object(data.get("order"))
    kind = EVENTS.get(str(data.get("event")))
    if kind is None:
        return None
    at = parse_time(data["timestamp"]) if data.get("timestamp") else _when(order, "updated_at")
    client, broker_id = str(order["client_order_id"]), str(order["id"])
    if kind is BrokerEventKind.FILL:
        filled = decimal(order.get("filled_qty") or "0")
        report = _cumulative(order, filled, data.get("qty"), data.get("price"), at)
        return BrokerEvent(kind, client, at, broker_id, fill=report)
    reason = _reason(str(data["event"]), order)
    return BrokerEvent(kind, client, at, broker_id, reason)


def _cumulative(
    order: dict[str, Any], filled: Decimal, qty: Any, price: Any, at: datetime
) -> FillReport:
    """A fill that brings the order to ``filled`` at the broker's average price."""
    average = decimal(order.get("filled_avg_price") or price or "0")
    return FillReport(
        broker_fill_id=f"{order['id']}@{filled.normalize():f}",
        quantity=decimal(qty) if qty is not None else filled,
        price=decimal(price) if price is not None else average,
        commission=Decimal(0),
        filled_at=at,
        cumulative=filled,
        average_price=average,
    )


def _reason(event: str, order: dict[str, Any]) -> str | None:
    if event == "replaced" and order.get("replaced_by"):
        return f"replaced by {order['replaced_by']}"
    if event in ("rejected", "order_replace_rejected", "order_cancel_rejected"):
        return f"{event} by Alpaca"
    return None


def parse_time(text: Any) -> datetime:
    """An RFC 3339 time (nanoseconds and any offset allowed) in UTC, to the microsecond."""
    value = str(text)
    head, dot, rest = value.partition(".")
    if dot:  # keep at most microseconds of the fraction, and the offset after it
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise WireError(f"not an RFC 3339 time: {text!r}") from None


def decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise WireError(f"not a decimal: {value!r}") from None


def _when(order: dict[str, Any], *fields: str) -> datetime:
    for name in fields:
        if order.get(name):
            return parse_time(order[name])
    raise WireError(f"the order names none of {', '.join(fields)}")


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or ("id" not in payload and "event" not in payload):
        raise WireError(f"expected an Alpaca object, got {str(payload)[:120]!r}")
    return payload


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")
