"""Liveness, readiness and Prometheus metrics (outside ``/api/v1``, as probes expect)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from cift import __version__
from cift.core.metrics import exposition

from ..deps import State
from ..schemas.health import Liveness, Readiness
from ..services.health import check_readiness, configured_components

router = APIRouter(tags=["health"])


@router.get("/health/live", summary="Is the process up?")
def live(state: State) -> Liveness:
    """Answers 200 as long as the process serves requests; checks no backend."""
    uptime = (datetime.now(UTC) - state.started_at).total_seconds()
    return Liveness(version=__version__, uptime_seconds=round(uptime, 3))


@router.get(
    "/health/ready",
    summary="Can the process do its work?",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "At least one backend is down."}},
)
async def ready(state: State) -> JSONResponse:
    """Probes the metadata database and every configured backend; 503 if any is down."""
    components = configured_components(state.settings, state.engine, state.store)
    report = await check_readiness(components, state.settings.health_timeout_seconds)
    status = 200 if report.status == "ready" else 503
    return JSONResponse(report.model_dump(mode="json"), status_code=status)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Text exposition format."}},
)
def metrics() -> Response:
    """Every stage's metrics in this process and its job workers (requests by route
    template, store queries, backtests, ...), in Prometheus text format."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)
