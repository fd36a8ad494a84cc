"""Order news on the bus: what the ledger recorded (an order placed, replaced, canceled or
refused through the API or the CLI) published on the ``orders`` topic, so the processes
that watch an account (the alert checks, a dashboard) hear of it at once instead of at
their next poll of the ledger.

The ledger is the record; the topic is a notification. A bus that is down loses the
news, not the order: the failure is logged and counted, and the watchers find the order
in the ledger on their next poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import polars as pl
from loguru import logger

from cift.core.errors import CiftError
from cift.core.timeutil import from_ns
from cift.data.bus import EventBus
from cift.db.models.ledger import LedgerOrder
from cift.execution.metrics import UNPUBLISHED

ORDERS_TOPIC = "orders"
SCHEMA = pl.Schema(
    {
        "symbol": pl.String(),
        "ts": pl.Datetime("ns", "UTC"),
        "account_id": pl.String(),
        "order_id": pl.String(),
        "client_order_id": pl.String(),
        "side": pl.Int8(),
        "quantity": pl.Float64(),
        "state": pl.String(),
        "reason": pl.String(),
    }
)
"""One row per order that changed, stamped with when it was published."""


def order_events(orders: Sequence[LedgerOrder], now_ns: int) -> pl.DataFrame:
    """The rows of ``orders`` as the ``orders`` topic carries them."""
    rows = {
        "symbol": [o.symbol for o in orders],
        "ts": [from_ns(now_ns)] * len(orders),
        "account_id": [str(o.account_id) for o in orders],
        "order_id": [str(o.id) for o in orders],
        "client_order_id": [o.client_order_id for o in orders],
        "side": [o.side for o in orders],
        "quantity": [float(o.quantity) for o in orders],
        "state": [o.state.value for o in orders],
        "reason": [o.reason for o in orders],
    }
    return pl.DataFrame(rows, schema=SCHEMA)


class OrderNews:
    """Publishes order news on a bus opened on first use."""

    def __init__(self, open_bus: Callable[[], EventBus]) -> None:
        self._open_bus = open_bus
        self._bus: EventBus | None = None
        self._lock = threading.Lock()

    def publish(self, orders: Sequence[LedgerOrder], now_ns: int) -> None:
        """Tell the watchers; a bus failure is logged, never raised to the caller."""
        if not orders:
            return
        try:
            with self._lock:
                if self._bus is None:
                    self._bus = self._open_bus()
                bus = self._bus
            bus.publish(ORDERS_TOPIC, order_events(orders, now_ns))
        except CiftError as exc:
            UNPUBLISHED.inc(len(orders))
            logger.warning("order news not published ({}); the ledger has it", exc.message)

    def close(self) -> None:
        with self._lock:
            if self._bus is not None:
                self._bus.close()
                self._bus = None
