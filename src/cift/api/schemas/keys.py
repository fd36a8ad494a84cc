"""API keys as the owner sees them; the key itself only once, at creation."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cift.identity.scopes import Scope


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="Tells your keys apart.")
    scopes: list[Scope] = Field(
        min_length=1, max_length=3, description="read, trade and/or admin (at most your role's)."
    )
    expires_at: datetime | None = Field(None, description="When it stops working (UTC).")


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The public part of the key, after 'cift_'.")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The key. Store it now: it is not shown again.")
