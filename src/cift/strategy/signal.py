"""Signal strategies for the vectorised research mode: features to a target position."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl


@dataclass(frozen=True)
class SignalStrategy:
    """A target-position rule: the features it reads, by name, and an expression over
    them giving the fraction of equity to hold after each bar (null: no decision)."""

    name: str
    features: Callable[[Mapping[str, Any]], dict[str, str]]
    target: Callable[[Mapping[str, Any]], pl.Expr]
