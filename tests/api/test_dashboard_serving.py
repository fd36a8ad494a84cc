"""The dashboard's build served at ``/``: the app's page for its own routes, hashed
assets cached for good, the server's own paths untouched; without a build, a page that
says how to make one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cift.web import dashboard
from tests.api.conftest import AppFactory

PAGE = (
    '<!doctype html><html><head><script type="module" src="/assets/app-1a2b.js"></script>'
    "</head></html>"
)


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('cift')")
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / "favicon.svg").write_text("<svg/>")
    monkeypatch.setattr(dashboard, "DIST", tmp_path)
    return tmp_path


def test_the_app_answers_its_own_routes_and_the_server_keeps_its_paths(
    built: Path, make_app: AppFactory
) -> None:
    client = TestClient(make_app())
    for path in ("/", "/backtests/0193f1a2", "/market", "/apis"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.text == PAGE
        assert page.headers["cache-control"] == "no-cache"
        assert "script-src 'self';" in page.headers["content-security-policy"]
    asset = client.get("/assets/app-1a2b.js")
    assert asset.headers["cache-control"] == dashboard.IMMUTABLE
    assert asset.headers["x-content-type-options"] == "nosniff"
    assert client.get("/favicon.svg").text == "<svg/>"
    assert client.get("/assets/missing.js").status_code == 404
    assert client.get("/api/v1/nothing").status_code == 404
    assert client.get("/api/v1/nothing").headers["content-type"] == "application/problem+json"
    assert client.post("/api/v1/system").status_code == 405
    assert client.get("/health/live").json()["status"] == "alive"
    assert client.get("/openapi.json").status_code == 200
    assert not any("{path" in p for p in client.get("/openapi.json").json()["paths"])
    assert client.get("/..%2f..%2fetc%2fpasswd").text == PAGE  # never a file outside


def test_without_a_build_the_root_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_app: AppFactory
) -> None:
    monkeypatch.setattr(dashboard, "DIST", tmp_path / "dist")
    client = TestClient(make_app())
    page = client.get("/")
    assert page.status_code == 200
    assert "make web" in page.text
    links = re.findall(r'href="(/[^"]*)"', page.text)
    assert {"/docs", "/redoc", "/openapi.json", "/health/ready"} <= set(links)
    assert all(client.get(link).status_code in (200, 503) for link in links)
    assert "<script" not in page.text
    assert client.get("/market").text == page.text
