"""Order-flow imbalance: follow the aggressive side of the tape and the book's tilt."""

from __future__ import annotations

import math

from pydantic import Field

from cift.model import DataKind
from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import QuoteView, TradeView


class OrderFlowParams(StrategyParams):
    halflife: float = Field(
        50.0, gt=0, description="Trades over which signed volume decays by half."
    )
    threshold: float = Field(
        0.3, gt=0, lt=1, description="Imbalance in (-1, 1) that opens a position."
    )
    book_weight: float = Field(
        0.5, ge=0, le=1, description="Weight of the quote-size tilt vs the tape."
    )
    size: float = Field(100.0, gt=0, description="Shares per position.")


class OrderFlowImbalance(Strategy):
    """Tracks an exponentially decayed imbalance of buyer- vs seller-initiated volume
    (trade ``side``) blended with the top-of-book size tilt; goes long above the
    threshold, short below its negative, flat in between. Needs trades and quotes."""

    name = "order_flow"
    description = "Trade with the decayed buy/sell volume imbalance and the book's size tilt."
    Params = OrderFlowParams
    data = frozenset({DataKind.TRADES, DataKind.QUOTES})
    params: OrderFlowParams

    def on_start(self) -> None:
        self.decay = math.exp(math.log(0.5) / self.params.halflife)
        self.buys: dict[str, float] = {}
        self.sells: dict[str, float] = {}
        self.tilt: dict[str, float] = {}

    def on_quote(self, quote: QuoteView) -> None:
        depth = quote.bid_size + quote.ask_size
        if depth > 0:
            self.tilt[quote.symbol] = (quote.bid_size - quote.ask_size) / depth

    def on_trade(self, trade: TradeView) -> None:
        symbol, decay = trade.symbol, self.decay
        buys = self.buys.get(symbol, 0.0) * decay + (trade.size if trade.side > 0 else 0.0)
        sells = self.sells.get(symbol, 0.0) * decay + (trade.size if trade.side < 0 else 0.0)
        self.buys[symbol], self.sells[symbol] = buys, sells
        if buys + sells <= 0:
            return
        weight = self.params.book_weight
        signal = (1 - weight) * (buys - sells) / (buys + sells) + weight * self.tilt.get(
            symbol, 0.0
        )
        threshold = self.params.threshold
        target = (
            self.params.size
            if signal > threshold
            else (-self.params.size if signal < -threshold else 0.0)
        )
        if target != self.ctx.position(symbol) and not self.ctx.open_orders(symbol):
            self.ctx.order_target(symbol, target)
