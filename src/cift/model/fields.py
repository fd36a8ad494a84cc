"""Validated field types shared by the records users create: names, symbols, amounts.

They keep what reaches the metadata database storable on every backend (no control
characters, which PostgreSQL text and JSON reject; amounts that fit ``NUMERIC(28, 10)``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from cift.core.errors import CiftError, ValidationError
from cift.model.symbols import MAX_SYMBOL_LENGTH, SYMBOL_RULE, canonical_symbol, is_symbol
from cift.model.timeframe import Timeframe

Record = TypeVar("Record", bound=BaseModel)

Label = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
"""A user-chosen name, 1 to 100 printable characters."""
Text = Annotated[
    str, StringConstraints(max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
]
"""Free text such as a description; line breaks and tabs allowed."""
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"
EmailAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=320, pattern=EMAIL_PATTERN),
]
"""An e-mail address as people type it (``name@host``), stored in lower case."""


def _symbol(text: str) -> str:
    if not is_symbol(text):
        raise ValueError(f"a symbol is {SYMBOL_RULE}")
    return canonical_symbol(text)


Symbol = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_SYMBOL_LENGTH),
    AfterValidator(_symbol),
]
"""A ticker in the spelling it is stored under (see :mod:`cift.model.symbols`)."""
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
"""A parameter name: a Python-style identifier of at most 64 characters."""
MAX_AMOUNT = Decimal("1e15")
PLAIN_DECIMAL = re.compile(r"[0-9]{1,16}(\.[0-9]{1,10})?")


def _plain_decimal(value: Any) -> Any:
    """Money as written by a person: ASCII digits with an optional point. Python's own
    parsing would also take ``1_000``, ``1e3`` and other scripts' digits, and a binary
    float is no exact amount."""
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and PLAIN_DECIMAL.fullmatch(value.strip()):
        return Decimal(value.strip())
    raise ValueError(
        'an amount is a decimal string of ASCII digits such as "1000.50" (no exponent, '
        "separators or binary floats)"
    )


Amount = Annotated[
    Decimal,
    BeforeValidator(_plain_decimal),
    Field(gt=0, lt=MAX_AMOUNT, decimal_places=10, allow_inf_nan=False),
]
"""A positive amount of money with at most 10 decimals, below 10^15."""


def _canonical_timeframe(text: str) -> str:
    try:
        return str(Timeframe.parse(text))
    except CiftError as exc:
        raise ValueError(str(exc)) from None


TimeframeText = Annotated[
    str, StringConstraints(max_length=10), AfterValidator(_canonical_timeframe)
]
"""A bar length as text, stored canonically: ``5Min`` and ``5 minutes`` become ``5m``."""


def validated(model: type[Record], data: Any, what: str) -> Record:
    """``data`` as ``model``; otherwise one CiftError naming each wrong field and why."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ValidationError(f"Invalid {what}: {problems}.") from None
