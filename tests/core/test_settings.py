"""Settings: environment variables, .env, malformed values and production safety."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cift.core.errors import ConfigurationError
from cift.core.settings import (
    DEFAULT_SECRET_KEY,
    Environment,
    Settings,
    load_settings,
    secret_weakness,
)


def test_defaults_run_embedded_without_any_server() -> None:
    settings = load_settings()
    assert settings.env is Environment.DEV
    assert settings.home == Path(".cift")
    assert settings.database_url_value() == f"sqlite:///{Path('.cift/cift.db').resolve()}"
    assert settings.redis_url is None
    assert settings.port == 8000


def test_environment_variables_set_every_kind_of_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFT_PORT", "9001")
    monkeypatch.setenv("CIFT_DATABASE_ECHO", "true")
    monkeypatch.setenv("CIFT_HEALTH_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("CIFT_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("CIFT_REDIS_URL", "redis://cache:6379/1")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.database_echo is True
    assert settings.health_timeout_seconds == 0.5
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.redis_url is not None
    assert settings.redis_url.get_secret_value() == "redis://cache:6379/1"


def test_dotenv_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("CIFT_PORT=7000\nCIFT_WORKERS=3\n")
    monkeypatch.setenv("CIFT_WORKERS", "2")
    settings = load_settings()
    assert settings.port == 7000
    assert settings.workers == 2


def test_empty_urls_mean_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFT_DATABASE_URL", "")
    monkeypatch.setenv("CIFT_REDIS_URL", "  ")
    settings = load_settings()
    assert settings.database_url is None
    assert settings.redis_url is None


def test_malformed_value_names_variable_and_expected_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIFT_PORT", "abc")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    message = str(info.value)
    assert "CIFT_PORT" in message
    assert "integer" in message
    assert "'abc'" in message


def test_out_of_range_and_unknown_choice_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFT_PORT", "70000")
    monkeypatch.setenv("CIFT_ENV", "staging")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    message = str(info.value)
    assert "CIFT_PORT" in message
    assert "65535" in message
    assert "CIFT_ENV" in message
    assert "production" in message


def test_secret_value_never_appears_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFT_SECRET_KEY", "")
    monkeypatch.setenv("CIFT_ENV", "production")
    with pytest.raises(ConfigurationError) as info:
        load_settings(secret_key="hunter2")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (DEFAULT_SECRET_KEY, "development default"),
        ("short-but-random-Xy9", "characters long"),
        ("ab" * 40, "predictable"),
    ],
)
def test_production_refuses_weak_secret_and_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, secret: str, reason: str
) -> None:
    monkeypatch.setenv("CIFT_ENV", "production")
    monkeypatch.setenv("CIFT_SECRET_KEY", secret)
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert "CIFT_SECRET_KEY" in str(info.value)
    assert reason in str(info.value)


def test_production_accepts_a_generated_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFT_ENV", "production")
    monkeypatch.setenv("CIFT_SECRET_KEY", secrets.token_urlsafe(48))
    settings = load_settings()
    assert settings.is_production
    assert settings.json_logs


def test_weak_secret_is_fine_outside_production() -> None:
    assert load_settings(secret_key="x").secret_key.get_secret_value() == "x"


@given(st.binary(min_size=24, max_size=64))
def test_random_tokens_of_sufficient_length_are_strong(raw: bytes) -> None:
    assert secret_weakness(secrets.token_urlsafe(32) + raw.hex()) is None


@given(st.text(max_size=31))
def test_anything_shorter_than_32_characters_is_weak(secret: str) -> None:
    assert secret_weakness(secret) is not None


def test_every_field_is_documented() -> None:
    undocumented = [name for name, f in Settings.model_fields.items() if not f.description]
    assert undocumented == []
