"""Cross-sectional momentum: hold the top symbols by past return, rebalanced on schedule."""

from __future__ import annotations

from pydantic import Field

from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import BarView

NS_PER_DAY = 86_400_000_000_000


class MomentumParams(StrategyParams):
    lookback: int = Field(20, ge=2, description="Bars over which returns are ranked.")
    top: int = Field(3, ge=1, description="How many of the best symbols to hold.")
    rebalance_days: int = Field(5, ge=1, description="Days between rebalances.")
    gross: float = Field(1.0, gt=0, le=2, description="Total equity fraction invested.")


class CrossSectionalMomentum(Strategy):
    """Ranks every symbol by its rate of change over ``lookback`` bars and holds the
    ``top`` ones in equal weights; rebalances at most every ``rebalance_days``."""

    name = "momentum"
    description = "Equal-weight the top-N symbols by trailing return; rebalance periodically."
    Params = MomentumParams
    params: MomentumParams

    def features(self) -> dict[str, str]:
        return {"roc": f"rocp({self.params.lookback})"}

    def on_start(self) -> None:
        self.last_rebalance = -1
        self.scores: dict[str, float] = {}

    def on_bar(self, bar: BarView) -> None:
        score = self.ctx.feature("roc")
        if score is not None:
            self.scores[bar.symbol] = score

    def on_time(self, now_ns: int) -> None:
        day = now_ns // NS_PER_DAY
        due = self.last_rebalance < 0 or day - self.last_rebalance >= self.params.rebalance_days
        if due and len(self.scores) >= self.params.top:
            self._rebalance()
            self.last_rebalance = day

    def _rebalance(self) -> None:
        ranked = sorted(self.scores, key=lambda s: (-self.scores[s], s))
        chosen = set(ranked[: self.params.top])
        weight = self.params.gross / self.params.top
        for symbol in sorted(self.scores):
            for order in self.ctx.open_orders(symbol):
                self.ctx.cancel(order.id)
            held = self.ctx.position(symbol)
            if symbol in chosen:
                self.ctx.order_target_percent(symbol, weight)
            elif held:
                self.ctx.order_target_percent(symbol, 0.0)
