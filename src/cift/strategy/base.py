"""The Strategy base class: one API for backtests, paper and live trading.

A strategy reacts to events through hooks and acts through its context (``self.ctx``):
orders, positions, the portfolio, history windows, features, the clock and a logger.
Parameters are a pydantic model, so ``--param fast=10`` is checked and typed. Features
are declared by name and computed by the feature engine (in batch for a backtest, one
event at a time live), never recomputed in Python on the hot path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from cift.core.errors import ValidationError
from cift.model import DataKind

if TYPE_CHECKING:
    from cift.core.settings import Settings
    from cift.model.orders import Fill, Order
    from cift.strategy.context import BarView, Context, QuoteView, TradeView


class StrategyParams(BaseModel):
    """Typed strategy parameters; subclasses add fields with defaults and bounds."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Strategy:
    """Subclass and override the hooks you need; all default to doing nothing."""

    name: ClassVar[str] = "strategy"
    description: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    data: ClassVar[frozenset[DataKind]] = frozenset({DataKind.BARS})
    """The kinds of market data the strategy reads."""

    def __init__(self, ctx: Context, params: StrategyParams | None = None) -> None:
        self.ctx = ctx
        self.params = params if params is not None else self.Params()

    @classmethod
    def parse_params(cls, values: dict[str, Any]) -> StrategyParams:
        """Validate ``values`` (e.g. from ``--param k=v``) into the typed parameters."""
        try:
            return cls.Params.model_validate(values)
        except PydanticValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            fields = ", ".join(
                f"{name}={field.default!r}" for name, field in cls.Params.model_fields.items()
            )
            raise ValidationError(
                f"Bad parameters for {cls.name}: {problems}. Its parameters: {fields or 'none'}."
            ) from None

    @classmethod
    def resolve(cls, params: dict[str, Any], settings: Settings) -> dict[str, Any]:
        """``params`` with moving references pinned (a model alias to its version), so a
        recorded run names exactly what it used; called once before a run."""
        del settings
        return params

    def derived(self, bars: pl.DataFrame) -> dict[str, pl.Series]:
        """Columns computed once over all the bars (by symbol and time) before the first
        event, read like features with ``self.ctx.feature(name)``: a model's scores, one
        vectorised pass. A value at a bar may use that bar and earlier ones only."""
        del bars
        return {}

    def features(self) -> dict[str, str]:
        """Features the strategy reads, as {name: call}, e.g. {"fast": "sma(10)"}; their
        current values are ``self.ctx.feature(name)``."""
        return {}

    def on_start(self) -> None:
        """Before the first event."""

    def on_bar(self, bar: BarView) -> None:
        """A bar closed (``bar.ts`` is its open time; the clock is at its close)."""

    def on_quote(self, quote: QuoteView) -> None:
        """The top of the book changed."""

    def on_trade(self, trade: TradeView) -> None:
        """A trade printed in the market."""

    def on_time(self, now_ns: int) -> None:
        """Every event stamped ``now_ns`` has been processed (e.g. every symbol's bar of
        a timestamp): the moment for cross-sectional decisions."""

    def on_order(self, order: Order) -> None:
        """One of the strategy's orders changed state."""

    def on_fill(self, fill: Fill) -> None:
        """One of the strategy's orders (partly) filled."""

    def on_stop(self) -> None:
        """After the last event."""
