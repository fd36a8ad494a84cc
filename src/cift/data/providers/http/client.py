"""A thin synchronous HTTP client for provider REST APIs, on httpx.

It adds what every provider needs and the SDKs get wrong or leave out: explicit
timeouts, a shared request budget, bounded retries of transient failures (honouring the
server's wait), and errors that say which URL failed and why, without ever showing a
credential (credentials travel in headers, and URLs and texts are scrubbed anyway).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from loguru import logger

from cift.core.errors import ConfigurationError, ProviderError
from cift.core.tls import client_context
from cift.data.metrics import INGEST_PAGES, INGEST_RATE_LIMIT_WAIT, INGEST_RETRIES

from .retry import RetryPolicy, retryable, server_wait
from .throttle import Throttle

SECRET_PARAMS = frozenset({"apikey", "api_key", "key", "secret", "token", "access_token"})
TRANSIENT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.DecodingError,
)
MAX_TEXT = 300
Params = Mapping[str, str | int]


@dataclass(frozen=True)
class Upstream:
    """Who a client talks to, and what a user should check when access is refused."""

    name: str
    url_setting: str
    credentials_hint: str
    entitlement_hint: str
    provider: str = ""
    """The market-data provider's name on the ingest metrics (none for a broker)."""


@dataclass(frozen=True)
class Fetched:
    """An answer the caller accepts: the body, the URL it came from (credentials
    removed) and the status."""

    url: str
    body: bytes
    status: int = 200

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def redact_url(url: str) -> str:
    """``url`` without user info and with secret-looking query values masked."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = [
        (name, "***" if name.lower() in SECRET_PARAMS else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe=",:/")))


def error_text(response: httpx.Response) -> str:
    """The provider's own words: ``message`` or ``error`` of a JSON body, else the text."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error"):
            if isinstance(body.get(key), str) and body[key].strip():
                return str(body[key]).strip()[:MAX_TEXT]
    text = " ".join(response.text.split())
    return text[:MAX_TEXT] if text else "no message"


class HttpClient:
    """GET JSON pages from one provider, with throttling, retries and clear errors."""

    def __init__(
        self,
        upstream: Upstream,
        base_url: str,
        *,
        headers: Mapping[str, str],
        secrets: Collection[str],
        timeout: float,
        policy: RetryPolicy,
        throttle: Throttle | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parsed = urlsplit(base_url)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ConfigurationError(
                f"{upstream.name} base URL {redact_url(base_url)!r} is not an http(s) URL; "
                f"set {upstream.url_setting} like https://api.example.com."
            )
        self.upstream = upstream
        self.policy = policy
        self.throttle = throttle
        self._secrets = [s for s in secrets if s]
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Accept": "application/json", **headers},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            verify=client_context(),
        )

    def scrub(self, text: str) -> str:
        """``text`` with every credential value masked."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def get(self, target: str, params: Params | None = None) -> Fetched:
        """GET ``target`` (a path, or path and query, on the base URL) until it succeeds.

        Transient failures are retried per the policy; anything else, or running out of
        attempts, raises ``ProviderError`` naming the URL and the provider's message.
        """
        return self.send("GET", target, params=params)

    def send(
        self,
        method: str,
        target: str,
        *,
        params: Params | None = None,
        body: Any = None,
        accept: Collection[int] = (200,),
    ) -> Fetched:
        """Send a request (``body`` as JSON) until it gets a status in ``accept``.

        Transient failures are retried per the policy, so a request that is not
        idempotent must carry what makes a repeat harmless (an order's client id). Other
        statuses raise ``ProviderError``, as running out of attempts does.
        """
        content = None if body is None else json.dumps(body).encode()
        headers = None if body is None else {"Content-Type": "application/json"}
        request = self._client.build_request(
            method, target, params=params, content=content, headers=headers
        )
        url = self.scrub(redact_url(str(request.url)))
        last = ""
        for attempt in range(self.policy.attempts):
            if self.throttle is not None:
                self._rate_limited(self.throttle.acquire())
            wait: float | None = None
            try:
                response, answer = self._receive(request)
            except TRANSIENT_ERRORS as exc:
                last = self.scrub(f"{type(exc).__name__}: {exc}")
            except httpx.HTTPError as exc:
                raise self._failure(f"could not send the request to {url}", exc) from None
            else:
                status = response.status_code
                if status in accept:
                    if self.upstream.provider:
                        INGEST_PAGES.labels(self.upstream.provider).inc()
                    return Fetched(url, answer, status)
                if not retryable(status):
                    raise self.status_error(status, url, self.scrub(error_text(response)))
                last = f"HTTP {status} ({self.scrub(error_text(response))})"
                wait = server_wait(response.headers, rate_limited=status == 429)
                if wait is not None and wait > self.policy.max_wait:
                    raise ProviderError(
                        f"{self.upstream.name} asked to wait {wait:.0f} s before retrying "
                        f"{url} ({last}), longer than the {self.policy.max_wait:.0f} s "
                        "allowed; try again later.",
                        details={"url": url, "status": status},
                    )
            if attempt + 1 < self.policy.attempts:
                delay = self.policy.delay(attempt, wait)
                logger.warning(
                    "{} {} for {}; retry {}/{} in {:.2f} s",
                    self.upstream.name,
                    last,
                    url,
                    attempt + 1,
                    self.policy.max_retries,
                    delay,
                )
                if self.upstream.provider:
                    INGEST_RETRIES.labels(self.upstream.provider).inc()
                if wait is not None:  # the server asked for it (429, Retry-After)
                    self._rate_limited(delay)
                self._sleep(delay)
        raise ProviderError(
            f"{self.upstream.name} failed {self.policy.attempts} times for {url}; last: "
            f"{last}. The service may be down or overloaded: try again later, or raise "
            "CIFT_PROVIDER_MAX_RETRIES.",
            details={"url": url, "attempts": self.policy.attempts},
        )

    def _rate_limited(self, seconds: float) -> None:
        if self.upstream.provider and seconds > 0:
            INGEST_RATE_LIMIT_WAIT.labels(self.upstream.provider).inc(seconds)

    def _receive(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """The response and its whole body (a body cut short raises a transient error).

        A successful body is joined here instead of by ``Response.read``: httpx keeps a
        read body on the response, which sits in a reference cycle that only the
        garbage collector frees, so every page would linger in memory until it runs.
        """
        response = self._client.send(request, stream=True)
        try:
            if response.status_code == 200:
                return response, b"".join(response.iter_bytes())
            return response, response.read()
        finally:
            response.close()

    def status_error(self, status: int, url: str, text: str) -> ProviderError:
        """The error for a non-retryable status, with a hint at what to fix."""
        name = self.upstream.name
        details = {"url": url, "status": status}
        if status == 401:
            message = (
                f"{name} refused the credentials (HTTP 401 from {url}: {text}). "
                f"{self.upstream.credentials_hint}"
            )
        elif status == 403:
            message = (
                f"{name} denied access (HTTP 403 from {url}: {text}). "
                f"{self.upstream.entitlement_hint}"
            )
        elif status == 404:
            message = (
                f"{name} has nothing at {url} (HTTP 404: {text}). Check the symbol and the "
                "base URL setting."
            )
        else:
            message = f"{name} rejected the request (HTTP {status} from {url}: {text})."
        return ProviderError(message, details=details)

    def _failure(self, what: str, exc: Exception) -> ProviderError:
        return ProviderError(
            f"{self.upstream.name} {what}: {self.scrub(f'{type(exc).__name__}: {exc}')}."
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
