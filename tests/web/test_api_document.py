"""The dashboard's API types come from ``web/openapi.json``: it must be the API's own
document, so a change of the API reaches the dashboard's type check (``make web-api``)."""

from __future__ import annotations

import json
from pathlib import Path

from cift.api.document import document

COMMITTED = Path(__file__).resolve().parents[2] / "web" / "openapi.json"


def test_the_dashboards_copy_of_the_api_document_is_current() -> None:
    current = json.loads(json.dumps(document()))
    assert json.loads(COMMITTED.read_text()) == current, (
        "web/openapi.json differs from the API: run make web-api, then make web"
    )
