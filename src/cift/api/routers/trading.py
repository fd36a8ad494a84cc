"""Trading: orders, fills and positions of your accounts, the kill switch, live runs and
their parity with the backtest. Traders act on their own accounts, viewers read."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request, status

from ..deps import State
from ..schemas.trading import (
    FillOut,
    HaltIn,
    OrderChange,
    OrderOut,
    OrderRequest,
    PositionsOut,
    RunOut,
)
from ..security import AdminAccess, ReadAccess, TradeAccess, actor_of
from ..services import trading
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/trading", tags=["trading"])


@router.get("/accounts/{account_id}/orders", summary="An account's orders with their fills")
def list_orders(
    state: State,
    who: ReadAccess,
    account_id: uuid.UUID,
    open_only: bool = Query(False, alias="open", description="Only orders still working."),
) -> list[OrderOut]:
    return trading.orders(state.db, account_id, who.user_id, open_only)


@router.post(
    "/accounts/{account_id}/orders",
    summary="Place an order",
    status_code=status.HTTP_201_CREATED,
)
def place_order(
    state: State, who: TradeAccess, account_id: uuid.UUID, body: OrderRequest
) -> OrderOut:
    """Checked against the account's risk limits and recorded before it is sent: state
    ``rejected`` names the limit it broke (``reason``), ``new`` waits for the account's
    trading session (``cift trade run``) to send it. The same ``signal_id`` returns the
    same order, never a second one."""
    return trading.place(state.db, state.store, account_id, who.user_id, body, state.news)


@router.post(
    "/accounts/{account_id}/orders/{order_id}/replace",
    summary="Replace a working order",
    status_code=status.HTTP_201_CREATED,
)
def replace_order(
    state: State, who: TradeAccess, account_id: uuid.UUID, order_id: str, body: OrderChange
) -> OrderOut:
    """A new order (the answer) takes the working order's place with the quantity,
    prices or time in force given; it is risk-checked like any order, and the old one
    is ``pending_replace`` until the broker confirms (its fills so far stay its own).
    Asking again returns the same replacement."""
    return trading.replace(
        state.db, state.store, account_id, who.user_id, order_id, body, state.news
    )


@router.post("/accounts/{account_id}/orders/{order_id}/cancel", summary="Cancel an order")
def cancel_order(state: State, who: TradeAccess, account_id: uuid.UUID, order_id: str) -> OrderOut:
    """An order not sent yet is withdrawn at once; a working one is ``pending_cancel``
    until the broker confirms (a fill that beats the cancel is still booked)."""
    return trading.cancel(state.db, account_id, who.user_id, order_id, state.news)


@router.get("/accounts/{account_id}/fills", summary="An account's fills")
def list_fills(state: State, who: ReadAccess, account_id: uuid.UUID) -> list[FillOut]:
    return trading.fills(state.db, account_id, who.user_id)


@router.get("/accounts/{account_id}/positions", summary="Cash, positions and P&L")
def list_positions(state: State, who: ReadAccess, account_id: uuid.UUID) -> PositionsOut:
    return trading.positions(state.db, account_id, who.user_id)


@router.post("/accounts/{account_id}/halt", summary="Kill switch: halt an account")
def halt_account(
    request: Request, state: State, who: TradeAccess, account_id: uuid.UUID, body: HaltIn
) -> dict[str, Any]:
    """New orders are refused and the running session cancels the open ones, until an
    administrator resets it."""
    return trading.halt(state.db, actor_of(request, who), account_id, who.user_id, body.reason)


@router.post("/halt", summary="Kill switch: halt every account")
def halt_all(request: Request, state: State, who: AdminAccess, body: HaltIn) -> dict[str, Any]:
    return trading.halt(state.db, actor_of(request, who), None, who.user_id, body.reason)


@router.post("/reset", summary="Lift the kill switch")
def reset(
    request: Request, state: State, who: AdminAccess, account_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """Lifts the halt on ``account_id``, or the global one when none is given."""
    return trading.reset(state.db, actor_of(request, who), account_id)


@router.get("/runs", summary="Your live trading runs")
def list_runs(state: State, who: ReadAccess) -> list[RunOut]:
    return trading.runs(state.db, who.user_id)


@router.get("/runs/{trading_run_id}/parity", summary="A run replayed through the backtest engine")
def run_parity(state: State, who: ReadAccess, trading_run_id: uuid.UUID) -> dict[str, Any]:
    """Orders, fills and P&L per decision, live against the backtest, each difference
    with its cause; ``unexplained`` should be 0 on the paper broker."""
    return trading.run_parity(state.db, state.settings, state.store, who.user_id, trading_run_id)
