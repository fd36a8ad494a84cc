"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Numeric, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

MONEY_PRECISION = 28
MONEY_SCALE = 10


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored and returned in UTC.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are normalised
    to UTC on the way in and marked UTC on the way out. Naive datetimes are refused:
    a timestamp without a zone is a bug, not an assumption to make silently.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}; use a timezone-aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """An exact decimal amount: ``NUMERIC(28, 10)``.

    SQLite's NUMERIC affinity would turn values into binary floats, so there the exact
    decimal string is stored instead; PostgreSQL stores a real ``NUMERIC``.
    """

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(MONEY_PRECISION + 2))
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"money amount must be finite, got {value!r}")
        quantized = amount.quantize(Decimal(1).scaleb(-MONEY_SCALE))
        if dialect.name == "sqlite":
            return format(quantized, "f")
        return quantized

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")
"""A JSON document column: ``jsonb`` on PostgreSQL, JSON text on SQLite."""
