"""Pages of rows as JSON, Arrow IPC or CSV, chosen by the request's ``Accept`` header."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
from fastapi import Request, Response

from .services.market import Page

ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv"
JSON = "application/json"
TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"


def page_formats(model: type) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "model": model,
            "description": "Rows in time order. JSON by default; Arrow IPC stream or CSV by "
            "`Accept`. The next page's cursor is also in the `X-Next-Cursor` header.",
            "content": {ARROW: {}, CSV: {}},
        }
    }


def render_page(request: Request, page: Page) -> Response:
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
