"""Backtests: run one as a background job, follow it, read its report."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cift.backtest import sweep_records
from cift.strategy.registry import STRATEGIES

from ..deps import State
from ..render import render_page
from ..schemas.backtests import (
    BacktestDetail,
    BacktestRequest,
    BacktestSummary,
    StrategyInfo,
    SweepDetail,
    SweepSummary,
)
from ..security import READ, ReadAccess, TradeAccess
from ..services import backtests
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/backtests", tags=["backtests"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a backtest",
    response_model=BacktestDetail,
)
def start(state: State, who: TradeAccess, request: BacktestRequest) -> Any:
    """Record the run as queued and start it in a worker; poll its URL for progress."""
    run = backtests.submit(state.jobs, state.db, request, who.user_id)
    return JSONResponse(
        BacktestDetail.model_validate(run).model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"{router.prefix}/{run['id']}"},
    )


@router.get("", summary="Recorded backtests, newest first")
def recent(
    state: State,
    who: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    strategy: Annotated[str | None, Query(max_length=100)] = None,
) -> list[BacktestSummary]:
    rows = backtests.recent(state.db, limit, strategy, who.user_id)
    return [BacktestSummary.model_validate(r) for r in rows]


@router.get(
    "/strategies", summary="The built-in strategies and their parameters", dependencies=[READ]
)
def strategies() -> list[StrategyInfo]:
    return [
        StrategyInfo(
            name=name,
            description=cls.description,
            data=sorted(kind.value for kind in cls.data),
            params=cls.Params.model_json_schema(),
        )
        for name, cls in STRATEGIES.items()
    ]


@router.get("/sweeps", summary="Your recorded parameter sweeps, newest first")
def sweeps(
    state: State, who: ReadAccess, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[SweepSummary]:
    """Strategy, symbols, the parameters searched (axes), the ranking metric."""
    rows = sweep_records.recent_sweeps(state.settings, who.user_id, limit)
    return [SweepSummary.model_validate(row) for row in rows]


@router.get("/sweeps/{sweep_id}", summary="One recorded sweep with every trial")
def sweep(state: State, who: ReadAccess, sweep_id: uuid.UUID) -> SweepDetail:
    """Every trial's parameters and metrics, ranked, and the best one's deflated Sharpe."""
    record = sweep_records.sweep_record(state.settings, sweep_id, who.user_id)
    return SweepDetail.model_validate(record)


@router.get("/{run_id}", summary="One recorded backtest")
def detail(state: State, who: ReadAccess, run_id: uuid.UUID) -> BacktestDetail:
    """Status and progress while it runs; spec, data hash, metrics and artifacts after."""
    row = backtests.detail(state.db, run_id, who.user_id)
    return BacktestDetail.model_validate(row)


@router.get(
    "/{run_id}/report",
    summary="The run's tearsheet",
    responses={200: {"content": {"text/html": {}, "application/json": {}}}},
)
def report(state: State, who: ReadAccess, request: Request, run_id: uuid.UUID) -> Response:
    """The HTML tearsheet, or its numbers as JSON when ``Accept: application/json``."""
    if "application/json" in request.headers.get("accept", ""):
        path = backtests.report_file(state.db, run_id, "tearsheet.json", who.user_id)
        return JSONResponse(json.loads(path.read_text()))
    return HTMLResponse(backtests.report_page(state.db, run_id, who.user_id))


@router.get(
    "/{run_id}/frames/{frame}",
    summary="A run's equity curve, orders, fills or trades",
    responses={200: {"content": {"application/vnd.apache.arrow.stream": {}, "text/csv": {}}}},
)
def run_frame(
    state: State,
    who: ReadAccess,
    request: Request,
    run_id: uuid.UUID,
    frame: Literal["equity", "orders", "fills", "trades"],
) -> Response:
    """Every row, in time order: JSON ``{"rows": [...]}`` by default, Arrow IPC or CSV by
    ``Accept``. Equity rows carry cash and gross exposure at each bar."""
    page = backtests.frame(state.db, run_id, frame, who.user_id)
    return render_page(request, page)
