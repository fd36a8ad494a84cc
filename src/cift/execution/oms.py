"""Order management for one account: risk, persist, send, and book what the broker says.

The rules that make lost, missed and duplicate orders impossible:

- An order is written (state ``new``) and committed *before* it is sent, under a client
  order id derived from (account, run, signal). Asking again with the same signal finds
  that row instead of making a second order.
- If the process dies between the commit and the send, recovery
  (:mod:`cift.execution.recovery`) asks the broker for each open order by its client
  id: one it holds is reconciled (its fills booked, its state caught up), one it never
  got is sent again under the same id. No order is ever sent under a second id.
- A replacement is an order of its own (its client id derived from the order it
  replaces), persisted before the broker's replace is asked, so it is as safe to retry.
- Every broker event is applied in its own transaction through the state machine; fills
  are booked once by their broker fill id, with position and cash in the same commit.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from loguru import logger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.audit.chain import Actor
from cift.core.errors import BrokerError, NotFoundError, OrderStateError
from cift.core.ids import uuid7
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models import TradingAccount
from cift.db.models.ledger import LedgerOrder, OrderEvent, OrderState
from cift.execution import halts
from cift.execution.accounts import RiskLimits
from cift.execution.brokers.base import Broker, BrokerEvent, BrokerEventKind, BrokerOrder
from cift.execution.ledger import (
    account_order,
    book_fill,
    last_fill_at,
    order_by_client,
    record,
    risk_book,
)
from cift.execution.metrics import TradingMetrics
from cift.execution.requests import OrderChange, OrderRequest, client_order_id
from cift.execution.risk import OrderRate, RiskRejection, check
from cift.execution.state import OrderEventKind

RISK = Actor(None, "risk")
"""Who engages the kill switch when the daily-loss limit is reached."""

_EVENT_KINDS = {
    BrokerEventKind.ACCEPTED: OrderEventKind.ACCEPT,
    BrokerEventKind.REJECTED: OrderEventKind.REJECT,
    BrokerEventKind.CANCELED: OrderEventKind.CANCEL,
    BrokerEventKind.CANCEL_REJECTED: OrderEventKind.CANCEL_REJECT,
    BrokerEventKind.EXPIRED: OrderEventKind.EXPIRE,
    BrokerEventKind.REPLACED: OrderEventKind.REPLACE,
    BrokerEventKind.REPLACE_REJECTED: OrderEventKind.REPLACE_REJECT,
}
_CLOSING = (
    OrderEventKind.REJECT,
    OrderEventKind.CANCEL,
    OrderEventKind.EXPIRE,
    OrderEventKind.REPLACE,
)
_OLD_NEWS = {
    OrderEventKind.CANCEL_REJECT: OrderState.PENDING_CANCEL,
    OrderEventKind.REPLACE_REJECT: OrderState.PENDING_REPLACE,
}
"""A refused request is news only while the order still waits on it."""
_REPLACEABLE = (OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED)
_CANCELABLE = [
    OrderState.NEW,
    OrderState.SUBMITTED,
    OrderState.ACCEPTED,
    OrderState.PARTIALLY_FILLED,
]


class OrderManager:
    """Routes one account's orders to its broker and books the answers."""

    def __init__(
        self,
        db: sessionmaker[Session],
        account_id: uuid.UUID,
        broker: Broker | None,
        *,
        run_id: uuid.UUID | None = None,
        clock: Callable[[], datetime] = utcnow,
        metrics: TradingMetrics | None = None,
    ) -> None:
        self.db = db
        self.account_id = account_id
        self.broker = broker
        self.run_id = run_id
        self.clock = clock
        self.marks: dict[str, Decimal] = {}
        """Last prices, for the risk checks (the runner keeps them current)."""
        self.rate = OrderRate()
        self.halted = False
        self.metrics = metrics
        self._cancels_sent: set[str] = set()
        self._started = utcnow()

    # Orders

    def submit(self, request: OrderRequest) -> LedgerOrder:
        """Check, persist, then send ``request``; the same signal id returns the order it
        made before (sending it if that never happened)."""
        signal = request.signal_id or str(uuid7())
        client = client_order_id(self.account_id, self.run_id, signal)
        with transaction(self.db) as session:
            order = order_by_client(session, client)
            if order is None:
                order = self._create(session, request, client, signal)
            if order.state is not OrderState.NEW:
                return order
        return self.send(order)

    def replace(self, order_id: str, change: OrderChange) -> LedgerOrder:
        """Replace a working order by one with ``change`` applied, and return the
        replacement. It is risk-checked as a new order (the old one's exposure set
        aside), persisted, then sent; the old order is ``pending_replace`` until the
        broker confirms, and its fills so far stay its own. Asking again returns the
        replacement made the first time."""
        with transaction(self.db) as session:
            old = account_order(session, self.account_id, order_id)
            tried = list(
                session.scalars(select(LedgerOrder).where(LedgerOrder.replaces_id == old.id))
            )
            made = next((o for o in tried if o.state is not OrderState.REJECTED), None)
            if made is None:
                if old.state not in _REPLACEABLE:
                    raise OrderStateError(
                        f"Order {order_id} is {old.state.value}: only a working order "
                        "(accepted or partially filled) can be replaced."
                    )
                signal = f"{old.signal_id}/replace/{len(tried) + 1}"
                client = client_order_id(self.account_id, old.run_id, signal)
                made = self._create(session, change.applied_to(old), client, signal, old)
                if made.state is OrderState.NEW:
                    details = {"by": made.client_order_id}
                    record(
                        session, old, OrderEventKind.REPLACE_REQUEST, self.clock(), details=details
                    )
            if made.state is not OrderState.NEW:
                return made
        return self.send(made)

    def _create(
        self,
        session: Session,
        request: OrderRequest,
        client: str,
        signal: str,
        replaces: LedgerOrder | None = None,
    ) -> LedgerOrder:
        now = self.clock()
        # checked before the row exists, so it is not counted against itself
        rejection = self._refusal(session, request, now, replaces)
        order = LedgerOrder(
            account_id=self.account_id,
            client_order_id=client,
            run_id=self.run_id if replaces is None else replaces.run_id,
            replaces_id=None if replaces is None else replaces.id,
            signal_id=signal,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            time_in_force=request.time_in_force,
            quantity=request.quantity,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            state=OrderState.NEW,
            filled_quantity=Decimal(0),
            tag=request.tag,
        )
        session.add(order)
        session.flush()
        session.add(
            OrderEvent(
                order_id=order.id,
                kind="create",
                state_before=None,
                state_after=OrderState.NEW,
                occurred_at=now,
                quantity=request.quantity,
                price=request.reference_price,
                details={"signal": signal},
            )
        )
        if rejection is not None:
            order.reason = str(rejection)[:500]
            record(session, order, OrderEventKind.REJECT, now, details={"risk": rejection.code})
            if self.metrics is not None:
                self.metrics.rejections.labels(rejection.code).inc()
        else:
            self.rate.record()
        self._count(order.state)
        return order

    def _refusal(
        self,
        session: Session,
        request: OrderRequest,
        now: datetime,
        replaces: LedgerOrder | None,
    ) -> RiskRejection | None:
        account = session.get(TradingAccount, self.account_id)
        if account is None:
            raise NotFoundError(f"No trading account {self.account_id}.")
        if not account.is_active:
            return RiskRejection("account_inactive", f"Account {account.name} is deactivated.")
        halt = halts.active(session, self.account_id)
        if halt is not None:
            return RiskRejection("halted", f"Trading is halted: {halt.reason}")
        limits = RiskLimits.model_validate(account.risk_limits)
        besides = None if replaces is None else replaces.id
        book = risk_book(session, account, self.marks, now.date(), besides=besides)
        rejection = check(request, limits, book, self.rate)
        if rejection is not None and rejection.code == "max_daily_loss":
            halts.engage(session, RISK, self.account_id, rejection.message)
            self.halted = True
        return rejection

    def send(self, order: LedgerOrder, *, filled_before: Decimal | None = None) -> LedgerOrder:
        """Send a persisted order (a replacement as the broker's replace of the order it
        replaces) and book the answer; ``filled_before``: re-sent after a restart with
        that much done."""
        if self.broker is None:
            return order  # queued: the account's trading session sends it
        sent = BrokerOrder(
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity - order.filled_quantity,
            order_type=order.order_type,
            time_in_force=order.time_in_force,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
        )
        resume = getattr(self.broker, "resume", None)
        replaced = self._replaced_client(order)
        try:
            began = time.perf_counter()
            if replaced is not None:
                answer = self.broker.replace(replaced, sent)
            elif filled_before is not None and resume is not None:
                answer = resume(sent, filled_before, order.submitted_at, self._last_fill(order))
            else:
                answer = self.broker.submit(sent)
            if self.metrics is not None:
                self.metrics.ack_latency.observe(time.perf_counter() - began)
        except BrokerError as exc:
            logger.warning(
                "order {} not confirmed by {}: {}", sent.client_order_id, self.broker.name, exc
            )
            return order
        with transaction(self.db) as session:
            row = order_by_client(session, order.client_order_id)
            assert row is not None
            if row.state is OrderState.NEW:
                _submitted(session, row, answer.at)
            self._apply(session, row, answer)
            return row

    def _last_fill(self, order: LedgerOrder) -> datetime | None:
        with self.db() as session:
            return last_fill_at(session, order)

    def _replaced_client(self, order: LedgerOrder) -> str | None:
        """The client id of the order ``order`` replaces, while that still waits on it."""
        if order.replaces_id is None:
            return None
        with self.db() as session:
            old = session.get(LedgerOrder, order.replaces_id)
            assert old is not None
            return None if old.state is OrderState.REPLACED else old.client_order_id

    def cancel(self, order_id: str) -> LedgerOrder:
        """Ask the broker to cancel (an order never sent is withdrawn at once). Without a
        broker the request is recorded for the account's trading session to send."""
        with transaction(self.db) as session:
            order = account_order(session, self.account_id, order_id)
            now = self.clock()
            if order.state is OrderState.NEW and self._never_sent(order):
                order.reason = "withdrawn before it was sent"
                record(session, order, OrderEventKind.REJECT, now, details={"reason": order.reason})
                return order
            if order.state is OrderState.NEW:  # sent, but the answer was lost
                _submitted(session, order, now)
                record(session, order, OrderEventKind.ACCEPT, now)
            record(session, order, OrderEventKind.CANCEL_REQUEST, now)
        if self.broker is not None:
            self.broker.cancel(order.client_order_id)
            self._cancels_sent.add(order.client_order_id)
        return order

    def _never_sent(self, order: LedgerOrder) -> bool:
        if self.broker is None:
            return order.submitted_at is None
        return self.broker.find(order.client_order_id) is None

    def pump(self) -> int:
        """Send what other processes (the API, the CLI) asked for on this account: new
        orders waiting to be sent and cancels requested; how many."""
        assert self.broker is not None
        with self.db() as session:
            waiting = list(
                session.scalars(
                    select(LedgerOrder).where(
                        LedgerOrder.account_id == self.account_id,
                        LedgerOrder.state.in_([OrderState.NEW, OrderState.PENDING_CANCEL]),
                    )
                )
            )
        sent = 0
        for order in waiting:
            if order.state is OrderState.NEW and order.created_at < self._started:
                continue  # recover() dealt with those
            if order.state is OrderState.NEW:
                self.send(order)
            elif order.client_order_id not in self._cancels_sent:
                self.broker.cancel(order.client_order_id)
                self._cancels_sent.add(order.client_order_id)
            else:
                continue
            sent += 1
        return sent

    def cancel_all(self) -> int:
        """Cancel every open order of the account (the kill switch); how many."""
        with self.db() as session:
            open_ids = list(
                session.scalars(
                    select(LedgerOrder.client_order_id).where(
                        LedgerOrder.account_id == self.account_id,
                        LedgerOrder.state.in_(_CANCELABLE),
                    )
                )
            )
        for client in open_ids:
            self.cancel(client)
        return len(open_ids)

    # Broker news

    def process(self) -> int:
        """Apply every event the broker has for us; how many."""
        if self.broker is None:
            return 0
        events = self.broker.events()
        for event in events:
            with transaction(self.db) as session:
                order = order_by_client(session, event.client_order_id)
                if order is None:
                    logger.warning(
                        "{} event for unknown order {}", event.kind, event.client_order_id
                    )
                    continue
                self._apply(session, order, event)
        return len(events)

    def _apply(self, session: Session, order: LedgerOrder, event: BrokerEvent) -> None:
        if order.state is OrderState.NEW and event.kind is not BrokerEventKind.REJECTED:
            _submitted(session, order, event.at)  # its answer was lost; this news is proof
        if event.broker_order_id is not None:
            order.broker_order_id = event.broker_order_id
        if event.kind is BrokerEventKind.FILL:
            assert event.fill is not None
            if book_fill(session, order, event.fill) is not None:
                self._count(order.state)
            return
        kind = _EVENT_KINDS[event.kind]
        if kind in _OLD_NEWS and order.state is not _OLD_NEWS[kind]:
            return  # the order filled or closed meanwhile: the refusal is old news
        details = {"reason": event.reason} if event.reason else None
        changed = record(session, order, kind, event.at, details=details)
        if changed:
            self._count(order.state)
        if changed and event.reason and kind in _CLOSING:
            order.reason = event.reason[:500]

    def _count(self, state: OrderState) -> None:
        if self.metrics is not None:
            self.metrics.orders.labels(state.value).inc()


def _submitted(session: Session, order: LedgerOrder, at: datetime) -> None:
    """Book that the broker holds ``order`` (sent at ``at``)."""
    record(session, order, OrderEventKind.SUBMIT, at)
    order.submitted_at = at
