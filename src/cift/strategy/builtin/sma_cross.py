"""SMA crossover: long (or short) while the fast average is above (below) the slow one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from pydantic import Field, model_validator

from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import BarView
from cift.strategy.signal import SignalStrategy


class SmaCrossParams(StrategyParams):
    fast: int = Field(10, ge=1, description="Bars in the fast average.")
    slow: int = Field(50, ge=2, description="Bars in the slow average.")
    fraction: float = Field(1.0, gt=0, le=10, description="Equity fraction held when in.")
    allow_short: bool = Field(False, description="Go short when fast < slow (else flat).")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")
        return self


class SmaCross(Strategy):
    """Trades the crossing of two simple moving averages of the close, on each symbol."""

    name = "sma_cross"
    description = (
        "Long while SMA(fast) > SMA(slow), flat (or short) otherwise; sized at the next open."
    )
    Params = SmaCrossParams
    params: SmaCrossParams

    def features(self) -> dict[str, str]:
        return {"fast": f"sma({self.params.fast})", "slow": f"sma({self.params.slow})"}

    def on_start(self) -> None:
        self.long = self.params.fraction
        self.short = -self.params.fraction if self.params.allow_short else 0.0

    def on_bar(self, bar: BarView) -> None:
        ctx = self.ctx
        fast, slow = ctx.feature("fast"), ctx.feature("slow")
        if fast is None or slow is None:
            return
        target = self.long if fast > slow else self.short
        held = ctx.position()
        moving = (held > 0) != (target > 0) or (held < 0) != (target < 0)
        if moving and not ctx.open_orders(bar.symbol):
            ctx.order_target_percent(bar.symbol, target)


def _target(params: Mapping[str, Any]) -> pl.Expr:
    values = SmaCrossParams.model_validate(params)
    short = -values.fraction if values.allow_short else 0.0
    both = pl.col("fast").is_not_null() & pl.col("slow").is_not_null()
    return pl.when(both).then(
        pl.when(pl.col("fast") > pl.col("slow")).then(values.fraction).otherwise(short)
    )


SIGNAL = SignalStrategy(
    name="sma_cross",
    features=lambda p: {"fast": f"sma({p['fast']})", "slow": f"sma({p['slow']})"},
    target=_target,
)
"""The same rule for the vectorised research mode."""
