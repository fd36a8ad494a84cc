"""Learners: one interface over LightGBM and scikit-learn, checked settings, early stopping."""

from __future__ import annotations

import numpy as np
import pytest

from cift.core.errors import ValidationError
from cift.ml.models import Learner, ModelType, learning_target, make_learner

FEATURES = ["a", "b", "c"]


def _data(rows: int = 3_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    return x, x[:, 0] * 0.01 + rng.normal(scale=0.01, size=rows)


@pytest.mark.parametrize("model_type", list(ModelType))
def test_every_learner_fits_scores_and_weighs_its_features(model_type: ModelType) -> None:
    x, ret = _data()
    learner = make_learner(model_type, FEATURES, {})
    y = learner.target(ret, np.sign(ret).astype(np.int8))
    learner.fit(x[:2_000], y[:2_000], np.ones(2_000))
    score = learner.score(x[2_000:])
    assert score.shape == (1_000,)
    assert np.corrcoef(score, ret[2_000:])[0, 1] > 0.3  # it learned the one real feature
    importance = learner.importance()
    assert max(importance, key=importance.__getitem__) == "a"
    assert sum(importance.values()) == pytest.approx(1.0)
    if model_type.classifies:
        assert ((score > 0) & (score < 1)).all()
        assert set(np.unique(learner.predict(x[:50]))) <= {0, 1}
    else:
        with pytest.raises(ValidationError, match="predicts values"):
            learner.predict_proba(x)


def test_lightgbm_stops_early_on_noise_and_weights_change_the_fit() -> None:
    rng = np.random.default_rng(1)
    x, noise = rng.normal(size=(4_000, 3)), rng.normal(size=4_000)
    learner = make_learner(ModelType.LIGHTGBM_REGRESSOR, FEATURES, {"early_stopping_rounds": 10})
    learner.fit(x[:3_000], noise[:3_000], None, (x[3_000:], noise[3_000:], None))
    assert learner.best_iteration is not None
    assert learner.best_iteration < 100  # of 500: nothing to learn, so it stops soon
    heavy = np.where(x[:3_000, 1] > 0, 10.0, 0.1)
    weighted = make_learner(ModelType.RIDGE_REGRESSION, FEATURES, {}).fit(
        x[:3_000], noise[:3_000], heavy
    )
    plain = make_learner(ModelType.RIDGE_REGRESSION, FEATURES, {}).fit(x[:3_000], noise[:3_000])
    assert not np.allclose(weighted.score(x[:10]), plain.score(x[:10]))


@pytest.mark.parametrize(
    "model_type", [ModelType.LIGHTGBM_CLASSIFIER, ModelType.LIGHTGBM_REGRESSOR]
)
def test_a_lightgbm_model_reloaded_from_its_text_format_predicts_as_its_estimator(
    model_type: ModelType,
) -> None:
    import lightgbm

    x, ret = _data()
    fitted = make_learner(model_type, FEATURES, {"early_stopping_rounds": 10})
    y = fitted.target(ret, np.sign(ret).astype(np.int8))
    fitted.fit(x[:2_000], y[:2_000], None, (x[2_000:2_500], y[2_000:2_500], None))
    assert fitted.best_iteration is not None
    assert fitted.best_iteration < 500  # so the saved model must keep only the best rounds
    saved = fitted.booster.model_to_string()  # what MLflow's lightgbm flavour writes
    loaded = Learner(model_type, FEATURES, lightgbm.Booster(model_str=saved))
    rows = x[2_500:]
    estimator = fitted.estimator  # LightGBM's scikit-learn interface, the reference
    np.testing.assert_array_equal(loaded.predict(rows), estimator.predict(rows))
    np.testing.assert_array_equal(fitted.predict(rows), estimator.predict(rows))
    if model_type.classifies:
        reference = estimator.predict_proba(rows)[:, 1]
        np.testing.assert_allclose(loaded.score(rows), reference, rtol=1e-12)
        np.testing.assert_allclose(fitted.score(rows), reference, rtol=1e-12)
    assert loaded.importance() == pytest.approx(fitted.importance())


def test_bad_settings_and_labels_are_explained() -> None:
    with pytest.raises(ValidationError, match=r"no hyper-parameter\(s\) \['leaves'\].*num_leaves"):
        make_learner(ModelType.LIGHTGBM_CLASSIFIER, FEATURES, {"leaves": 3})
    learner = make_learner(ModelType.LOGISTIC_REGRESSION, FEATURES, {"C": 0.5})
    assert learner.estimator[-1].C == 0.5
    x, _ = _data(100)
    with pytest.raises(ValidationError, match="same outcome"):
        learner.fit(x, np.ones(100, dtype=np.int8))
    labels = np.array([1, -1, 0, 1], dtype=np.int8)
    assert learning_target(ModelType.LIGHTGBM_CLASSIFIER, np.zeros(4), labels).tolist() == [
        1,
        0,
        0,
        1,
    ]
