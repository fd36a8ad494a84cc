"""Prometheus metrics of the HTTP layer, labelled by route template (never the raw path)."""

from __future__ import annotations

from cift import __version__
from cift.core.metrics import counter, gauge, histogram

UNMATCHED_ROUTE = "<unmatched>"

REQUESTS = counter(
    "api", "", "requests", "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"),
)  # fmt: skip
REQUEST_DURATION = histogram(
    "api", "request_duration", "seconds",
    "Time to answer an HTTP request, by method and route template.", ("method", "route"),
)  # fmt: skip
IN_PROGRESS = gauge("api", "in_progress", "requests", "HTTP requests being answered now.")
BUILD_INFO = gauge(
    "api", "build", "info", "Version of the running CIFT package (value is always 1).",
    ("version",), mode="max",
)  # fmt: skip
BUILD_INFO.labels(version=__version__).set(1)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_DURATION.labels(method, route).observe(seconds)
