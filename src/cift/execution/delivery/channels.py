"""Where a rule's alerts go, and the guard every webhook target passes.

A webhook is sent only to a host on the allow-list (``CIFT_ALERT_WEBHOOK_HOSTS``), and
only when every address the host resolves to is public: loopback, private, link-local
(cloud metadata at 169.254.169.254), multicast and reserved addresses are refused unless
``CIFT_ALERT_WEBHOOK_PRIVATE`` allows them. Redirects are never followed, so an allowed
host cannot send the request on to a refused one.
"""

from __future__ import annotations

import ipaddress
import socket
from fnmatch import fnmatch
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cift.core.settings import Settings
from cift.model.fields import EmailAddress


class WebhookChannel(BaseModel):
    """POST the alert as signed JSON to ``url``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["webhook"] = "webhook"
    url: Annotated[
        str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s\x00-\x1f\x7f]+$")
    ]


class EmailChannel(BaseModel):
    """Send the alert by e-mail to ``to``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["email"] = "email"
    to: EmailAddress


Channel = Annotated[WebhookChannel | EmailChannel, Field(discriminator="kind")]


class RefusedError(Exception):
    """A delivery that must not be attempted; the message says why and what to change."""


class FailedError(Exception):
    """A delivery that was attempted and did not arrive."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


def shown(url: str) -> str:
    """A webhook URL as records and messages show it: scheme, host, port and path."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"[:500]


def check_host(url: str, settings: Settings) -> str:
    """The URL's host, if the allow-list holds it; else :class:`RefusedError`."""
    host = (urlsplit(url).hostname or "").lower()
    allowed = [h.lower() for h in settings.alert_webhook_hosts]
    if not host or not any(fnmatch(host, pattern) for pattern in allowed):
        raise RefusedError(
            f"webhook host {host or '(none)'} is not on the allow-list; add it to "
            "CIFT_ALERT_WEBHOOK_HOSTS"
        )
    return host


def check_target(url: str, settings: Settings) -> None:
    """Refuse a webhook URL whose host is not allowed or resolves to an address that is
    not public (unless private addresses are allowed)."""
    host = check_host(url, settings)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except OSError as exc:
        raise RefusedError(f"webhook host {host} does not resolve ({exc})") from None
    if settings.alert_webhook_private:
        return
    for text in sorted(found):
        address = ipaddress.ip_address(str(text).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise RefusedError(
                f"webhook host {host} resolves to {address}, a private, loopback or "
                "link-local address; set CIFT_ALERT_WEBHOOK_PRIVATE=true to allow it"
            )
