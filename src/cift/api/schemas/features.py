"""Feature responses: the catalog, stored sets and their values."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cift.model.fields import Symbol

from .market import MAX_PAGE_ROWS, BarsQuery


class FeatureComputeQuery(BarsQuery):
    features: str = Field(
        min_length=1,
        max_length=500,
        description="Catalog calls, comma-separated: sma(20),bbands(20,2,2),rsi(14).",
    )


class FeatureParam(BaseModel):
    name: str
    default: float
    integer: bool
    minimum: float | None
    maximum: float | None


class FeatureInfo(BaseModel):
    """A feature the platform computes."""

    name: str
    category: str
    signature: str = Field(description="Call form with defaults, e.g. rsi(timeperiod=14).")
    inputs: list[str]
    outputs: list[str]
    params: list[FeatureParam]
    forward_looking: bool = Field(description="True for labels, which use future data.")
    description: str


class StoredFeatureSet(BaseModel):
    """Stored values of a feature set for one symbol."""

    set_id: str
    symbol: str
    first: datetime
    last: datetime
    rows: int


class FeatureValuesQuery(BaseModel):
    """Which stored feature values to page through."""

    model_config = ConfigDict(extra="forbid")

    symbol: Symbol
    start: str | None = Field(None, max_length=40, description="First day or ISO time.")
    end: str | None = Field(None, max_length=40, description="Last day, inclusive, or ISO time.")
    limit: int = Field(1000, ge=1, le=MAX_PAGE_ROWS)
    cursor: str | None = Field(None, max_length=200)


class FeatureValuesPage(BaseModel):
    rows: list[dict[str, str | float | None]] = Field(
        description="symbol, ts and one value per feature column."
    )
    next_cursor: str | None
