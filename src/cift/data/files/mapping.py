"""How the columns of a user's file map onto CIFT's trades, quotes or bars."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cift.core.errors import ValidationError
from cift.model import DataKind, Timeframe
from cift.model.validation import check_symbols

ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "timestamp_utc", "datetime", "date_time", "time", "date", "t"),
    "symbol": ("symbol", "ticker", "instrument", "sym", "s"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last"),
    "volume": ("volume", "vol", "v"),
    "vwap": ("vwap", "vw"),
    "trades": ("trades", "trade_count", "n", "count"),
    "price": ("price", "p", "trade_price"),
    "size": ("size", "qty", "quantity", "amount", "volume"),
    "side": ("side", "aggressor", "aggressor_side"),
    "trade_id": ("trade_id", "id", "tid", "i"),
    "exchange": ("exchange", "venue", "x"),
    "conditions": ("conditions", "condition"),
    "bid": ("bid", "bid_price", "bp"),
    "ask": ("ask", "ask_price", "ap", "offer"),
    "bid_size": ("bid_size", "bidsize", "bid_qty", "bid_quantity", "bs"),
    "ask_size": ("ask_size", "asksize", "ask_qty", "ask_quantity", "as"),
}
"""Column names recognised without a mapping (case-insensitive), per canonical column."""

BUYER_MAKER = "buyer_maker"
"""Exchange flag: True when the buyer was the maker, i.e. the seller was the aggressor."""


@dataclass(frozen=True)
class FileMapping:
    """Options for reading one file; everything not given is inferred."""

    kind: DataKind | None = None
    symbol: str | None = None
    rename: dict[str, str] = field(default_factory=dict)
    columns: tuple[str, ...] | None = None
    date_column: str | None = None
    time_column: str | None = None
    timestamp_format: str | None = None
    timezone: str = "UTC"
    timeframe: Timeframe | None = None
    separator: str = ","

    def __post_init__(self) -> None:
        if self.symbol is not None:
            check_symbols([self.symbol])

    @staticmethod
    def parse_rename(pairs: str | None) -> dict[str, str]:
        """``"Close=price,Volume=size"`` -> ``{"Close": "price", "Volume": "size"}``."""
        if not pairs:
            return {}
        mapping: dict[str, str] = {}
        for pair in pairs.split(","):
            source, sep, target = pair.partition("=")
            if not sep or not source.strip() or not target.strip():
                raise ValidationError(
                    f"Bad column mapping {pair!r}; write FILE_COLUMN=CIFT_COLUMN pairs "
                    "separated by commas, e.g. Close=price,Volume=size."
                )
            mapping[source.strip()] = target.strip()
        return mapping


def find_column(columns: list[str], canonical: str, rename: dict[str, str]) -> str | None:
    """The file column that holds ``canonical``: mapped explicitly, else by a known alias
    (case-insensitive); None if there is none."""
    for source, target in rename.items():
        if target == canonical:
            return source
    lowered = {c.lower(): c for c in columns if c not in rename}
    for alias in ALIASES.get(canonical, (canonical,)):
        if alias in lowered:
            return lowered[alias]
    return None


def symbol_from_path(path: Path) -> str:
    """A symbol guessed from a file name: the first part that holds a letter, upper-cased."""
    stem = path.name.split(".")[0]
    for token in re.split(r"[-_ ]+", stem):
        if re.search(r"[A-Za-z]", token):
            return token.upper()
    return stem.upper()
