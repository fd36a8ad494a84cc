"""Market data: bars, trades and quotes by page, coverage and quality."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from cift.model import DataKind

from ..deps import State
from ..render import page_formats, render_page
from ..schemas.market import (
    BarsPage,
    BarsQuery,
    CoverageRow,
    PageQuery,
    QualityQuery,
    QualityReportOut,
    QuotesPage,
    TradesPage,
)
from ..security import READ
from ..services import market
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/market", tags=["market data"], dependencies=[READ])


def _page(
    state: State, request: Request, kind: DataKind, query: PageQuery, timeframe: str | None
) -> Response:
    page = market.read_page(
        state.store,
        kind,
        symbol=query.symbol,
        start=query.start,
        end=query.end,
        timeframe=timeframe,
        limit=query.limit,
        cursor=query.cursor,
    )
    return render_page(request, page)


@router.get("/bars", summary="Bars of one symbol", responses=page_formats(BarsPage))
def bars(state: State, request: Request, query: Annotated[BarsQuery, Query()]) -> Response:
    """Stored bars of ``symbol`` in ``[start, end)``, page by page."""
    return _page(state, request, DataKind.BARS, query, query.timeframe)


@router.get("/trades", summary="Trades of one symbol", responses=page_formats(TradesPage))
def trades(state: State, request: Request, query: Annotated[PageQuery, Query()]) -> Response:
    """Stored trades of ``symbol`` in ``[start, end)``, page by page."""
    return _page(state, request, DataKind.TRADES, query, None)


@router.get("/quotes", summary="Quotes of one symbol", responses=page_formats(QuotesPage))
def quotes(state: State, request: Request, query: Annotated[PageQuery, Query()]) -> Response:
    """Stored top-of-book quotes of ``symbol`` in ``[start, end)``, page by page."""
    return _page(state, request, DataKind.QUOTES, query, None)


@router.get("/coverage", summary="What is stored")
def coverage(state: State, kind: DataKind | None = None) -> list[CoverageRow]:
    """One row per kind, timeframe and symbol: first and last time and the row count."""
    frame = market.coverage(state.store, kind)
    return [CoverageRow.model_validate(row) for row in frame.to_dicts()]


@router.get("/quality", summary="Data-quality report")
def quality(state: State, query: Annotated[QualityQuery, Query()]) -> QualityReportOut:
    """Missing bars against the exchange calendar, duplicates, outliers, bad prices and
    crossed, locked or stale quotes."""
    report = market.quality(
        state.store,
        query.kind,
        symbols=query.chosen_symbols(),
        timeframe=query.timeframe,
        start=query.start,
        end=query.end,
        calendar=query.calendar,
    )
    return QualityReportOut.model_validate(report.to_dict())
