"""Alert rules as their owner sees them (requests are the domain's own models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from cift.execution.alerts import AlertChanges, AlertSpec

__all__ = ["AlertChanges", "AlertOut", "AlertSpec"]


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: str
    symbol: str | None
    condition: dict[str, Any]
    severity: str
    status: str
    cooldown_seconds: int
    trading_account_id: uuid.UUID | None
    trigger_count: int
    last_triggered_at: datetime | None
    last_observed_at: datetime | None
    created_at: datetime
    updated_at: datetime
