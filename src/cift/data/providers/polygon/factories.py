"""Making the Polygon provider from the settings (keyword options override them)."""

from __future__ import annotations

from cift.core.settings import Settings

from ..http.config import HttpConfig, required_secrets
from .provider import MAX_PAGE, UPSTREAM, PolygonProvider


def create(
    settings: Settings,
    *,
    base_url: str | None = None,
    requests_per_minute: int | None = None,
    page_limit: int = MAX_PAGE,
    adjusted: bool = False,
    **http: float | None,
) -> PolygonProvider:
    """The Polygon provider from settings; keyword options override them (tests, tools):
    ``timeout``, ``max_retries``, ``backoff``, ``max_backoff`` and ``max_wait`` tune its
    HTTP client.

    ``adjusted`` asks for split-adjusted bars; the default (raw prices) keeps bars in
    line with the trades and quotes stored next to them.
    """
    (key,) = required_secrets(
        settings,
        ["polygon_api_key"],
        "The polygon provider needs an API key",
        "to your Polygon/Massive key",
    )
    config = HttpConfig.of(
        settings,
        base_url or settings.polygon_base_url,
        requests_per_minute or settings.polygon_requests_per_minute,
        **http,  # type: ignore[arg-type]
    )
    return PolygonProvider(
        config.client(UPSTREAM, {"Authorization": f"Bearer {key}"}, [key]),
        page_limit=page_limit,
        adjusted=adjusted,
        rate_limit=config.rate_limit,
    )
