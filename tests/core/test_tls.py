"""Outgoing HTTPS clients share one verifying TLS context instead of each loading the
trusted certificates again."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from cift.core.tls import client_context
from cift.data.providers.alpaca.provider import UPSTREAM
from cift.data.providers.http.client import HttpClient
from cift.data.providers.http.retry import RetryPolicy


def test_clients_load_the_trusted_certificates_once(monkeypatch: pytest.MonkeyPatch) -> None:
    client_context.cache_clear()
    loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(context: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(context)
        load(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    for _ in range(3):
        HttpClient(
            UPSTREAM, "https://api.example.com", headers={}, secrets=[], timeout=1,
            policy=RetryPolicy(),
        )  # fmt: skip
    assert loads == [client_context()]


def test_the_shared_context_verifies_the_server() -> None:
    context = client_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the roots are loaded
