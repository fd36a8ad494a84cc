"""Signal strategies for the vectorised research mode: features to a target position."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from cift.core.settings import Settings

Derive = Callable[[Mapping[str, Any], pl.DataFrame, "Settings"], dict[str, pl.Series]]
"""Columns computed over one symbol's bars beyond catalog features (a model's scores)."""


@dataclass(frozen=True)
class SignalStrategy:
    """A target-position rule: the features it reads, by name, and an expression over
    them giving the fraction of equity to hold after each bar (null: no decision).

    ``derived`` adds columns the catalog cannot compute, as the event-driven strategy's
    ``derived`` hook does; parameter sets that agree on ``derived_inputs`` share them."""

    name: str
    features: Callable[[Mapping[str, Any]], dict[str, str]]
    target: Callable[[Mapping[str, Any]], pl.Expr]
    derived: Derive | None = None
    derived_inputs: tuple[str, ...] = ()
