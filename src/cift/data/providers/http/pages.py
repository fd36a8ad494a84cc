"""Pagination and page parsing shared by the REST providers.

A page's JSON goes straight into a native JSON reader with an explicit schema: no Python
object per row, no per-row loop, and only the fields asked for are kept. Polars' reader
is the fastest but needs about ten times the body in memory; Arrow's needs about twice
and hands its columns to Polars without a copy. Bodies up to a few megabytes (every
Alpaca page) go to Polars, larger ones (Polygon's 50,000-row pages) to Arrow.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from urllib.parse import urlsplit

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.json as pa_json  # type: ignore[import-untyped]
from polars.datatypes import DataTypeClass

from cift.core.errors import ProviderError

from .client import Fetched, HttpClient


def rebase(next_url: str) -> str:
    """The path and query of a provider's ``next_url``, to request on our own base URL.

    The host in ``next_url`` is never trusted: requests stay on the configured base URL
    (a proxy, a regional host or a local server) and keep our credentials headers.
    """
    parts = urlsplit(next_url)
    if not parts.path.startswith("/"):
        raise ValueError(f"next_url {next_url!r} has no absolute path")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def within(frame: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Rows whose ``ts`` lies in ``[start, end)`` (providers' ends are often inclusive)."""
    return frame.filter(pl.col("ts").is_between(pl.lit(start), pl.lit(end), closed="left"))


POLARS_READER_MAX_BYTES = 4 << 20
"""Bodies up to this size go to Polars' JSON reader, larger ones to Arrow's."""

ARROW_TYPES: dict[DataTypeClass, pa.DataType] = {
    pl.String: pa.string(),
    pl.Int64: pa.int64(),
    pl.UInt64: pa.uint64(),
    pl.Float64: pa.float64(),
    pl.Boolean: pa.bool_(),
}


def arrow_type(dtype: pl.DataType | DataTypeClass) -> pa.DataType:
    """The Arrow type the JSON reader fills for a Polars type (plain lists and strings)."""
    if isinstance(dtype, pl.List):
        return pa.list_(arrow_type(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return pa.struct([(f.name, arrow_type(f.dtype)) for f in dtype.fields])
    return ARROW_TYPES[dtype if isinstance(dtype, DataTypeClass) else type(dtype)]


def read_page(client: HttpClient, fetched: Fetched, schema: pl.Schema) -> pl.DataFrame:
    """Parse one JSON object into a one-row frame with ``schema`` (fields not in it are skipped).

    A body that is not one JSON object, or whose fields have the wrong types, raises
    ``ProviderError`` naming the URL and where the body goes wrong.
    """
    body = fetched.body
    if body.lstrip()[:1] != b"{":  # Arrow's reader must never see a bare top-level value
        raise malformed(client, fetched, "the body is not a JSON object")
    try:
        if len(body) <= POLARS_READER_MAX_BYTES:
            page = pl.read_json(io.BytesIO(body), schema=schema)
        else:
            page = _read_arrow(body, schema)
    except (pl.exceptions.PolarsError, pa.ArrowException) as exc:
        raise malformed(client, fetched, _where(body, exc)) from None
    if page.height != 1:
        several = ValueError(f"{page.height} JSON values instead of one")
        raise malformed(client, fetched, _where(body, several))
    return page


def _read_arrow(body: bytes, schema: pl.Schema) -> pl.DataFrame:
    arrow_schema = pa.schema([(name, arrow_type(dtype)) for name, dtype in schema.items()])
    table = pa_json.read_json(
        io.BytesIO(body),
        read_options=pa_json.ReadOptions(block_size=len(body) + 1),
        parse_options=pa_json.ParseOptions(
            explicit_schema=arrow_schema,
            unexpected_field_behavior="ignore",
            newlines_in_values=True,
        ),
    )
    page = pl.from_arrow(table)
    assert isinstance(page, pl.DataFrame)  # a table always converts to a frame
    return page


def _where(body: bytes, exc: Exception) -> str:
    """Where the body stops being valid JSON, else that a field has the wrong type."""
    try:
        json.loads(body)
    except json.JSONDecodeError as bad:
        return f"{bad.msg} at character {bad.pos}"
    except ValueError as bad:
        return str(bad)
    detail = " ".join(str(exc).split("\n\n")[0].split()).removeprefix("JSON parse error: ")
    return f"a field has an unexpected type ({detail.removesuffix(' in row 0')})"


def malformed(client: HttpClient, fetched: Fetched, reason: str) -> ProviderError:
    """The error for a page that is not in the documented format."""
    start = client.scrub(" ".join(fetched.body[:80].decode("utf-8", "replace").split()))
    return ProviderError(
        f"{client.upstream.name} sent a page that is not in its documented format from "
        f"{fetched.url}: {client.scrub(reason)} (the body starts {start!r}). Retry later; "
        "if it persists, the API may have changed.",
        details={"url": fetched.url},
    )
