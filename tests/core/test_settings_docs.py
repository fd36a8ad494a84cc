"""The generated configuration docs match the settings model; secrets stay masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from cift.core.settings import Settings, env_var, load_settings
from cift.core.settings_docs import (
    MASK,
    effective_settings,
    mask_url,
    render_env_example,
    render_markdown,
)

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_doc_is_generated_from_the_model() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "run: cift config docs"


def test_env_example_is_generated_from_the_model() -> None:
    committed = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert committed == render_env_example(), "run: cift config docs"


def test_every_variable_appears_in_both_documents() -> None:
    markdown, example = render_markdown(), render_env_example()
    for name in Settings.model_fields:
        assert f"`{env_var(name)}`" in markdown
        assert f"\n{env_var(name)}=" in example


def test_env_example_loads_to_the_defaults(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(render_env_example())
    assert load_settings() == Settings()


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@db:5432/x", f"postgresql://u:{MASK}@db:5432/x"),
        ("redis://:pw@cache/0", f"redis://:{MASK}@cache/0"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
    ],
)
def test_mask_url_hides_only_the_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_effective_settings_mask_secrets_and_name_sources(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CIFT_SECRET_KEY", "s3cret-value")
    monkeypatch.setenv("CIFT_DATABASE_URL", "postgresql+psycopg://cift:pa55@db/cift")
    (tmp_path / ".env").write_text("CIFT_PORT=8123\n")
    rows = {row.env_var: row for row in effective_settings(load_settings())}
    assert rows["CIFT_SECRET_KEY"].value == MASK
    assert rows["CIFT_SECRET_KEY"].source == "environment"
    assert "pa55" not in rows["CIFT_DATABASE_URL"].value
    assert rows["CIFT_DATABASE_URL"].value.startswith("postgresql+psycopg://cift:")
    assert rows["CIFT_PORT"].value == "8123"
    assert rows["CIFT_PORT"].source == ".env"
    assert rows["CIFT_WORKERS"].source == "default"
