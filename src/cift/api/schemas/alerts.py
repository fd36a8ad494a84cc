"""Alert rules as their owner sees them (requests are the domain's own models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cift.execution.alerts import AlertChanges, AlertSpec

__all__ = ["AlertChanges", "AlertOut", "AlertSpec", "DeliveryOut"]


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
    channels: list[dict[str, Any]]
    trading_account_id: uuid.UUID | None
    trigger_count: int
    last_triggered_at: datetime | None
    last_observed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DeliveryOut(BaseModel):
    """One delivery of a fired alert: where, how it ended, after how many attempts."""

    fired_at: str
    alert: str
    alert_id: str
    channel: str
    target: str
    status: str = Field(description="delivered, failed, or refused (not attempted).")
    attempts: int
    error: str | None
