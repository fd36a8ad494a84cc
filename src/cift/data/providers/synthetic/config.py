"""Parameters of the market simulator, their defaults and their checks."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from cift.core.errors import ValidationError

MIN_START_PRICE = 20.0
MAX_START_PRICE = 500.0
"""Bounds of the start price a symbol gets when none is given (log-uniform, from its name)."""


@dataclass(frozen=True)
class SimulatorConfig:
    """Every knob of the simulator; ``docs/simulator.md`` explains each one."""

    seed: int = 42
    volatility: float = 0.25
    drift: float = 0.05
    tail_df: float = 4.0
    garch_alpha: float = 0.08
    garch_beta: float = 0.90
    overnight_share: float = 0.2
    spread_bps: float = 2.0
    tick_size: float = 0.01
    trades_per_day: float = 5_000.0
    quotes_per_trade: float = 1.0
    trade_size: float = 100.0
    u_shape: float = 2.0
    flow_impact: float = 0.3
    imbalance_signal: float = 0.1
    start_price: float | None = None
    start_prices: tuple[tuple[str, float], ...] = ()
    anchor: date = date(2024, 1, 2)
    calendar: str = "XNYS"
    page_rows: int = 1_000_000

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (self.seed >= 0, "seed must be a non-negative integer"),
            (0 < self.volatility <= 5, "volatility (annual, e.g. 0.25) must be in (0, 5]"),
            (abs(self.drift) <= 5, "drift (annual, e.g. 0.05) must be in [-5, 5]"),
            (self.tail_df > 2, "tail_df must be above 2 so returns have a finite variance"),
            (self.garch_alpha >= 0 and self.garch_beta >= 0, "GARCH weights must be >= 0"),
            (
                self.garch_alpha + self.garch_beta < 1,
                "garch_alpha + garch_beta must be below 1 (a stationary variance)",
            ),
            (0 <= self.overnight_share < 1, "overnight_share must be in [0, 1)"),
            (self.spread_bps > 0, "spread_bps must be positive"),
            (self.tick_size > 0, "tick_size must be positive, e.g. 0.01"),
            (self.trades_per_day > 0, "trades_per_day must be positive"),
            (self.quotes_per_trade >= 0, "quotes_per_trade must be >= 0"),
            (self.trade_size >= 1, "trade_size (mean shares per trade) must be >= 1"),
            (self.u_shape >= 0, "u_shape must be >= 0 (0 is a flat day)"),
            (
                self.flow_impact >= 0
                and self.imbalance_signal >= 0
                and self.flow_impact**2 + self.imbalance_signal**2 < 1,
                "flow_impact and imbalance_signal must be >= 0 with squares summing below 1",
            ),
            (self.page_rows >= 1, "page_rows must be positive"),
        ]
        prices = [self.start_price] if self.start_price is not None else []
        prices += [price for _, price in self.start_prices]
        checks.append((all(p > 0 and math.isfinite(p) for p in prices), "prices must be > 0"))
        for ok, message in checks:
            if not ok:
                raise ValidationError(f"Synthetic provider: {message}.")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SimulatorConfig:
        """A config from factory options, with a clear error for unknown or bad ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValidationError(
                f"Synthetic provider: unknown option(s) {', '.join(unknown)}; "
                f"known options are {', '.join(sorted(known))}."
            )
        values = dict(options)
        if "start_prices" in values:
            values["start_prices"] = _price_pairs(values["start_prices"])
        if isinstance(values.get("anchor"), str):
            values["anchor"] = _parse_date(values["anchor"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise ValidationError(f"Synthetic provider: bad option ({exc}).") from None

    def price_for(self, symbol: str) -> float:
        """The symbol's price at the close before ``anchor``: given, or from its name."""
        for name, price in self.start_prices:
            if name == symbol:
                return price
        if self.start_price is not None:
            return self.start_price
        fraction = symbol_key(symbol) / 2.0**64
        return float(MIN_START_PRICE * (MAX_START_PRICE / MIN_START_PRICE) ** fraction)


def symbol_key(symbol: str) -> int:
    """A stable 64-bit number for a symbol (Python's ``hash`` differs between runs)."""
    digest = hashlib.blake2b(symbol.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _price_pairs(value: Any) -> tuple[tuple[str, float], ...]:
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, str):
        items = [_split_pair(part) for part in value.split(",") if part.strip()]
    else:
        items = value
    try:
        return tuple(sorted((str(k), float(v)) for k, v in items))
    except (TypeError, ValueError):
        raise ValidationError(
            "Synthetic provider: start_prices takes a mapping such as {'AAPL': 190.0} or "
            "text such as 'AAPL=190,MSFT=370'."
        ) from None


def _split_pair(text: str) -> tuple[str, str]:
    symbol, sep, price = text.partition("=")
    if not sep:
        raise ValidationError(
            f"Synthetic provider: write start prices as SYMBOL=PRICE, not {text!r}."
        )
    return symbol.strip(), price.strip()


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"Synthetic provider: anchor {text!r} is not a YYYY-MM-DD date."
        ) from None
