"""Model configurations: the feature hash depends on what is computed, not how it is
written; versions count per owner and name."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from cift.core.settings import Settings
from cift.db.models import Role
from cift.features.spec import lookup
from cift.ml.configurations import ModelSpec, save_configuration
from tests.budget import deep
from tests.security.conftest import make_user

LABEL = {"kind": "forward_return", "horizon": 5}


def _spec(features: list[str], name: str = "m") -> ModelSpec:
    return ModelSpec.model_validate(
        {"name": name, "model_type": "lightgbm_regressor", "features": features, "label": LABEL}
    )


def _hash(features: list[str]) -> str:
    """What a saved configuration stores as ``feature_set_hash``."""
    return _spec(features).feature_set().sha256


@given(period=st.integers(2, 400), other=st.integers(2, 400))
@hypothesis_settings(max_examples=deep(60), deadline=None)
def test_spelling_does_not_change_the_features_identity(period: int, other: int) -> None:
    assert _hash([f"rsi({period})"]) == _hash([f"rsi(timeperiod={period})"])
    assert _hash([f"rsi({period})", "obv"]) != _hash(["obv", f"rsi({period})"])  # column order
    assert (_hash([f"rsi({period})"]) == _hash([f"rsi({other})"])) == (period == other)


def test_defaults_are_written_out() -> None:
    defaults = [p.default for p in lookup("macd").params]
    assert _spec(["macd"]).feature_set().content["features"] == ["macd({},{},{})".format(*defaults)]


def test_versions_count_per_owner_and_name(db: sessionmaker[Session], settings: Settings) -> None:
    alice = make_user(db, settings, "alice", Role.TRADER).id
    bob = make_user(db, settings, "bob", Role.TRADER).id
    saved: list[Any] = [
        save_configuration(db, alice, _spec(["rsi(14)"], "a")),
        save_configuration(db, alice, _spec(["rsi(15)"], "a")),
        save_configuration(db, alice, _spec(["rsi(14)"], "b")),
        save_configuration(db, bob, _spec(["rsi(14)"], "a")),
    ]
    assert [c.version for c in saved] == [1, 2, 1, 1]
    assert saved[0].feature_set_hash == saved[2].feature_set_hash == saved[3].feature_set_hash
    assert saved[0].feature_set_hash != saved[1].feature_set_hash
    assert saved[0].feature_set_hash == _hash(["rsi(timeperiod=14)"])
    assert saved[0].feature_set == f"model-{saved[0].feature_set_hash[:12]}"
