"""Trading accounts as their owner sees them (requests are the domain's own models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer

from cift.execution.accounts import AccountChanges, AccountSpec

__all__ = ["AccountChanges", "AccountOut", "AccountSpec"]


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    broker: str
    mode: str
    base_currency: str
    initial_cash: Decimal
    cash: Decimal
    broker_account_id: str | None
    credentials_ref: str | None
    risk_limits: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @field_serializer("initial_cash", "cash")
    def _plain(self, amount: Decimal) -> str:
        """``100000``, not ``100000.0000000000``: the same text however it was stored."""
        return format(amount.normalize(), "f")
