"""Dependencies shared by routers: the app's settings, engine and metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from cift.backtest.jobs import BacktestJobs
from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.data.store import MarketStore
from cift.data.stream.board import Board
from cift.execution.order_events import OrderNews
from cift.ml.jobs import TrainingJobs

from .middleware.ratelimit import RateLimiter
from .services.stream_hub import StreamHub


@dataclass
class AppState:
    """What one app instance holds for its whole life."""

    settings: Settings
    started_at: datetime
    engine: Engine
    store: MarketStore
    jobs: BacktestJobs
    training: TrainingJobs
    db: sessionmaker[Session]
    limiter: RateLimiter
    board: Board
    hub: StreamHub
    news: OrderNews | None
    """Order news for the other processes on the bus (none on the in-process bus)."""


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.cift
    return state


State = Annotated[AppState, Depends(get_state)]


def single_query_values(request: HTTPConnection) -> None:
    """Refuse a query parameter given twice: every one of them takes one value, and
    silently keeping the last would answer a question the client did not ask."""
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValidationError(
            f"Query parameter(s) {', '.join(repeated)} given more than once; give each once "
            "(several symbols go comma-separated in one value)."
        )
