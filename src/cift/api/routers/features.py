"""Features: the catalog, stored feature sets and their values."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from ..deps import State
from ..render import page_formats, render_page
from ..schemas.features import (
    FeatureComputeQuery,
    FeatureInfo,
    FeatureValuesPage,
    FeatureValuesQuery,
    StoredFeatureSet,
)
from ..security import READ
from ..services import features, market
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/features", tags=["features"], dependencies=[READ])


@router.get("", summary="Every feature the platform computes")
def catalog(category: str | None = None) -> list[FeatureInfo]:
    """Names, parameters with defaults and bounds, inputs and outputs of every feature."""
    return features.catalog(category)


@router.get(
    "/compute",
    summary="Features computed on stored bars",
    responses=page_formats(FeatureValuesPage),
)
def compute_on_bars(
    state: State, request: Request, query: Annotated[FeatureComputeQuery, Query()]
) -> Response:
    """Catalog features over one symbol's bars in ``[start, end)``: ts and one column per
    output, in time order, page by page (JSON, Arrow IPC or CSV)."""
    page = market.compute_feature_page(
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
def stored_sets(state: State) -> list[StoredFeatureSet]:
    """One row per stored set and symbol."""
    frame = state.store.feature_sets()
    return [StoredFeatureSet.model_validate(row) for row in frame.to_dicts()]


@router.get(
    "/sets/{set_id}/values",
    summary="Stored values of a feature set",
    responses=page_formats(FeatureValuesPage),
)
def values(
    state: State,
    request: Request,
    set_id: Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
    query: Annotated[FeatureValuesQuery, Query()],
) -> Response:
    """Values of one symbol in ``[start, end)``, page by page (JSON, Arrow IPC or CSV)."""
    page = market.read_feature_page(
        state.store,
        set_id,
        symbol=query.symbol,
        start=query.start,
        end=query.end,
        limit=query.limit,
        cursor=query.cursor,
    )
    return render_page(request, page)
