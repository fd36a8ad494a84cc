"""Pagination and page parsing shared by the REST providers.

A page's JSON goes straight into Arrow's JSON reader with an explicit schema, then to
Polars without a copy: no Python object per row, no per-row loop, only the fields asked
for are kept, and memory stays at about twice the body (Polars' own JSON reader was as
fast but needed about ten times the body).
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
    ``ProviderError`` naming the URL and where the parser stopped.
    """
    body = fetched.body
    if body.lstrip()[:1] != b"{":  # the reader must never see a bare top-level value
        raise malformed(client, fetched, "the body is not a JSON object")
    arrow_schema = pa.schema([(name, arrow_type(dtype)) for name, dtype in schema.items()])
    try:
        table = pa_json.read_json(
            io.BytesIO(body),
            read_options=pa_json.ReadOptions(block_size=len(body) + 1),
            parse_options=pa_json.ParseOptions(
                explicit_schema=arrow_schema,
                unexpected_field_behavior="ignore",
                newlines_in_values=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise malformed(client, fetched, _where(body, exc)) from None
    if table.num_rows != 1:
        raise malformed(client, fetched, f"{table.num_rows} JSON values instead of one")
    page = pl.from_arrow(table)
    assert isinstance(page, pl.DataFrame)  # a table always converts to a frame
    return page


def _where(body: bytes, exc: Exception) -> str:
    """Where the body stops being valid JSON, else which field has the wrong type."""
    try:
        json.loads(body)
    except json.JSONDecodeError as bad:
        return f"{bad.msg} at character {bad.pos}"
    except ValueError as bad:
        return str(bad)
    return str(exc).removeprefix("JSON parse error: ").removesuffix(" in row 0")


def malformed(client: HttpClient, fetched: Fetched, reason: str) -> ProviderError:
    """The error for a page that is not in the documented format."""
    start = client.scrub(" ".join(fetched.body[:80].decode("utf-8", "replace").split()))
    return ProviderError(
        f"{client.upstream.name} sent a page that is not in its documented format from "
        f"{fetched.url}: {client.scrub(reason)} (the body starts {start!r}). Retry later; "
        "if it persists, the API may have changed.",
        details={"url": fetched.url},
    )
