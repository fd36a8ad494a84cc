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

The position is taken when the side (flat, long, short) changes and held at its entry
size until it changes again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

import polars as pl
from pydantic import Field

from cift.core.settings import Settings
from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import BarView
from cift.strategy.signal import SignalStrategy

if TYPE_CHECKING:
    from cift.ml.inference import TrainedModel


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
    _model: TrainedModel | None = None

    @classmethod
    def resolve(cls, params: dict[str, Any], settings: Settings) -> dict[str, Any]:
        """Pin the alias to the version it names now, so the record says which one ran."""
        from cift.ml.tracking import resolve_version

        chosen = cast(ModelSignalParams, cls.parse_params(params))
        version = resolve_version(settings, chosen.model, chosen.version)
        return {**params, "version": str(version.version)}

    def derived(self, bars: pl.DataFrame) -> dict[str, pl.Series]:
        """Scores in one pass; live, called again as bars come, on the model loaded once."""
        if self._model is None:
            from cift.ml.inference import load_model

            self._model = load_model(self.ctx.settings, self.params.model, self.params.version)
        scores = pl.DataFrame(_scores(self._model, bars))
        return {"wanted": scores.select(_wanted(self.params)).to_series()}

    def on_bar(self, bar: BarView) -> None:
        ctx = self.ctx
        target = ctx.feature("wanted")
        if target is None:
            return
        held = ctx.position()
        moving = (held > 0) != (target > 0) or (held < 0) != (target < 0)
        if moving and not ctx.open_orders(bar.symbol):
            ctx.order_target_percent(bar.symbol, target)


def model_scores(
    params: Mapping[str, Any], bars: pl.DataFrame, settings: Settings
) -> dict[str, pl.Series]:
    """The model's ``score`` for every bar (one vectorised pass; null where it cannot
    score) and the ``breakeven`` score of its label (null for a regressor)."""
    from cift.ml.inference import load_model

    chosen = ModelSignalParams.model_validate(params)
    return _scores(load_model(settings, chosen.model, chosen.version), bars)


def _scores(model: TrainedModel, bars: pl.DataFrame) -> dict[str, pl.Series]:
    score = model.score(bars).get_column("score")
    breakeven = model.label.breakeven if model.model_type.classifies else None
    flat = pl.repeat(breakeven, score.len(), dtype=pl.Float64, eager=True)
    return {"score": score, "breakeven": flat.alias("breakeven")}


def _wanted(p: ModelSignalParams) -> pl.Expr:
    """The position (signed fraction of equity) each bar's score asks for."""
    score, classifies = pl.col("score"), pl.col("breakeven").is_not_null()
    centre = pl.col("breakeven").fill_null(0.0)
    margin = pl.when(classifies).then(p.edge).otherwise(p.min_return)
    short = -1.0 if p.allow_short else 0.0
    side = pl.when(score > centre + margin).then(1.0).when(score < centre - margin).then(short)
    size = pl.lit(p.fraction)
    if p.sizing == "probability":
        z = (score - centre) / (score * (1.0 - score)).sqrt()
        confidence = (2.0 * z.map_batches(_normal_cdf, return_dtype=pl.Float64) - 1.0).abs()
        sized = classifies & (score > 0.0) & (score < 1.0)
        size = pl.when(sized).then(size * confidence).otherwise(size)
    return pl.when(score.is_not_null()).then(side.otherwise(0.0) * size).alias("wanted")


def _normal_cdf(z: pl.Series) -> pl.Series:
    from scipy.special import ndtr

    return pl.Series(z.name, ndtr(z.to_numpy()), nan_to_null=True)


def _target(params: Mapping[str, Any]) -> pl.Expr:
    return _wanted(ModelSignalParams.model_validate(params))


SIGNAL = SignalStrategy(
    name="model_signal",
    features=lambda p: {},
    target=_target,
    derived=model_scores,
    derived_inputs=("model", "version"),
)
"""The same rule for the vectorised research mode: one model pass per model version."""
