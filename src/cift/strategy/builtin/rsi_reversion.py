"""RSI mean reversion: buy when oversold, sell when the RSI recovers."""

from __future__ import annotations

from pydantic import Field, model_validator

from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import BarView


class RsiReversionParams(StrategyParams):
    period: int = Field(14, ge=2, description="RSI period in bars.")
    oversold: float = Field(30.0, gt=0, lt=100, description="Enter below this RSI.")
    exit: float = Field(55.0, gt=0, lt=100, description="Leave above this RSI.")
    fraction: float = Field(1.0, gt=0, le=10, description="Equity fraction per position.")

    @model_validator(mode="after")
    def _ordered(self) -> RsiReversionParams:
        if self.exit <= self.oversold:
            raise ValueError(f"exit ({self.exit}) must be above oversold ({self.oversold})")
        return self


class RsiReversion(Strategy):
    """Long after a dip: in when RSI < oversold, out when RSI > exit; per symbol."""

    name = "rsi_reversion"
    description = "Buy when RSI is oversold, sell when it has recovered."
    Params = RsiReversionParams
    params: RsiReversionParams

    def features(self) -> dict[str, str]:
        return {"rsi": f"rsi({self.params.period})"}

    def on_bar(self, bar: BarView) -> None:
        rsi = self.ctx.feature("rsi")
        if rsi is None or self.ctx.open_orders(bar.symbol):
            return
        held = self.ctx.position()
        if held == 0 and rsi < self.params.oversold:
            self.ctx.order_target_percent(bar.symbol, self.params.fraction)
        elif held > 0 and rsi > self.params.exit:
            self.ctx.order_target_percent(bar.symbol, 0.0)
