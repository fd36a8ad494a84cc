"""Health and system information responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Liveness(BaseModel):
    """The process is up and serving."""

    status: Literal["alive"] = "alive"
    version: str
    uptime_seconds: float


class ComponentHealth(BaseModel):
    """The state of one backend as seen by its probe."""

    status: Literal["ok", "down"]
    latency_ms: float = Field(description="How long the probe took.")
    detail: str = Field(description="What the probe found, or why it failed.")


class Readiness(BaseModel):
    """Whether every configured backend answers; 503 if any does not."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, ComponentHealth]


class SystemInfo(BaseModel):
    """What is running: version, environment and the backend chosen for each concern."""

    name: str = "cift"
    version: str
    environment: str
    python: str
    started_at: datetime
    backends: dict[str, str] = Field(
        description="Backend in use for each concern, e.g. metadata: sqlite."
    )
