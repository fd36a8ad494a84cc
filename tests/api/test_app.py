"""OpenAPI completeness, CORS and trusted hosts, system info."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import AppFactory, auth_headers
from tests.fresh import fresh_python

PROBLEM_REF = "#/components/schemas/Problem"


def test_openapi_documents_problem_responses_for_every_operation(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(document)
    assert "Problem" in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            for status in ("422", "500"):
                content = responses[status]["content"]
                assert content == {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}}


def test_openapi_has_response_models(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    ready = paths["/health/ready"]["get"]["responses"]
    assert ready["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Readiness")
    assert ready["503"]["content"]["application/json"]["schema"]["$ref"].endswith("/Readiness")
    system = paths["/api/v1/system"]["get"]["responses"]["200"]
    assert system["content"]["application/json"]["schema"]["$ref"].endswith("/SystemInfo")


def test_swagger_ui_and_redoc_load_only_from_this_origin(client: TestClient) -> None:
    """Both pages work without internet: every script, style and icon they name is
    served by the API itself, and their policy allows no other origin."""
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200
        assert "https://" not in response.text  # no CDN, no font host
        assets = re.findall(r'(?:src|href)="(/[^"]+)"', response.text)
        assert assets
        for asset in assets:
            served = client.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 1000, asset
        policy = response.headers["content-security-policy"]
        assert "https:" not in policy
        assert "script-src 'self' 'unsafe-inline';" in policy
    assert "SwaggerUIBundle" in client.get("/docs-assets/swagger-ui-bundle.js").text


def test_system_info_reports_backends(client: TestClient) -> None:
    body = client.get("/api/v1/system").json()
    assert body["environment"] == "test"
    assert body["backends"] == {"metadata": "sqlite", "cache": "in-process"}


def test_untrusted_host_is_refused(make_app: AppFactory) -> None:
    client = TestClient(make_app(trusted_hosts=["api.example.com"]))
    assert client.get("/health/live", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/health/live", headers={"Host": "api.example.com"}).status_code == 200


def test_cors_allows_only_configured_origins(make_app: AppFactory) -> None:
    app = make_app(cors_origins=["https://dash.example.com"])
    client = TestClient(app, headers=auth_headers(app))
    preflight = {"Access-Control-Request-Method": "GET"}
    allowed = client.options(
        "/api/v1/system", headers={"Origin": "https://dash.example.com", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://dash.example.com"
    denied = client.get("/api/v1/system", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


def test_no_cors_headers_by_default(client: TestClient) -> None:
    response = client.get("/api/v1/system", headers={"Origin": "https://dash.example.com"})
    assert "access-control-allow-origin" not in response.headers


def test_the_server_starts_without_the_engine_or_numba(tmp_path: Path) -> None:
    """The API only queues backtests and training (their workers load the engine), so a
    server that has started and answered loads neither the event-driven engine nor
    numba: about 0.7 s and 60 MiB less at every start."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from fastapi.testclient import TestClient\n"
        "from cift.api.app import create_app\n"
        "from cift.core.settings import load_settings\n"
        "from cift.db.opening import metadata_sessions\n"
        "settings = load_settings(home=Path(sys.argv[1]))\n"
        "with metadata_sessions(settings):\n    pass\n"
        "with TestClient(create_app(settings), base_url='http://localhost') as client:\n"
        "    assert client.get('/health/ready').status_code == 200\n"
        "print(sorted(m for m in ('numba', 'cift.backtest.engine', 'cift.features.kernels') "
        "if m in sys.modules))\n"
    )
    assert fresh_python(script, str(tmp_path))[-1] == "[]"
