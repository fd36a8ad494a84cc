"""Backtest requests and recorded runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cift.backtest.config_schema import ConfigSpec
from cift.backtest.spec import RunSpec
from cift.model.fields import Symbol


class BacktestRequest(BaseModel):
    """A backtest on stored data (files on the server are not reachable through the API)."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(description="A built-in strategy name, e.g. sma_cross.")
    params: dict[str, Any] = Field(default_factory=dict, description="Strategy parameters.")
    symbols: list[Symbol] = Field(min_length=1, max_length=500, description="Stored symbols.")
    start: datetime | None = Field(None, description="First bar time (inclusive, UTC).")
    end: datetime | None = Field(None, description="End of the range (exclusive, UTC).")
    timeframe: str = Field("1d", description="Bar length: 1m, 5m, 1h, 1d ...")
    config: ConfigSpec = Field(
        default_factory=ConfigSpec,
        description="Backtest settings: initial_cash, commission, slippage, latency_ns, ...",
    )
    name: str | None = Field(None, max_length=200, description="A label for the run.")

    def spec(self) -> RunSpec:
        return RunSpec(**self.model_dump())


class BacktestSummary(BaseModel):
    """A recorded run as listed."""

    id: str
    created_at: datetime
    name: str | None
    strategy: str
    parameters: dict[str, Any]
    symbols: list[str]
    status: str = Field(description="queued, running, succeeded, failed or cancelled.")
    progress: float = Field(description="Fraction done, 0 to 1.")
    metrics: dict[str, Any] = Field(description="Headline metrics once succeeded.")


class BacktestDetail(BacktestSummary):
    """A recorded run with everything needed to reproduce it."""

    spec: dict[str, Any] | None
    start_at: datetime | None
    end_at: datetime | None
    data_hash: str | None
    code_version: str | None
    final_equity: str | None
    artifacts: dict[str, Any]
    error: str | None


class StrategyInfo(BaseModel):
    """A built-in strategy: what it does, the data it reads and its parameters."""

    name: str
    description: str
    data: list[str] = Field(description="Kinds of market data it reads: bars, trades, quotes.")
    params: dict[str, Any] = Field(description="JSON Schema of its parameters, with defaults.")


class SweepSummary(BaseModel):
    """A recorded parameter sweep (``cift backtest sweep``)."""

    id: uuid.UUID
    created_at: datetime
    strategy: str
    symbols: list[str]
    timeframe: str | None
    rank_by: str = Field(description="The metric the trials are ranked by.")
    axes: list[str] = Field(description="The parameters searched.")
    evaluated: int = Field(description="Combinations backtested.")


class SweepDetail(SweepSummary):
    """A sweep with every trial, ranked, and the best trial's deflated Sharpe ratio."""

    start: datetime | None
    end: datetime | None
    skipped: int
    duplicates: int
    deflated_sharpe: dict[str, Any] | None
    trials: list[dict[str, Any]] = Field(
        description="Ranked: index, params, engine and the metrics (sharpe, total_return, ...)."
    )
