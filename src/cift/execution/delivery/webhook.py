"""Alert webhooks: the alert as JSON, signed, POSTed with retries.

The signature lets the receiver check the body came from this CIFT and is fresh:
``X-CIFT-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` keyed with
``CIFT_ALERT_WEBHOOK_SECRET`` (compare in constant time, and refuse old ``t``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from cift.core.settings import Settings
from cift.core.tls import client_context
from cift.execution.delivery.channels import FailedError, RefusedError, check_target

SIGNATURE_HEADER = "X-CIFT-Signature"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def send_webhook(
    settings: Settings,
    url: str,
    payload: dict[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST ``payload`` to ``url``; the attempts it took. Raises :class:`RefusedError` when
    it must not be sent, :class:`FailedError` when the receiver refused it or every
    attempt failed."""
    if settings.alert_webhook_secret is None:
        raise RefusedError("webhooks are signed: set CIFT_ALERT_WEBHOOK_SECRET first")
    check_target(url, settings)
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    secret = settings.alert_webhook_secret.get_secret_value()
    attempts = settings.alert_delivery_retries + 1
    last = ""
    with httpx.Client(
        timeout=settings.alert_delivery_timeout_seconds,
        follow_redirects=False,
        verify=client_context(),
    ) as client:
        for attempt in range(1, attempts + 1):
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "cift-alerts",
                SIGNATURE_HEADER: signature(secret, body, int(time.time())),
            }
            try:
                answer = client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if answer.is_success:
                    return attempt
                last = f"HTTP {answer.status_code}"
                if answer.is_redirect:
                    raise FailedError(f"{last}: redirects are not followed", attempt)
                if answer.status_code < 500 and answer.status_code != 429:
                    raise FailedError(f"{last}: the receiver refused the alert", attempt)
            if attempt < attempts:
                sleep(min(0.2 * 2 ** (attempt - 1), 5.0))
    raise FailedError(f"{last} after {attempts} attempts", attempts)
