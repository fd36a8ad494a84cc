"""Features: the catalog, stored feature sets and their values."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from cift.features.spec import all_specs

from ..deps import State
from ..render import page_formats, render_page
from ..schemas.market import (
    FeatureComputeQuery,
    FeatureInfo,
    FeatureParam,
    FeatureValuesPage,
    FeatureValuesQuery,
    StoredFeatureSet,
)
from ..security import READ
from ..services import market
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/features", tags=["features"], dependencies=[READ])


@router.get("", summary="Every feature the platform computes")
def catalog(category: str | None = None) -> list[FeatureInfo]:
    """Names, parameters with defaults and bounds, inputs and outputs of every feature."""
    return [
        FeatureInfo(
            name=s.name,
            category=s.category,
            signature=s.signature(),
            inputs=list(s.inputs),
            outputs=list(s.outputs),
            params=[
                FeatureParam(
                    name=p.name,
                    default=p.default,
                    integer=p.integer,
                    minimum=p.minimum,
                    maximum=p.maximum,
                )
                for p in s.params
            ],
            forward_looking=s.forward_looking,
            description=s.description,
        )
        for s in all_specs()
        if category is None or s.category == category
    ]


@router.get(
    "/compute",
    summary="Features computed on stored bars",
    responses=page_formats(FeatureValuesPage),
)
async def compute_on_bars(
    state: State, request: Request, query: Annotated[FeatureComputeQuery, Query()]
) -> Response:
    """Catalog features over one symbol's bars in ``[start, end)``: ts and one column per
    output, in time order, page by page (JSON, Arrow IPC or CSV)."""
    page = await run_in_threadpool(
        market.compute_feature_page,
        state.store,
        symbol=query.symbol,
        features=query.features,
        start=query.start,
        end=query.end,
        timeframe=query.timeframe,
        limit=query.limit,
        cursor=query.cursor,
    )
    return render_page(request, page)


@router.get("/sets", summary="Stored feature sets")
async def stored_sets(state: State) -> list[StoredFeatureSet]:
    """One row per stored set and symbol."""
    frame = await run_in_threadpool(state.store.feature_sets)
    return [StoredFeatureSet.model_validate(row) for row in frame.to_dicts()]


@router.get(
    "/sets/{set_id}/values",
    summary="Stored values of a feature set",
    responses=page_formats(FeatureValuesPage),
)
async def values(
    state: State,
    request: Request,
    set_id: Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
    query: Annotated[FeatureValuesQuery, Query()],
) -> Response:
    """Values of one symbol in ``[start, end)``, page by page (JSON, Arrow IPC or CSV)."""
    page = await run_in_threadpool(
        market.read_feature_page,
        state.store,
        set_id,
        symbol=query.symbol,
        start=query.start,
        end=query.end,
        limit=query.limit,
        cursor=query.cursor,
    )
    return render_page(request, page)
