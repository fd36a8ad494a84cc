"""Backtest settings: money, costs, fills, latency and the account's rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cift.backtest.config_schema import ConfigSpec
from cift.backtest.costs import (
    Bps,
    CommissionModel,
    FixedBps,
    HalfSpread,
    NoCommission,
    NoSlippage,
    PerShare,
    SlippageModel,
    SquareRootImpact,
    Tiered,
)
from cift.core.errors import ValidationError
from cift.model.fields import validated


@dataclass(frozen=True)
class BacktestConfig:
    """Everything besides data and strategy that decides a backtest's result."""

    initial_cash: float = 100_000.0
    commission: CommissionModel = field(default_factory=NoCommission)
    slippage: SlippageModel = field(default_factory=NoSlippage)
    latency_ns: int = 0
    participation: float | None = None
    account: Literal["cash", "margin"] = "cash"
    leverage: float = 1.0
    borrow_rate: float = 0.0
    fractional: bool = False
    sizing: Literal["fill", "decision"] = "fill"
    calendar: str | None = None

    def __post_init__(self) -> None:
        if self.initial_cash <= 0:
            raise ValidationError("initial_cash must be positive.")
        if self.participation is not None and not 0 < self.participation <= 1:
            raise ValidationError("participation is a fraction of bar volume in (0, 1].")
        if self.leverage < 1:
            raise ValidationError("leverage must be at least 1.")
        if self.latency_ns < 0:
            raise ValidationError("latency must not be negative.")

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (recorded with each run)."""
        return {
            "initial_cash": self.initial_cash,
            "commission": _model(self.commission),
            "slippage": _model(self.slippage),
            "latency_ns": self.latency_ns,
            "participation": self.participation,
            "account": self.account,
            "leverage": self.leverage,
            "borrow_rate": self.borrow_rate,
            "fractional": self.fractional,
            "sizing": self.sizing,
            "calendar": self.calendar,
        }

    @classmethod
    def from_description(cls, data: dict[str, Any]) -> BacktestConfig:
        """Inverse of :meth:`describe` (to re-run a recorded backtest); refuses settings
        that are unknown, non-finite or out of bounds, naming each."""
        values = validated(ConfigSpec, data, "backtest settings").model_dump()
        values["commission"] = _build(values["commission"])
        values["slippage"] = _build(values["slippage"])
        return cls(**values)


_MODELS: dict[str, type[Any]] = {
    "none": NoCommission,
    "per_share": PerShare,
    "bps": Bps,
    "tiered": Tiered,
    "no_slippage": NoSlippage,
    "fixed_bps": FixedBps,
    "half_spread": HalfSpread,
    "sqrt_impact": SquareRootImpact,
}
_NAMES = {cls: name for name, cls in _MODELS.items()}


def _model(model: object) -> dict[str, Any]:
    names = getattr(model, "__dataclass_fields__", {})
    return {"model": _NAMES[type(model)], **{name: getattr(model, name) for name in names}}


def _build(data: dict[str, Any]) -> Any:
    values = dict(data)
    name = values.pop("model")
    if name == "tiered":
        values["tiers"] = tuple(tuple(t) for t in values["tiers"])
    return _MODELS[name](**values)
