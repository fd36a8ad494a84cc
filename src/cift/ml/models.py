"""Learners behind one small interface: LightGBM and scikit-learn baselines.

A :class:`Learner` wraps a scikit-learn compatible estimator. Classifiers learn whether
the label's outcome is positive (``fwd_label > 0``) and score rows by that probability;
regressors learn the forward return and score rows by their prediction. LightGBM stops
early on a validation set when it is given one (the caller makes it a purged split);
the linear baselines standardise their inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from cift.core.errors import ConfigurationError, ValidationError

EARLY_STOPPING_ROUNDS = 50
LIGHTGBM_DEFAULTS: dict[str, Any] = {
    "n_estimators": 500,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 100,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "random_state": 0,
    "deterministic": True,
    "verbosity": -1,
}
"""Conservative settings for noisy financial labels; a configuration overrides any."""


class ModelType(StrEnum):
    """The learning algorithms a configuration can name."""

    LIGHTGBM_CLASSIFIER = "lightgbm_classifier"
    LIGHTGBM_REGRESSOR = "lightgbm_regressor"
    LOGISTIC_REGRESSION = "logistic_regression"
    RIDGE_REGRESSION = "ridge_regression"

    @property
    def classifies(self) -> bool:
        return self in (ModelType.LIGHTGBM_CLASSIFIER, ModelType.LOGISTIC_REGRESSION)

    @property
    def flavor(self) -> str:
        """The MLflow flavor its models are saved in."""
        return "lightgbm" if self.value.startswith("lightgbm") else "sklearn"


def learning_target(
    model_type: ModelType, fwd_ret: np.ndarray, fwd_label: np.ndarray
) -> np.ndarray:
    """What a learner of ``model_type`` predicts, from a dataset's label columns: whether
    the outcome is positive (classifiers), or the forward return (regressors)."""
    return (fwd_label > 0).astype(np.int8) if model_type.classifies else fwd_ret


@dataclass
class Learner:
    """One model: fit, predict, predict_proba, score and feature importance."""

    model_type: ModelType
    features: list[str]
    estimator: Any
    early_stopping_rounds: int = EARLY_STOPPING_ROUNDS
    best_iteration: int | None = field(default=None, init=False)

    def target(self, fwd_ret: np.ndarray, fwd_label: np.ndarray) -> np.ndarray:
        return learning_target(self.model_type, fwd_ret, fwd_label)

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray | None = None,
        validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
    ) -> Learner:
        """Fit on ``x`` (rows by :attr:`features`); LightGBM stops early on ``validation``."""
        if self.model_type.classifies and np.unique(y).size < 2:
            raise ValidationError(
                "Every training label has the same outcome; a classifier needs both. "
                "Use more data or another label."
            )
        if self.model_type.flavor == "lightgbm":
            self._fit_lightgbm(x, y, weight, validation)
        else:
            self.estimator.fit(x, y, model__sample_weight=weight)
        return self

    def _fit_lightgbm(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray | None,
        validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None,
    ) -> None:
        import lightgbm

        options: dict[str, Any] = {"sample_weight": weight}
        if validation is not None and len(validation[1]):
            xv, yv, wv = validation
            options |= {
                "eval_X": (xv,),
                "eval_y": (yv,),
                "eval_sample_weight": [wv] if wv is not None else None,
                "callbacks": [lightgbm.early_stopping(self.early_stopping_rounds, verbose=False)],
            }
        self.estimator.fit(x, y, **options)
        self.best_iteration = int(self.estimator.best_iteration_ or self.estimator.n_estimators)

    @property
    def booster(self) -> Any:
        """The LightGBM booster: a fitted estimator holds one, a loaded model is one (saved
        in LightGBM's own text format, which loads without unpickling anything)."""
        return getattr(self.estimator, "booster_", self.estimator)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Classes (0/1) for a classifier, forward returns for a regressor."""
        if self.model_type.flavor != "lightgbm":
            return np.asarray(self.estimator.predict(x))
        if self.model_type.classifies:  # class 1 where it is the likelier, as LightGBM's own
            return (self.predict_proba(x) > 0.5).astype(np.int8)
        return np.asarray(self.booster.predict(x))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """P(outcome > 0) per row; classifiers only."""
        if not self.model_type.classifies:
            raise ValidationError(f"A {self.model_type} predicts values, not probabilities.")
        if self.model_type.flavor == "lightgbm":
            return np.asarray(self.booster.predict(x))
        return np.asarray(self.estimator.predict_proba(x))[:, 1]

    def score(self, x: np.ndarray) -> np.ndarray:
        """The signal: the probability (classifiers) or the predicted return."""
        return self.predict_proba(x) if self.model_type.classifies else self.predict(x)

    def importance(self) -> dict[str, float]:
        """Gain per feature (LightGBM), or |coefficient| on standardised inputs (linear),
        as fractions of the total."""
        if self.model_type.flavor == "lightgbm":
            raw = self.booster.feature_importance(importance_type="gain")
        else:
            raw = np.abs(np.ravel(self.estimator[-1].coef_))
        total = float(np.sum(raw)) or 1.0
        return {name: float(v) / total for name, v in zip(self.features, raw, strict=True)}


def make_learner(
    model_type: ModelType, features: list[str], hyperparameters: dict[str, Any], n_jobs: int = 0
) -> Learner:
    """A fresh learner; ``hyperparameters`` are the estimator's own (checked here).
    ``n_jobs`` 0 lets LightGBM use every core; worker processes pass 1."""
    settings = dict(hyperparameters)
    rounds = int(settings.pop("early_stopping_rounds", EARLY_STOPPING_ROUNDS))
    estimator = _estimator(model_type, n_jobs)
    target = estimator[-1] if hasattr(estimator, "steps") else estimator
    unknown = sorted(set(settings) - set(target.get_params()))
    if unknown:
        known = ", ".join(sorted(target.get_params()))
        raise ValidationError(
            f"{model_type} has no hyper-parameter(s) {unknown}; it takes early_stopping_rounds, "
            f"{known}."
        )
    target.set_params(**settings)
    return Learner(model_type, list(features), estimator, rounds)


def _estimator(model_type: ModelType, n_jobs: int) -> Any:
    try:
        if model_type.flavor == "lightgbm":
            import lightgbm

            cls = (
                lightgbm.LGBMClassifier
                if model_type is ModelType.LIGHTGBM_CLASSIFIER
                else lightgbm.LGBMRegressor
            )
            return cls(**LIGHTGBM_DEFAULTS, n_jobs=n_jobs or None)
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        raise ConfigurationError(
            "Model training needs the ML extras; install them with pip install 'cift[ml]'."
        ) from None
    model = (
        LogisticRegression(max_iter=1_000)
        if model_type is ModelType.LOGISTIC_REGRESSION
        else Ridge(alpha=1.0)
    )
    return Pipeline([("scale", StandardScaler()), ("model", model)])
