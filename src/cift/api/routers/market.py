"""Market data: bars, trades and quotes by page, coverage and quality."""

from __future__ import annotations

import io
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from cift.model import DataKind

from ..deps import State
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
from ..services import market
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/market", tags=["market data"])

ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv"
JSON = "application/json"
TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"


def _formats(model: type) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "model": model,
            "description": "Rows in time order. JSON by default; Arrow IPC stream or CSV by "
            "`Accept`. The next page's cursor is also in the `X-Next-Cursor` header.",
            "content": {ARROW: {}, CSV: {}},
        }
    }


def _render(request: Request, page: market.Page) -> Response:
    accept = request.headers.get("accept", JSON)
    headers = {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}
    if ARROW in accept:
        sink = io.BytesIO()
        page.rows.write_ipc_stream(sink)
        return Response(sink.getvalue(), media_type=ARROW, headers=headers)
    text_rows = page.rows.with_columns(pl.col(pl.Datetime).dt.to_string(TS_FORMAT))
    if CSV in accept:
        return Response(text_rows.write_csv(), media_type=CSV, headers=headers)
    cursor = f'"{page.next_cursor}"' if page.next_cursor else "null"
    body = f'{{"rows":{text_rows.write_json()},"next_cursor":{cursor}}}'
    return Response(body, media_type=JSON, headers=headers)


async def _page(
    state: State, request: Request, kind: DataKind, query: PageQuery, timeframe: str | None
) -> Response:
    page = await run_in_threadpool(
        market.read_page,
        state.store,
        kind,
        symbol=query.symbol,
        start=query.start,
        end=query.end,
        timeframe=timeframe,
        limit=query.limit,
        cursor=query.cursor,
    )
    return _render(request, page)


@router.get("/bars", summary="Bars of one symbol", responses=_formats(BarsPage))
async def bars(state: State, request: Request, query: Annotated[BarsQuery, Query()]) -> Response:
    """Stored bars of ``symbol`` in ``[start, end)``, page by page."""
    return await _page(state, request, DataKind.BARS, query, query.timeframe)


@router.get("/trades", summary="Trades of one symbol", responses=_formats(TradesPage))
async def trades(state: State, request: Request, query: Annotated[PageQuery, Query()]) -> Response:
    """Stored trades of ``symbol`` in ``[start, end)``, page by page."""
    return await _page(state, request, DataKind.TRADES, query, None)


@router.get("/quotes", summary="Quotes of one symbol", responses=_formats(QuotesPage))
async def quotes(state: State, request: Request, query: Annotated[PageQuery, Query()]) -> Response:
    """Stored top-of-book quotes of ``symbol`` in ``[start, end)``, page by page."""
    return await _page(state, request, DataKind.QUOTES, query, None)


@router.get("/coverage", summary="What is stored")
async def coverage(state: State, kind: DataKind | None = None) -> list[CoverageRow]:
    """One row per kind, timeframe and symbol: first and last time and the row count."""
    frame = await run_in_threadpool(market.coverage, state.store, kind)
    return [CoverageRow.model_validate(row) for row in frame.to_dicts()]


@router.get("/quality", summary="Data-quality report")
async def quality(state: State, query: Annotated[QualityQuery, Query()]) -> QualityReportOut:
    """Missing bars against the exchange calendar, duplicates, outliers, bad prices and
    crossed, locked or stale quotes."""
    symbols = query.symbols.split(",") if query.symbols else None
    report = await run_in_threadpool(
        market.quality,
        state.store,
        query.kind,
        symbols=[s.strip() for s in symbols if s.strip()] if symbols else None,
        timeframe=query.timeframe,
        start=query.start,
        end=query.end,
        calendar=query.calendar,
    )
    return QualityReportOut.model_validate(report.to_dict())
