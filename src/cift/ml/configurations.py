"""Model configurations: what a model learns from (features, label) and how (algorithm,
hyper-parameters), versioned per name and owned by one user.

Saving a configuration under a name it already has adds a new version; the features
are checked against the catalog and stored in canonical form with their hash, so a
trained model can be traced to exactly the inputs it saw.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cift.db.models import ModelConfiguration, ModelStatus
from cift.db.repositories.owned import OwnedRecords
from cift.features.pipeline import FeatureSet
from cift.ml.labelling import LabelSpec
from cift.ml.models import ModelType
from cift.model import Timeframe
from cift.model.fields import Identifier, Label, Text, TimeframeText

FeatureText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Hyperparameter = (
    int
    | Annotated[float, Field(allow_inf_nan=False)]
    | bool
    | Annotated[str, StringConstraints(max_length=200)]
)
"""A learner's setting: an integer, a finite float, a flag or a short string."""


class ModelSpec(BaseModel):
    """A configuration to save (a new version when the name exists)."""

    model_config = ConfigDict(extra="forbid")

    name: Label
    model_type: ModelType
    features: list[FeatureText] = Field(
        min_length=1, max_length=200, description="Catalog features, e.g. rsi(14), macd."
    )
    timeframe: TimeframeText = Field("1m", description="Bars the features are computed on.")
    label: LabelSpec
    hyperparameters: dict[Identifier, Hyperparameter] = Field(default_factory=dict, max_length=100)
    description: Text | None = None

    def feature_set(self) -> FeatureSet:
        """The features as a set over bars; a CiftError names what the catalog lacks."""
        return FeatureSet.from_text(
            "model", ",".join(self.features), timeframe=Timeframe.parse(self.timeframe)
        )


class ModelChanges(BaseModel):
    """What a user may change: the description, and archiving (training sets the rest)."""

    model_config = ConfigDict(extra="forbid")

    description: Text | None = None
    status: Literal[ModelStatus.DRAFT, ModelStatus.ARCHIVED] | None = None


def configurations(db: sessionmaker[Session]) -> OwnedRecords[ModelConfiguration]:
    return OwnedRecords(
        db,
        ModelConfiguration,
        "model configuration",
        "GET /api/v1/models",
        clash="another save of this name took the same version at once: save again",
    )


def save_configuration(
    db: sessionmaker[Session], owner: uuid.UUID, spec: ModelSpec
) -> ModelConfiguration:
    """Store ``spec`` as the next version of its name."""
    features = spec.feature_set()
    parameters: dict[str, Any] = {
        "features": features.content,
        "label": spec.label.content,
        "hyperparameters": spec.hyperparameters,
    }

    def build(session: Session) -> ModelConfiguration:
        latest = session.scalar(
            select(func.max(ModelConfiguration.version)).where(
                ModelConfiguration.user_id == owner, ModelConfiguration.name == spec.name
            )
        )
        return ModelConfiguration(
            user_id=owner,
            name=spec.name,
            version=(latest or 0) + 1,
            model_type=spec.model_type.value,
            feature_set=features.set_id,
            feature_set_hash=features.sha256,
            parameters=parameters,
            description=spec.description,
            status=ModelStatus.DRAFT,
        )

    return configurations(db).add(build)
