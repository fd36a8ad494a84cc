"""The one grammar of a symbol, and how a symbol becomes a folder name.

A symbol is 1-32 ASCII letters, digits and ``. - _ / : ^`` as exchanges write them
(``BRK.B``, ``BTC/USD``, ``^GSPC``, ``ES:CME``), but never ``.`` or ``..`` alone: those
name folders. Every entry point (CLI, API, providers, files, stores) checks this one rule.

Venues spell one instrument differently (Binance ``BTCUSDT``, Coinbase ``BTC-USD``,
Polygon ``X:BTCUSD``, Alpaca ``BTC/USD``), so a symbol is stored and looked up in one
canonical spelling (:func:`canonical_symbol`): upper case, a currency pair as
``BASE/QUOTE``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    import polars as pl

MAX_SYMBOL_LENGTH = 32
SYMBOL_PATTERN = rf"^[A-Za-z0-9.\-_/:^]{{1,{MAX_SYMBOL_LENGTH}}}$"
FOLDER_NAMES = (".", "..")
SYMBOL_RULE = (
    f"1-{MAX_SYMBOL_LENGTH} letters, digits and . - _ / : ^ (not . or .. alone), "
    "e.g. AAPL, BRK.B or BTC/USD"
)
_SYMBOL = re.compile(SYMBOL_PATTERN)

STABLECOINS = frozenset({"USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI"})
FIAT = frozenset(
    {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "HKD", "SGD", "SEK", "NOK"}
    | {"DKK", "CNH", "MXN", "ZAR", "TRY", "PLN"}
)
CRYPTO = frozenset(
    {"BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "LTC", "BNB", "DOT", "AVAX", "LINK"}
    | {"MATIC", "BCH", "XLM", "TRX", "SHIB", "UNI", "ATOM", "ETC", "FIL", "APT", "ARB"}
)
QUOTES = sorted(STABLECOINS | FIAT | {"BTC", "ETH"}, key=len, reverse=True)
PAIR_PREFIXES = ("X:", "C:")
"""Polygon's crypto and forex tickers (``X:BTCUSD``, ``C:EURUSD``)."""
_PAIR = re.compile(r"^([A-Z]{2,10})[/\-_]([A-Z]{2,5})$")


def is_symbol(value: object) -> bool:
    """Whether ``value`` is a symbol CIFT can store."""
    return isinstance(value, str) and bool(_SYMBOL.match(value)) and value not in FOLDER_NAMES


def valid_symbol(column: pl.Expr) -> pl.Expr:
    """True where ``column`` holds a symbol CIFT can store (null counts as not)."""
    return (column.str.contains(SYMBOL_PATTERN) & ~column.is_in(FOLDER_NAMES)).fill_null(False)


def symbol_folder(symbol: str) -> str:
    """A folder name for ``symbol``: percent-encoded with every ``.`` escaped too, so
    distinct symbols get distinct names and none is ``.`` or ``..``."""
    return quote(symbol, safe="").replace(".", "%2E")


def canonical_symbol(symbol: str) -> str:
    """The one spelling CIFT stores and looks up: upper case, and a currency pair as
    ``BASE/QUOTE``.

    >>> [canonical_symbol(s) for s in ("BTCUSDT", "btc-usdt", "X:BTCUSD", "EURUSD")]
    ['BTC/USDT', 'BTC/USDT', 'BTC/USD', 'EUR/USD']
    >>> [canonical_symbol(s) for s in ("aapl", "BRK-B", "BRK.B", "^GSPC", "USDJPY")]
    ['AAPL', 'BRK-B', 'BRK.B', '^GSPC', 'USD/JPY']
    """
    text = symbol.strip().upper()
    prefixed = text.startswith(PAIR_PREFIXES)
    if prefixed:
        text = text[2:]
    split = _PAIR.match(text)
    if split and split.group(2) in QUOTES:
        return f"{split.group(1)}/{split.group(2)}"
    for currency in QUOTES:
        base = text[: -len(currency)]
        known = prefixed or currency in STABLECOINS or base in CRYPTO or {base, currency} <= FIAT
        if known and text.endswith(currency) and 2 <= len(base) <= 10 and base.isalpha():
            return f"{base}/{currency}"
    return text


def canonical_symbols(column: pl.Series) -> pl.Series:
    """Every value of ``column`` in its canonical spelling (nulls kept)."""
    spellings = column.drop_nulls().unique().to_list()
    mapping = {s: canonical_symbol(s) for s in spellings if isinstance(s, str)}
    if all(k == v for k, v in mapping.items()):
        return column
    return column.replace(mapping)
