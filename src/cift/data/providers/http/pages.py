"""Pagination and page parsing shared by the REST providers.

A page's JSON goes straight into Polars' native reader with an explicit schema: no
Python object per row, no per-row loop, and only the fields asked for are kept.
"""

from __future__ import annotations

import io
from datetime import datetime
from urllib.parse import urlsplit

import polars as pl

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


def read_page(client: HttpClient, fetched: Fetched, schema: pl.Schema) -> pl.DataFrame:
    """Parse one JSON object into a one-row frame with ``schema`` (fields not in it are skipped).

    A body that is not JSON, or whose fields have the wrong types, raises
    ``ProviderError`` naming the URL and where the parser stopped.
    """
    try:
        return pl.read_json(io.BytesIO(fetched.body), schema=schema)
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError) as exc:
        reason = " ".join(str(exc).split("\n\n")[0].split())
        raise malformed(client, fetched, reason) from None


def malformed(client: HttpClient, fetched: Fetched, reason: str) -> ProviderError:
    """The error for a page that is not in the documented format."""
    start = client.scrub(" ".join(fetched.body[:80].decode("utf-8", "replace").split()))
    return ProviderError(
        f"{client.upstream.name} sent a page that is not in its documented format from "
        f"{fetched.url}: {client.scrub(reason)} (the body starts {start!r}). Retry later; "
        "if it persists, the API may have changed.",
        details={"url": fetched.url},
    )
