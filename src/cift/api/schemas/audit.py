"""Audit entries and the result of a chain check."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int = Field(description="Position in the chain, from 1.")
    occurred_at: datetime
    actor_user_id: uuid.UUID | None
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    outcome: str
    client_ip: str | None
    request_id: str | None
    details: dict[str, Any]
    prev_hash: str
    row_hash: str


class ChainProblemOut(BaseModel):
    row_id: int
    seq: int
    kind: str
    message: str


class ChainReportOut(BaseModel):
    rows: int
    intact: bool
    head_hash: str
    problems: list[ChainProblemOut]
