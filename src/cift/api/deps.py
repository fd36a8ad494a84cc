"""Dependencies shared by routers: the app's settings, engine and metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest.jobs import BacktestJobs
from cift.core.settings import Settings
from cift.data.store import MarketStore

from .metrics import HttpMetrics
from .ratelimit import RateLimiter


@dataclass
class AppState:
    """What one app instance holds for its whole life."""

    settings: Settings
    metrics: HttpMetrics
    started_at: datetime
    engine: Engine
    store: MarketStore
    jobs: BacktestJobs
    db: sessionmaker[Session]
    limiter: RateLimiter


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.cift
    return state


State = Annotated[AppState, Depends(get_state)]
