"""Making the Alpaca data provider from the settings (keyword options override them)."""

from __future__ import annotations

from cift.core.settings import Settings

from ..http.config import HttpConfig, required_secrets
from .provider import MAX_PAGE, UPSTREAM, Adjustment, AlpacaProvider


def create(
    settings: Settings,
    *,
    base_url: str | None = None,
    requests_per_minute: int | None = None,
    page_limit: int = MAX_PAGE,
    feed: str | None = None,
    adjustment: Adjustment = "raw",
    **http: float | None,
) -> AlpacaProvider:
    """The Alpaca provider from settings; keyword options override them (tests, tools):
    ``timeout``, ``max_retries``, ``backoff``, ``max_backoff`` and ``max_wait`` tune its
    HTTP client.

    ``adjustment`` defaults to raw prices, in line with the trades and quotes stored next
    to the bars; ``split``, ``dividend`` or ``all`` ask Alpaca to adjust them.
    """
    key_id, secret = required_secrets(
        settings,
        ["alpaca_api_key_id", "alpaca_api_secret_key"],
        "The alpaca provider needs an API key pair",
        "from your Alpaca dashboard",
    )
    config = HttpConfig.of(
        settings,
        base_url or settings.alpaca_data_url,
        requests_per_minute or settings.alpaca_requests_per_minute,
        **http,  # type: ignore[arg-type]
    )
    headers = {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret}
    return AlpacaProvider(
        config.client(UPSTREAM, headers, [key_id, secret]),
        feed=feed or settings.alpaca_feed,
        adjustment=adjustment,
        page_limit=page_limit,
        rate_limit=config.rate_limit,
    )
