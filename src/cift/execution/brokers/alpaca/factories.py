"""Making an account's Alpaca broker: its endpoint by mode, its keys from the
environment variable the account names (``credentials_ref``), never from the database."""

from __future__ import annotations

import os

from cift.core.errors import ConfigurationError
from cift.core.settings import Settings
from cift.data.providers.http import Upstream
from cift.data.providers.http.config import HttpConfig
from cift.db.models import AccountMode, TradingAccount
from cift.execution.brokers.alpaca.broker import AlpacaBroker
from cift.execution.brokers.alpaca.stream import TradeUpdates

UPSTREAM = Upstream(
    name="Alpaca",
    url_setting="CIFT_ALPACA_PAPER_URL or CIFT_ALPACA_LIVE_URL",
    credentials_hint="Check the key pair in the account's credentials_ref variable.",
    entitlement_hint="Check that the account may trade this (its status and permissions).",
)


def credentials(account: TradingAccount) -> tuple[str, str]:
    """The account's key id and secret from ``$<credentials_ref>`` (``KEY_ID:SECRET``)."""
    name = account.credentials_ref
    value = os.environ.get(name or "", "").strip()
    key_id, _, secret = value.partition(":")
    if not name or not key_id or not secret:
        raise ConfigurationError(
            f"Account {account.name} trades through Alpaca: set the environment variable "
            f"{name or '(its credentials_ref)'} to KEY_ID:SECRET_KEY from your Alpaca "
            "dashboard (paper keys for a paper account)."
        )
    return key_id, secret


def create_broker(
    settings: Settings,
    account: TradingAccount,
    *,
    base_url: str | None = None,
    stream: bool = True,
    max_retries: int | None = None,
    backoff: float = 0.5,
) -> AlpacaBroker:
    """The account's broker; ``stream`` starts its trade_updates reader (and waits until
    it listens)."""
    key_id, secret = credentials(account)
    url = base_url or (
        settings.alpaca_live_url if account.mode is AccountMode.LIVE else settings.alpaca_paper_url
    )
    config = HttpConfig.of(
        settings,
        url,
        settings.alpaca_trading_requests_per_minute,
        max_retries=max_retries,
        backoff=backoff,
    )
    headers = {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret}
    client = config.client(UPSTREAM, headers, [key_id, secret])
    updates = None
    if stream:
        socket_url = url.replace("https://", "wss://").replace("http://", "ws://").rstrip("/")
        updates = TradeUpdates(f"{socket_url}/stream", key_id, secret)
        try:
            updates.start()
        except BaseException:
            updates.close()
            client.close()
            raise
    return AlpacaBroker(client, updates)
