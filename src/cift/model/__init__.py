"""Domain types and the schema of every market-data table: the one source of truth for
column names and dtypes.

The schemas are Polars types, loaded when first asked for: commands that touch no
market data (users, keys, the audit log) import the domain rules of this package
(``cift.model.fields``) without paying for Polars.
"""

from typing import TYPE_CHECKING, Any

from cift.model.timeframe import Timeframe

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """The names of ``cift.model.schemas``, imported on first use."""
    if name not in __all__:
        raise AttributeError(f"module 'cift.model' has no attribute {name!r}")
    from cift.model import schemas

    found = getattr(schemas, name)
    globals()[name] = found
    return found
