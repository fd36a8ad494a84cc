"""Shared pieces of the thin httpx clients: retries, throttling, errors, pagination."""

from cift.data.providers.http.client import (
    Fetched,
    HttpClient,
    Params,
    Upstream,
    error_text,
    redact_url,
)
from cift.data.providers.http.pages import malformed, read_page, rebase, within
from cift.data.providers.http.retry import RetryPolicy, retryable, server_wait
from cift.data.providers.http.throttle import Throttle

__all__ = [
    "Fetched",
    "HttpClient",
    "Params",
    "RetryPolicy",
    "Throttle",
    "Upstream",
    "error_text",
    "malformed",
    "read_page",
    "rebase",
    "redact_url",
    "retryable",
    "server_wait",
    "within",
]
