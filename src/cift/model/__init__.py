"""Domain types and the schema of every market-data table: the one source of truth for
column names and dtypes."""

from cift.model.schemas import (
    BAR_SCHEMA,
    KEY_COLUMNS,
    QUOTE_SCHEMA,
    SCHEMAS,
    TRADE_SCHEMA,
    TS_DTYPE,
    DataKind,
    Side,
    empty_frame,
)
from cift.model.timeframe import Timeframe

__all__ = [
    "BAR_SCHEMA",
    "KEY_COLUMNS",
    "QUOTE_SCHEMA",
    "SCHEMAS",
    "TRADE_SCHEMA",
    "TS_DTYPE",
    "DataKind",
    "Side",
    "Timeframe",
    "empty_frame",
]
