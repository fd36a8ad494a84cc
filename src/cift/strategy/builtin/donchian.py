"""Donchian breakout: buy a new high of the channel, exit at a shorter channel's low."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import BarView


class DonchianParams(StrategyParams):
    entry: int = Field(20, ge=2, description="Bars of the entry channel (highest high).")
    exit: int = Field(10, ge=2, description="Bars of the exit channel (lowest low).")
    fraction: float = Field(1.0, gt=0, le=10, description="Equity fraction per position.")


class DonchianBreakout(Strategy):
    """Turtle-style: enter when the close exceeds the highest high of the previous
    ``entry`` bars, leave when it falls below the lowest low of the previous ``exit``."""

    name = "donchian_breakout"
    description = "Buy breakouts above the prior N-bar high; sell below the prior M-bar low."
    Params = DonchianParams
    params: DonchianParams

    def on_bar(self, bar: BarView) -> None:
        p = self.params
        highs = self.ctx.history(bar.symbol, "high", p.entry + 1)
        lows = self.ctx.history(bar.symbol, "low", p.exit + 1)
        if len(highs) <= p.entry or len(lows) <= p.exit or self.ctx.open_orders(bar.symbol):
            return
        held = self.ctx.position()
        if held == 0 and bar.close > float(np.max(highs[:-1])):
            self.ctx.order_target_percent(bar.symbol, p.fraction)
        elif held > 0 and bar.close < float(np.min(lows[:-1])):
            self.ctx.order_target_percent(bar.symbol, 0.0)
