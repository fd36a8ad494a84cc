"""The schema of backtest settings as users write them (API bodies, recorded runs, CLI).

Every number is finite and bounded and every object refuses keys it does not know, so a
NaN cash, a negative commission or a misspelt setting is a clear 422, not a crash deep
in the engine; the OpenAPI document shows the same rules.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_CASH = 1e15
Rate = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
"""A non-negative cost parameter (a rate per share, basis points, money)."""


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class NoCommissionSpec(_Closed):
    model: Literal["none"] = "none"


class PerShareSpec(_Closed):
    model: Literal["per_share"]
    rate: Rate = Field(description="Money per share.")
    minimum: Rate = Field(0.0, description="Least commission of one fill.")
    cap_fraction: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = Field(
        None, description="Most commission of one fill, as a fraction of its notional."
    )


class BpsSpec(_Closed):
    model: Literal["bps"]
    bps: Rate = Field(description="Basis points of the notional.")
    minimum: Rate = Field(0.0, description="Least commission of one fill.")


class TieredSpec(_Closed):
    model: Literal["tiered"]
    tiers: list[tuple[Rate, Rate]] = Field(
        min_length=1,
        max_length=100,
        description="(shares traded from which the rate applies, rate per share), ascending "
        "from 0.",
    )
    minimum: Rate = Field(0.0, description="Least commission of one fill.")


class NoSlippageSpec(_Closed):
    model: Literal["no_slippage"] = "no_slippage"


class FixedBpsSpec(_Closed):
    model: Literal["fixed_bps"]
    bps: Rate = Field(description="Basis points the fill price moves against the trader.")


class HalfSpreadSpec(_Closed):
    model: Literal["half_spread"]
    spread_bps: Rate = Field(description="The spread in basis points; fills pay half.")


class SquareRootImpactSpec(_Closed):
    model: Literal["sqrt_impact"]
    k: Rate = Field(1.0, description="Impact coefficient on sqrt(quantity / bar volume).")


CommissionSpec = Annotated[
    NoCommissionSpec | PerShareSpec | BpsSpec | TieredSpec, Field(discriminator="model")
]
SlippageSpec = Annotated[
    NoSlippageSpec | FixedBpsSpec | HalfSpreadSpec | SquareRootImpactSpec,
    Field(discriminator="model"),
]


class ConfigSpec(_Closed):
    """Backtest settings; any left out take their defaults."""

    initial_cash: float = Field(
        100_000.0, gt=0, lt=MAX_CASH, allow_inf_nan=False, description="Starting cash."
    )
    commission: CommissionSpec = Field(default_factory=NoCommissionSpec)
    slippage: SlippageSpec = Field(default_factory=NoSlippageSpec)
    latency_ns: int = Field(
        0, ge=0, le=86_400 * 10**9, description="Order-to-market delay, at most a day."
    )
    participation: float | None = Field(
        None, gt=0, le=1, allow_inf_nan=False, description="Largest fraction of bar volume."
    )
    account: Literal["cash", "margin"] = "cash"
    leverage: float = Field(1.0, ge=1, le=100, allow_inf_nan=False)
    borrow_rate: float = Field(
        0.0, ge=0, le=10, allow_inf_nan=False, description="Yearly rate on borrowed money."
    )
    fractional: bool = Field(False, description="Whether fractional shares may be traded.")
    sizing: Literal["fill", "decision"] = Field(
        "fill",
        description="Size target-percent orders at the fill price (fill) or, as a live "
        "broker needs a quantity, at the last price when decided (decision).",
    )
    calendar: str | None = Field(
        None,
        max_length=20,
        pattern=r"^[A-Za-z0-9_/-]+$",
        description="Exchange calendar the bars trade on (XNYS, XLON, CMES, 24/7, ...): a "
        "bar closes at its session's close when that comes first (a daily bar at 16:00 New "
        "York, 13:00 on an early close). Empty: a bar closes one timeframe after it opens.",
    )
