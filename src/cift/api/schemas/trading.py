"""Orders, fills, positions, halts and trading runs as the API shows them (decimals as
strings, exact as the ledger keeps them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cift.execution.requests import OrderChange, OrderRequest

__all__ = [
    "FillOut",
    "HaltIn",
    "OrderChange",
    "OrderOut",
    "OrderRequest",
    "PositionOut",
    "PositionsOut",
    "RunOut",
]


class FillOut(BaseModel):
    order_id: str
    broker_fill_id: str
    symbol: str
    side: int
    quantity: str
    price: str
    commission: str
    realized_pnl: str
    filled_at: str


class OrderOut(BaseModel):
    id: str
    client_order_id: str
    symbol: str
    side: int
    order_type: str
    quantity: str
    limit_price: str | None
    stop_price: str | None
    state: str
    filled_quantity: str
    average_price: str | None
    reason: str | None
    created_at: str
    run_id: str | None
    replaces_id: str | None = Field(description="The order this one replaced, if any.")
    fills: list[FillOut] = Field(default_factory=list)


class PositionOut(BaseModel):
    symbol: str
    quantity: str
    average_price: str
    last_price: str | None
    market_value: str | None
    unrealized_pnl: str | None
    realized_pnl: str


class PositionsOut(BaseModel):
    cash: str
    positions: list[PositionOut]


class HaltIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class RunOut(BaseModel):
    id: str
    account: str
    strategy: str
    symbols: str
    state: str
    bars_seen: int
    orders: int
    fills: int
    started_at: str
    stopped_at: str | None
    code_version: str
