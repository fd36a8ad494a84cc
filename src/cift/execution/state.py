"""The order state machine: which event may move an order from which state, and where to.

::

    new ─submit─> submitted ─accept─> accepted ─fill─> partially_filled ─fill─> filled
     │               │                   │  │               │
     │               └─reject─> rejected │  └─cancel_request─> pending_cancel ─cancel─> canceled
     └─reject (pre-trade risk, or       └─replace_request─> pending_replace ─replace─> replaced
        withdrawn before it was sent)

Every other pair is refused with :class:`OrderStateError`. Fills are the exception that
money forces: a fill that arrives after a cancel or replace was requested, or even after
the broker confirmed it, happened at the venue before the cancel took effect, so it is
booked (the order keeps its closing state unless it is now filled). No fill may take
an order past its quantity. Repeating the event that led to the current state (a
second ``accept``) changes nothing, and neither does an acceptance that arrives after
the order moved on: brokers resend and reorder, and consumers are idempotent.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from cift.core.errors import OrderStateError
from cift.db.models.ledger import OrderState

S = OrderState


class OrderEventKind(StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    REJECT = "reject"
    FILL = "fill"
    CANCEL_REQUEST = "cancel_request"
    CANCEL_REJECT = "cancel_reject"
    CANCEL = "cancel"
    EXPIRE = "expire"
    REPLACE_REQUEST = "replace_request"
    REPLACE_REJECT = "replace_reject"
    REPLACE = "replace"


E = OrderEventKind

_WORKING = (S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_REPLACE)

MOVES: dict[OrderEventKind, dict[OrderState, OrderState]] = {
    E.SUBMIT: {S.NEW: S.SUBMITTED},
    E.ACCEPT: {S.SUBMITTED: S.ACCEPTED},
    E.REJECT: {S.NEW: S.REJECTED, S.SUBMITTED: S.REJECTED},
    E.CANCEL_REQUEST: {S.ACCEPTED: S.PENDING_CANCEL, S.PARTIALLY_FILLED: S.PENDING_CANCEL},
    E.REPLACE_REQUEST: {S.ACCEPTED: S.PENDING_REPLACE, S.PARTIALLY_FILLED: S.PENDING_REPLACE},
    E.CANCEL: dict.fromkeys(_WORKING, S.CANCELED),
    E.EXPIRE: dict.fromkeys(_WORKING, S.EXPIRED),
    E.REPLACE: {S.PENDING_REPLACE: S.REPLACED},
}
"""Every legal move but fills and the rejections of requests (which depend on the filled
quantity)."""

_FILLABLE = frozenset((*_WORKING, S.CANCELED, S.EXPIRED, S.REPLACED))
_ACCEPTED_BEFORE = (_FILLABLE | {S.FILLED}) - {S.SUBMITTED}
_KEEPS_STATE_ON_FILL = frozenset(
    (S.PENDING_CANCEL, S.PENDING_REPLACE, S.CANCELED, S.EXPIRED, S.REPLACED)
)


def advance(
    state: OrderState,
    kind: OrderEventKind,
    quantity: Decimal,
    filled: Decimal,
    fill: Decimal | None = None,
) -> OrderState | None:
    """The state after ``kind`` happens to an order in ``state`` with ``filled`` of
    ``quantity`` done (``fill``: the quantity of a fill event); None when the event
    repeats the one that led to ``state`` and changes nothing."""
    if kind is E.FILL:
        return _after_fill(state, quantity, filled, fill)
    if kind in (E.CANCEL_REJECT, E.REPLACE_REJECT):
        pending = S.PENDING_CANCEL if kind is E.CANCEL_REJECT else S.PENDING_REPLACE
        if state is not pending:
            raise _refused(state, kind)
        return S.PARTIALLY_FILLED if filled > 0 else S.ACCEPTED
    target = MOVES[kind].get(state)
    if target is not None:
        return target
    if state in MOVES[kind].values():
        return None  # the same news again
    if kind is E.ACCEPT and state in _ACCEPTED_BEFORE:
        return None  # an acceptance that arrives after the order moved on
    raise _refused(state, kind)


def _after_fill(
    state: OrderState, quantity: Decimal, filled: Decimal, fill: Decimal | None
) -> OrderState:
    if fill is None or fill <= 0:
        raise OrderStateError(f"A fill needs a positive quantity, got {fill}.")
    if state not in _FILLABLE:
        raise _refused(state, E.FILL)
    if filled + fill > quantity:
        raise OrderStateError(
            f"A fill of {fill} would take the order past its quantity {quantity} "
            f"({filled} already filled); it is refused."
        )
    if filled + fill == quantity:
        return S.FILLED
    return state if state in _KEEPS_STATE_ON_FILL else S.PARTIALLY_FILLED


def _refused(state: OrderState, kind: OrderEventKind) -> OrderStateError:
    return OrderStateError(f"An order that is {state.value} cannot take a {kind.value} event.")
