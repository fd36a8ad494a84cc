"""Your trading accounts: open, list, read, change limits or deactivate, close."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status

from cift.execution import accounts

from ..deps import State
from ..schemas.accounts import AccountChanges, AccountOut, AccountSpec
from ..schemas.problem import Problem
from ..security import ReadAccess, TradeAccess
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/accounts", tags=["accounts"])
CLASH: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "You have an account with this name."}
}


@router.get("", summary="Your trading accounts")
def list_accounts(state: State, who: ReadAccess) -> list[AccountOut]:
    return [AccountOut.model_validate(a) for a in accounts.accounts(state.db).list(who.user_id)]


@router.post(
    "", summary="Open a trading account", status_code=status.HTTP_201_CREATED, responses=CLASH
)
def open_account(state: State, who: TradeAccess, body: AccountSpec) -> AccountOut:
    """Paper accounts fill in simulation; a broker account names the environment
    variable that holds its credentials (credentials_ref), never the credentials."""
    return AccountOut.model_validate(accounts.open_account(state.db, who.user_id, body))


@router.get("/{account_id}", summary="One of your trading accounts")
def get_account(state: State, who: ReadAccess, account_id: uuid.UUID) -> AccountOut:
    return AccountOut.model_validate(accounts.accounts(state.db).get(account_id, who.user_id))


@router.patch("/{account_id}", summary="Rename, set risk limits, (de)activate", responses=CLASH)
def change_account(
    state: State, who: TradeAccess, account_id: uuid.UUID, body: AccountChanges
) -> AccountOut:
    """Risk limits are replaced as a whole; is_active false stops new orders."""
    row = accounts.change_account(state.db, account_id, who.user_id, body)
    return AccountOut.model_validate(row)


@router.delete("/{account_id}", summary="Close one of your trading accounts")
def close_account(state: State, who: TradeAccess, account_id: uuid.UUID) -> AccountOut:
    """The account and its alerts are removed; the answer is the account as it was."""
    return AccountOut.model_validate(accounts.accounts(state.db).remove(account_id, who.user_id))
