"""The broker protocol: every venue the OMS routes to looks the same.

The OMS sends a :class:`BrokerOrder` under its client order id and hears back through
:class:`BrokerEvent` values: the answer to a submission, then fills, cancels,
replacements and expiries as they happen (``events`` drains what arrived since the
last call). A broker must treat a client order id it already holds as that order,
never as a new one; that and ``find`` are what let the OMS repair a crash between
persisting an order and sending it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from cift.db.models.ledger import LedgerOrderType, LedgerTimeInForce, OrderState
from cift.execution.ledger import FillReport


@dataclass(frozen=True)
class BrokerOrder:
    """An order as it is sent (its quantity is what remains to be done)."""

    client_order_id: str
    symbol: str
    side: int
    quantity: Decimal
    order_type: LedgerOrderType
    time_in_force: LedgerTimeInForce
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


class BrokerEventKind(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FILL = "fill"
    CANCELED = "canceled"
    CANCEL_REJECTED = "cancel_rejected"
    EXPIRED = "expired"
    REPLACED = "replaced"
    REPLACE_REJECTED = "replace_rejected"


@dataclass(frozen=True)
class BrokerEvent:
    """News of one order from the broker."""

    kind: BrokerEventKind
    client_order_id: str
    at: datetime
    broker_order_id: str | None = None
    reason: str | None = None
    fill: FillReport | None = None


@dataclass(frozen=True)
class BrokerOrderStatus:
    """What the broker holds of one order: its state and every fill so far."""

    client_order_id: str
    broker_order_id: str
    state: OrderState
    fills: list[FillReport] = field(default_factory=list)


@runtime_checkable
class Broker(Protocol):
    """Where orders go."""

    name: str

    def submit(self, order: BrokerOrder) -> BrokerEvent:
        """Send ``order``; the answer is ACCEPTED (with the broker's id) or REJECTED.
        Raises :class:`~cift.core.errors.BrokerError` when the order's fate is unknown
        (the connection dropped): the OMS then asks ``find`` before sending again."""
        ...

    def cancel(self, client_order_id: str) -> None:
        """Ask for a cancel; the outcome comes as an event (CANCELED, a late FILL, or
        CANCEL_REJECTED)."""
        ...

    def replace(self, client_order_id: str, order: BrokerOrder) -> BrokerEvent:
        """Replace the working order ``client_order_id`` by ``order`` (its own client id):
        the answer is the new order's, as for ``submit``; the old one's outcome comes as
        an event (REPLACED, or REPLACE_REJECTED when it had already closed). Asking again
        with the same new client id answers for the order made the first time."""
        ...

    def find(self, client_order_id: str) -> BrokerOrderStatus | None:
        """The broker's view of an order, None if it never received it."""
        ...

    def events(self) -> list[BrokerEvent]:
        """Events since the last call, oldest first."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
