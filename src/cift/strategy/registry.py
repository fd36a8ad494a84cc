"""Built-in strategies by name, for the CLI, the API and recorded runs."""

from __future__ import annotations

from cift.core.errors import ValidationError
from cift.strategy.base import Strategy
from cift.strategy.builtin.donchian import DonchianBreakout
from cift.strategy.builtin.model_signal import ModelSignal
from cift.strategy.builtin.momentum import CrossSectionalMomentum
from cift.strategy.builtin.order_flow import OrderFlowImbalance
from cift.strategy.builtin.rsi_reversion import RsiReversion
from cift.strategy.builtin.sma_cross import SmaCross

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        SmaCross,
        RsiReversion,
        DonchianBreakout,
        CrossSectionalMomentum,
        OrderFlowImbalance,
        ModelSignal,
    )
}


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class called ``name``, or an error listing them all."""
    found = STRATEGIES.get(name)
    if found is None:
        raise ValidationError(f"Unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}.")
    return found
