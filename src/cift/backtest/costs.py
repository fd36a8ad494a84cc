"""Transaction costs: commissions, slippage and market impact.

Commission models get the fill's quantity and price and the shares already traded in
the run (for volume tiers) and return money. Slippage models move the fill price against
the trader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from cift.core.errors import ValidationError


class CommissionModel(Protocol):
    def cost(self, quantity: float, price: float, traded_before: float) -> float:
        """Commission of one fill (positive money)."""
        ...


@dataclass(frozen=True)
class NoCommission:
    def cost(self, quantity: float, price: float, traded_before: float) -> float:
        return 0.0


def _at_least_zero(model: str, **values: float | None) -> None:
    """Refuse a negative (or not finite) cost: it would pay the trader for trading."""
    for name, value in values.items():
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValidationError(
                f"{model} {name} is {value}: a cost is 0 or more (a negative one would pay "
                "for every trade); give a finite value >= 0."
            )


@dataclass(frozen=True)
class PerShare:
    """A rate per share with a minimum per fill and an optional cap as a fraction of
    the notional (like many retail brokers)."""

    rate: float
    minimum: float = 0.0
    cap_fraction: float | None = None

    def __post_init__(self) -> None:
        _at_least_zero(
            "per-share commission", rate=self.rate, minimum=self.minimum, cap=self.cap_fraction
        )

    def cost(self, quantity: float, price: float, traded_before: float) -> float:
        fee = max(abs(quantity) * self.rate, self.minimum)
        if self.cap_fraction is not None:
            fee = min(fee, self.cap_fraction * abs(quantity) * price)
        return fee


@dataclass(frozen=True)
class Bps:
    """A fraction of the notional, in basis points, with a minimum per fill."""

    bps: float
    minimum: float = 0.0

    def __post_init__(self) -> None:
        _at_least_zero("commission", bps=self.bps, minimum=self.minimum)

    def cost(self, quantity: float, price: float, traded_before: float) -> float:
        return max(abs(quantity) * price * self.bps / 10_000.0, self.minimum)


@dataclass(frozen=True)
class Tiered:
    """Per-share rates falling with the shares traded in the run so far: ``tiers`` are
    (shares traded from which the rate applies, rate per share), ascending."""

    tiers: tuple[tuple[float, float], ...]
    minimum: float = 0.0

    def __post_init__(self) -> None:
        _at_least_zero("tiered commission", minimum=self.minimum)
        for _, rate in self.tiers:
            _at_least_zero("tiered commission", rate=rate)
        starts = [start for start, _ in self.tiers]
        if not self.tiers or starts[0] != 0 or starts != sorted(starts):
            raise ValidationError("Tiers must start at 0 shares and be in ascending order.")

    def cost(self, quantity: float, price: float, traded_before: float) -> float:
        remaining, position, fee = abs(quantity), traded_before, 0.0
        for index, (start, rate) in enumerate(self.tiers):
            end = self.tiers[index + 1][0] if index + 1 < len(self.tiers) else math.inf
            if position >= end:
                continue
            take = min(remaining, end - max(position, start))
            fee += take * rate
            remaining -= take
            position += take
            if remaining <= 0:
                break
        return max(fee, self.minimum)


class SlippageModel(Protocol):
    def adjust(
        self, side: int, price: float, quantity: float, bar_volume: float, bar_range: float
    ) -> float:
        """The fill price after slippage for a fill of ``quantity`` at ``price``."""
        ...


@dataclass(frozen=True)
class NoSlippage:
    def adjust(
        self, side: int, price: float, quantity: float, bar_volume: float, bar_range: float
    ) -> float:
        return price


@dataclass(frozen=True)
class FixedBps:
    """A constant cost in basis points against the trader."""

    bps: float

    def __post_init__(self) -> None:
        _at_least_zero("slippage", bps=self.bps)

    def adjust(
        self, side: int, price: float, quantity: float, bar_volume: float, bar_range: float
    ) -> float:
        return price * (1.0 + side * self.bps / 10_000.0)


@dataclass(frozen=True)
class HalfSpread:
    """Half of an assumed bid-ask spread (in basis points) when fills happen on bars;
    fills on quotes already cross the real spread."""

    spread_bps: float

    def __post_init__(self) -> None:
        _at_least_zero("half-spread slippage", spread_bps=self.spread_bps)

    def adjust(
        self, side: int, price: float, quantity: float, bar_volume: float, bar_range: float
    ) -> float:
        return price * (1.0 + side * self.spread_bps / 20_000.0)


@dataclass(frozen=True)
class SquareRootImpact:
    """Impact = k · sigma · sqrt(quantity / volume) of the price, sigma the bar's relative range
    (high - low) / close as a volatility proxy (Almgren-style square-root law)."""

    k: float = 1.0

    def __post_init__(self) -> None:
        _at_least_zero("square-root impact", k=self.k)

    def adjust(
        self, side: int, price: float, quantity: float, bar_volume: float, bar_range: float
    ) -> float:
        if bar_volume <= 0 or math.isnan(bar_volume):
            return price
        impact = self.k * bar_range * math.sqrt(abs(quantity) / bar_volume)
        return price * (1.0 + side * impact)
