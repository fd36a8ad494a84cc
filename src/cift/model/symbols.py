"""The one grammar of a symbol, and how a symbol becomes a folder name.

A symbol is 1-32 ASCII letters, digits and ``. - _ / : ^`` as exchanges write them
(``BRK.B``, ``BTC/USD``, ``^GSPC``, ``ES:CME``), but never ``.`` or ``..`` alone: those
name folders. Every entry point (CLI, API, providers, files, stores) checks this one rule.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import polars as pl

MAX_SYMBOL_LENGTH = 32
SYMBOL_PATTERN = rf"^[A-Za-z0-9.\-_/:^]{{1,{MAX_SYMBOL_LENGTH}}}$"
FOLDER_NAMES = (".", "..")
SYMBOL_RULE = (
    f"1-{MAX_SYMBOL_LENGTH} letters, digits and . - _ / : ^ (not . or .. alone), "
    "e.g. AAPL, BRK.B or BTC/USD"
)
_SYMBOL = re.compile(SYMBOL_PATTERN)


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
