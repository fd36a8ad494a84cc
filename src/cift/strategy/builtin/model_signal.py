"""Model signal: trade a registered model's predictions, sized by its confidence or not.

The model (``cift ml train`` registers it) scores every bar from the point-in-time
features it was trained on, in one vectorised pass before the first event. A classifier's
score is the probability ``p`` that the label's outcome is positive; a bet breaks even
at ``b = sl / (pt + sl)`` for triple-barrier labels (½ for a forward return's sign), so
the strategy is long when ``p > b + edge``, short (when allowed) when ``p < b - edge``,
flat between. A regressor's score is the predicted return: long above ``min_return``,
short below ``-min_return``. With ``sizing="probability"`` a classifier's position is
``fraction · |2·Φ(z) - 1|``, ``z = (p - b) / √(p(1 - p))`` (AFML §10.3 around the
break-even), so a barely-sure model bets little.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Literal, cast

import polars as pl
from pydantic import Field

from cift.core.settings import Settings
from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import BarView

_NORMAL = NormalDist()


class ModelSignalParams(StrategyParams):
    model: str = Field(min_length=1, max_length=200, description="A registered model's name.")
    version: str = Field(
        "champion", min_length=1, description="Its version number or alias (champion)."
    )
    edge: float = Field(
        0.02, ge=0, lt=0.5, description="Classifiers: probability above break-even to enter."
    )
    min_return: float = Field(0.0, ge=0, description="Regressors: predicted return to enter.")
    sizing: Literal["fixed", "probability"] = Field(
        "fixed", description="fixed: always `fraction`; probability: scaled by confidence."
    )
    fraction: float = Field(1.0, gt=0, le=10, description="Equity fraction at full size.")
    allow_short: bool = Field(False, description="Go short on the opposite signal.")


class ModelSignal(Strategy):
    """Holds each symbol long (or short) while the model's score says so."""

    name = "model_signal"
    description = "Trade a registered model's predictions (threshold or probability sizing)."
    Params = ModelSignalParams
    params: ModelSignalParams

    @classmethod
    def resolve(cls, params: dict[str, Any], settings: Settings) -> dict[str, Any]:
        """Pin the alias to the version it names now, so the record says which one ran."""
        from cift.ml.tracking import resolve_version

        chosen = cast(ModelSignalParams, cls.parse_params(params))
        version = resolve_version(settings, chosen.model, chosen.version)
        return {**params, "version": str(version.version)}

    def derived(self, bars: pl.DataFrame) -> dict[str, pl.Series]:
        from cift.ml.inference import load_model

        model = load_model(self.ctx.settings, self.params.model, self.params.version)
        self.classifies = model.model_type.classifies
        self.breakeven = model.label.breakeven
        return {"score": model.score(bars).get_column("score")}

    def target(self, score: float) -> float:
        """The position (fraction of equity, signed) a score asks for."""
        p = self.params
        centre, margin = (self.breakeven, p.edge) if self.classifies else (0.0, p.min_return)
        side = 1 if score > centre + margin else -1 if score < centre - margin else 0
        if side < 0 and not p.allow_short:
            return 0.0
        size = p.fraction
        if p.sizing == "probability" and self.classifies and side and 0 < score < 1:
            z = (score - centre) / math.sqrt(score * (1 - score))
            size *= abs(2 * _NORMAL.cdf(z) - 1)
        return side * size

    def on_bar(self, bar: BarView) -> None:
        ctx = self.ctx
        score = ctx.feature("score")
        if score is None:
            return
        target = self.target(score)
        held = ctx.position()
        moving = (held > 0) != (target > 0) or (held < 0) != (target < 0)
        if moving and not ctx.open_orders(bar.symbol):
            ctx.order_target_percent(bar.symbol, target)
