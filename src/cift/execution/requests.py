"""What asking for an order takes, and the client order id that makes asking twice safe.

A client order id is derived from (account, strategy run, signal id): the same signal
of the same run on the same account always names the same order, so a retried or
replayed submission finds the order it already made instead of making a second one.
"""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from cift.db.models.ledger import LedgerOrder, LedgerOrderType, LedgerTimeInForce
from cift.model.fields import Amount, Symbol, validated

SignalId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[ -~]+$")]
"""What makes a decision unique within its run, e.g. ``AAPL:2024-03-01T14:31:00Z:1``."""

CLIENT_ID_PREFIX = "cift-"


class OrderRequest(BaseModel):
    """An order as a strategy, the CLI or the API asks for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: Symbol
    side: int = Field(description="1 to buy, -1 to sell.")
    quantity: Amount
    order_type: LedgerOrderType = LedgerOrderType.MARKET
    time_in_force: LedgerTimeInForce = LedgerTimeInForce.DAY
    limit_price: Amount | None = None
    stop_price: Amount | None = None
    signal_id: SignalId | None = Field(
        None, description="Unique within the run: asking again with it returns the same order."
    )
    tag: Annotated[str, StringConstraints(max_length=100)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.side not in (1, -1):
            raise ValueError("side is 1 (buy) or -1 (sell)")
        kind = self.order_type
        needs_limit = kind in (LedgerOrderType.LIMIT, LedgerOrderType.STOP_LIMIT)
        needs_stop = kind in (LedgerOrderType.STOP, LedgerOrderType.STOP_LIMIT)
        if needs_limit != (self.limit_price is not None):
            raise ValueError(
                f"a {kind.value} order {'needs' if needs_limit else 'takes no'} limit_price"
            )
        if needs_stop != (self.stop_price is not None):
            raise ValueError(
                f"a {kind.value} order {'needs' if needs_stop else 'takes no'} stop_price"
            )
        return self

    @property
    def reference_price(self) -> Decimal | None:
        """The price the order names (limit, else stop), if any."""
        return self.limit_price if self.limit_price is not None else self.stop_price


class OrderChange(BaseModel):
    """What replacing a working order changes (the fields a broker's replace takes);
    a field left out keeps the old order's value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quantity: Amount | None = Field(
        None, description="The replacement's quantity (default: what the old one had left)."
    )
    limit_price: Amount | None = None
    stop_price: Amount | None = None
    time_in_force: LedgerTimeInForce | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if all(value is None for value in self.model_dump().values()):
            raise ValueError(
                "name what to change: quantity, limit_price, stop_price or time_in_force"
            )
        return self

    def applied_to(self, order: LedgerOrder) -> OrderRequest:
        """The replacement of ``order`` as a new request: same symbol, side and type.
        A change that does not fit the order's type (a limit price on a market order) is
        a ValidationError."""
        fields = {
            "symbol": order.symbol,
            "side": order.side,
            "quantity": self.quantity or order.quantity - order.filled_quantity,
            "order_type": order.order_type,
            "time_in_force": self.time_in_force or order.time_in_force,
            "limit_price": order.limit_price if self.limit_price is None else self.limit_price,
            "stop_price": order.stop_price if self.stop_price is None else self.stop_price,
            "tag": order.tag,
        }
        return validated(OrderRequest, fields, f"replacement of a {order.order_type.value} order")


def client_order_id(account_id: uuid.UUID, run_id: uuid.UUID | None, signal_id: str) -> str:
    """The deterministic client order id of a signal: 48 hex digits of a SHA-256, under
    every broker's length limit (Alpaca's is 128)."""
    run = run_id.hex if run_id is not None else "manual"
    digest = hashlib.sha256(f"{account_id.hex}|{run}|{signal_id}".encode()).hexdigest()
    return f"{CLIENT_ID_PREFIX}{digest[:48]}"
