"""The options that name a feature set (``--features`` or ``--set``), shared by
``cift features compute`` and the live ``cift stream`` commands.

Kept apart from ``cift features`` so that a stream stage does not load that group's
libraries (the bar samplers' compiled kernels, labels, the catalog's docs).
"""

from __future__ import annotations

from pathlib import Path

from cift.core.errors import ValidationError
from cift.features.pipeline import FeatureSet, default_set
from cift.model import DataKind, Timeframe

FEATURES_HELP = 'Comma-separated calls, e.g. "rsi(14),sma(20),macd(12,26,9),bbands(20,2)".'


def feature_set_from(
    features: str | None, feature_set: str | None, name: str, timeframe: Timeframe
) -> FeatureSet:
    """The set ``--features`` lists (named ``name``), or the one ``--set`` names:
    ``default`` or a YAML file."""
    if (features is None) == (feature_set is None):
        raise ValidationError("Give either --features or --set (default, or a YAML file).")
    if features is not None:
        return FeatureSet.from_text(name, features, kind=DataKind.BARS, timeframe=timeframe)
    if feature_set == "default":
        return default_set(timeframe)
    return FeatureSet.from_yaml(Path(str(feature_set)))
