"""What the live stages report, and the latest feature values they keep."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class StageStatus(BaseModel):
    """One stage's last report."""

    stage: str = Field(examples=["store-trades"])
    rows_in: int
    rows_out: int
    batches: int
    rate: float = Field(description="Rows in per second since the stage started.")
    lag: int = Field(description="Batches its consumer group has not acknowledged yet.")
    last_event: datetime | None = Field(description="Time of the newest event it has seen.")
    latency_ms: float = Field(description="Publish-to-done time of its last batch.")
    latency_p99_ms: float | None = Field(
        description="99th percentile of the publish-to-done times of its recent batches."
    )
    reported_at: datetime
    stale: bool = Field(description="No report for longer than the stale threshold: stopped?")


class StreamStatus(BaseModel):
    """Every stage that has reported, on the configured bus."""

    bus: str
    stale_after_seconds: float
    stages: list[StageStatus]


class LatestValues(BaseModel):
    """The newest values of a feature set for one symbol."""

    symbol: str
    ts: datetime
    values: dict[str, float | None]


class LatestFeatures(BaseModel):
    set_id: str
    source: str = Field(description="'live' (kept by the features stage) or 'store'.")
    symbols: list[LatestValues]
