"""The order state machine against its definition, and over random event sequences."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.db.models.ledger import OrderState
from cift.execution.state import OrderEventKind, OrderStateError, advance
from tests.budget import deep

S, E = OrderState, OrderEventKind
QTY = Decimal(10)

# The definition, written out from the documented life of an order (not from MOVES):
# new -> submitted -> accepted -> partially filled -> filled, cancels and replaces through
# their pending states, rejections before acceptance (an order withdrawn before it was
# sent is rejected, never canceled: nothing can fill it), expiry of working orders.
WORKING = {S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_REPLACE}
LEGAL = (
    {(S.NEW, E.SUBMIT, S.SUBMITTED), (S.SUBMITTED, E.ACCEPT, S.ACCEPTED)}
    | {(S.NEW, E.REJECT, S.REJECTED), (S.SUBMITTED, E.REJECT, S.REJECTED)}
    | {(s, E.CANCEL_REQUEST, S.PENDING_CANCEL) for s in (S.ACCEPTED, S.PARTIALLY_FILLED)}
    | {(s, E.REPLACE_REQUEST, S.PENDING_REPLACE) for s in (S.ACCEPTED, S.PARTIALLY_FILLED)}
    | {(s, E.CANCEL, S.CANCELED) for s in WORKING}
    | {(s, E.EXPIRE, S.EXPIRED) for s in WORKING}
    | {(S.PENDING_REPLACE, E.REPLACE, S.REPLACED)}
)
REPEATS = {
    (S.SUBMITTED, E.SUBMIT),
    (S.REJECTED, E.REJECT),
    (S.PENDING_CANCEL, E.CANCEL_REQUEST),
    (S.PENDING_REPLACE, E.REPLACE_REQUEST),
    (S.CANCELED, E.CANCEL),
    (S.EXPIRED, E.EXPIRE),
    (S.REPLACED, E.REPLACE),
} | {
    (s, E.ACCEPT)
    for s in (
        S.ACCEPTED,
        S.PARTIALLY_FILLED,
        S.PENDING_CANCEL,
        S.PENDING_REPLACE,
        S.FILLED,
        S.CANCELED,
        S.EXPIRED,
        S.REPLACED,
    )
}
NOT_FILLS = [k for k in E if k not in (E.FILL, E.CANCEL_REJECT, E.REPLACE_REJECT)]


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("kind", NOT_FILLS)
def test_every_pair_is_legal_a_repeat_or_refused(state: OrderState, kind: OrderEventKind) -> None:
    expected = {(s, k): after for s, k, after in LEGAL}.get((state, kind))
    if expected is not None:
        assert advance(state, kind, QTY, Decimal(0)) is expected
    elif (state, kind) in REPEATS:
        assert advance(state, kind, QTY, Decimal(0)) is None
    else:
        with pytest.raises(OrderStateError, match=f"{state.value} cannot take a {kind.value}"):
            advance(state, kind, QTY, Decimal(0))


def test_a_refused_cancel_or_replace_goes_back_to_where_the_fills_say() -> None:
    assert advance(S.PENDING_CANCEL, E.CANCEL_REJECT, QTY, Decimal(0)) is S.ACCEPTED
    assert advance(S.PENDING_CANCEL, E.CANCEL_REJECT, QTY, Decimal(3)) is S.PARTIALLY_FILLED
    assert advance(S.PENDING_REPLACE, E.REPLACE_REJECT, QTY, Decimal(3)) is S.PARTIALLY_FILLED
    with pytest.raises(OrderStateError):
        advance(S.ACCEPTED, E.CANCEL_REJECT, QTY, Decimal(0))


def test_fills_late_or_not_are_booked_never_past_the_quantity() -> None:
    # a late fill after a cancel request, or after the cancel itself, is still booked
    assert advance(S.PENDING_CANCEL, E.FILL, QTY, Decimal(0), Decimal(4)) is S.PENDING_CANCEL
    assert advance(S.CANCELED, E.FILL, QTY, Decimal(0), Decimal(4)) is S.CANCELED
    assert advance(S.PENDING_CANCEL, E.FILL, QTY, Decimal(6), Decimal(4)) is S.FILLED
    assert advance(S.ACCEPTED, E.FILL, QTY, Decimal(0), Decimal(4)) is S.PARTIALLY_FILLED
    assert advance(S.SUBMITTED, E.FILL, QTY, Decimal(0), QTY) is S.FILLED
    with pytest.raises(OrderStateError, match="past its quantity"):
        advance(S.PARTIALLY_FILLED, E.FILL, QTY, Decimal(8), Decimal(3))
    for state in (S.NEW, S.REJECTED, S.FILLED):
        with pytest.raises(OrderStateError):
            advance(state, E.FILL, QTY, Decimal(0), Decimal(1))


events = st.lists(
    st.tuples(st.sampled_from(list(E)), st.integers(min_value=1, max_value=6)), max_size=40
)


@settings(max_examples=deep(300), deadline=None)
@given(events)
def test_random_event_sequences_keep_the_invariants(
    sequence: list[tuple[OrderEventKind, int]],
) -> None:
    state, filled = S.NEW, Decimal(0)
    ever_sent = False
    for kind, size in sequence:
        fill = Decimal(size) if kind is E.FILL else None
        try:
            after = advance(state, kind, QTY, filled, fill)
        except OrderStateError:
            continue
        if after is None:
            assert kind is not E.FILL
            continue
        if kind is E.FILL:
            assert state not in (S.NEW, S.REJECTED, S.FILLED)
            filled += Decimal(size)
        elif state.is_terminal:
            pytest.fail(f"{state} left by {kind}")
        ever_sent |= after is S.SUBMITTED
        state = after
        assert filled <= QTY
        assert (state is S.FILLED) == (filled == QTY)
        if state is S.REJECTED:
            assert filled == 0
        if filled > 0:
            assert ever_sent
