"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from loguru import logger
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.trustedhost import TrustedHostMiddleware

from cift import __version__
from cift.backtest.jobs import BacktestJobs
from cift.backtest.model_paths import path_report
from cift.core.errors import CiftError
from cift.core.logging import configure_logging
from cift.core.settings import Settings, get_settings
from cift.core.tracing import instrument_app, setup_tracing
from cift.data.bus import open_bus
from cift.data.store import open_store
from cift.data.stream.board import open_board
from cift.db.engine import create_db_engine, session_factory
from cift.db.repositories.backtests import BacktestRecords
from cift.execution.order_events import OrderNews
from cift.ml.jobs import TrainingJobs
from cift.web import dashboard

from .deps import AppState, single_query_values
from .middleware.auditing import AuditMiddleware
from .middleware.context import REQUEST_ID_HEADER, RequestContextMiddleware
from .middleware.headers import (
    DOCS_ASSETS,
    BodySizeLimitMiddleware,
    NulCharacterMiddleware,
    SecurityHeadersMiddleware,
)
from .middleware.ratelimit import ClientIpRateLimitMiddleware, create_limiter
from .problems import PROBLEM_RESPONSES, install_problem_handlers
from .routers import (
    accounts,
    alerts,
    audit,
    auth,
    backtests,
    features,
    health,
    keys,
    lineage,
    market,
    ml,
    models,
    stream,
    system,
    trading,
    users,
)
from .schemas.problem import PROBLEM_MEDIA_TYPE
from .security import document_guard_responses
from .services.stream_hub import StreamHub

PROBLEM_REF = "#/components/schemas/Problem"
DESCRIPTION = """
CIFT Markets API: market data, features, models, backtests and trading.

Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`
and the `request_id` under which the server logged it; send `X-Request-ID` to choose
the id yourself.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings`` (read from the environment when omitted)."""
    settings = settings or get_settings()
    settings.check_safe()
    configure_logging(settings)
    setup_tracing(settings, "cift-api")
    engine = create_db_engine(settings)
    sessions = session_factory(engine)
    state = AppState(
        settings=settings,
        started_at=datetime.now(UTC),
        engine=engine,
        store=open_store(settings),
        jobs=BacktestJobs(settings, BacktestRecords(sessions), settings.backtest_workers),
        training=TrainingJobs(settings, sessions, settings.backtest_workers, path_report),
        db=sessions,
        limiter=create_limiter(settings),
        board=open_board(settings),
        hub=StreamHub(lambda: open_bus(settings)),
        # an in-process bus has no other process to tell
        news=None if settings.bus == "memory" else OrderNews(lambda: open_bus(settings)),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_fail_orphaned_runs, state.db)
        try:
            yield
        finally:
            state.jobs.shutdown()
            state.training.shutdown()
            state.hub.close()
            if state.news is not None:
                state.news.close()
            state.store.close()
            state.engine.dispose()

    app = FastAPIOffline(  # /docs and /redoc with their assets served here, not from a CDN
        static_url=DOCS_ASSETS,
        title="CIFT Markets API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        dependencies=[Depends(single_query_values)],
    )
    app.state.cift = state
    install_problem_handlers(app)

    routers = (
        health.router,
        system.router,
        auth.router,
        keys.router,
        users.router,
        audit.router,
        market.router,
        features.router,
        backtests.router,
        accounts.router,
        models.router,
        ml.router,
        lineage.router,
        alerts.router,
        alerts.deliveries_router,
        stream.router,
        trading.router,
    )
    for router in routers:
        app.include_router(router)
    dashboard.install(app)

    app.add_middleware(NulCharacterMiddleware)
    app.add_middleware(AuditMiddleware, sessions=state.db)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ClientIpRateLimitMiddleware, limiter=state.limiter, settings=settings)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", REQUEST_ID_HEADER],
            expose_headers=[
                REQUEST_ID_HEADER,
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
        )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    instrument_app(app)
    return app


def _fail_orphaned_runs(sessions: sessionmaker[Session]) -> None:
    """Backtests whose worker died with an earlier server are marked failed.

    Uses the app's own engine and does not migrate: an unmigrated or unreachable
    database is reported by readiness, not changed behind the operator's back.
    """
    try:
        failed = BacktestRecords(sessions).fail_orphans()
    except (CiftError, SQLAlchemyError) as exc:
        logger.warning("could not check for interrupted backtests: {}", exc)
        return
    if failed:
        logger.warning("{} interrupted backtest(s) marked failed", failed)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with error responses typed as problem+json only."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                documented = str(content.get("application/json", ""))
                if "Problem" in documented or "HTTPValidationError" in documented:
                    del content["application/json"]
                    content[PROBLEM_MEDIA_TYPE] = {"schema": {"$ref": PROBLEM_REF}}
    document_guard_responses(schema, {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}})
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema
