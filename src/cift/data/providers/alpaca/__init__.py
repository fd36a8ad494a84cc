"""The ``alpaca`` provider: Alpaca market data v2 stock bars, trades and quotes over REST."""

from cift.data.providers.alpaca.factories import create
from cift.data.providers.alpaca.parse import parse_page
from cift.data.providers.alpaca.provider import AlpacaProvider, alpaca_timeframe

__all__ = ["AlpacaProvider", "alpaca_timeframe", "create", "parse_page"]
