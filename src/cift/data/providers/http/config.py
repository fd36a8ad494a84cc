"""How an adapter's HTTP client behaves, from the settings with keyword overrides (tests
and tools), and the client and rate limit made from it: one place for what every
provider and broker factory needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cift.core.errors import ConfigurationError
from cift.core.settings import Settings, env_var
from cift.data.providers.base import RateLimit

from .client import HttpClient, Upstream
from .retry import RetryPolicy
from .throttle import Throttle


@dataclass(frozen=True)
class HttpConfig:
    """An endpoint, its time limits, retries and request budget."""

    base_url: str
    requests_per_minute: int
    timeout: float
    max_retries: int
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_wait: float = 300.0

    @classmethod
    def of(
        cls,
        settings: Settings,
        base_url: str,
        requests_per_minute: int,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_wait: float = 300.0,
    ) -> HttpConfig:
        """The settings' timeout and retries unless given."""
        return cls(
            base_url=base_url,
            requests_per_minute=requests_per_minute,
            timeout=timeout or settings.provider_timeout_seconds,
            max_retries=settings.provider_max_retries if max_retries is None else max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            max_wait=max_wait,
        )

    @property
    def rate_limit(self) -> RateLimit:
        return RateLimit(self.requests_per_minute, 60.0)

    def client(
        self, upstream: Upstream, headers: Mapping[str, str], secrets: Sequence[str]
    ) -> HttpClient:
        """A client of ``upstream`` that sends ``headers`` and never shows ``secrets``."""
        policy = RetryPolicy(
            max_retries=self.max_retries,
            backoff=self.backoff,
            max_backoff=self.max_backoff,
            max_wait=self.max_wait,
        )
        return HttpClient(
            upstream,
            self.base_url,
            headers=dict(headers),
            secrets=list(secrets),
            timeout=self.timeout,
            policy=policy,
            throttle=Throttle(self.requests_per_minute, 60.0),
        )


def required_secrets(settings: Settings, names: Sequence[str], what: str, where: str) -> list[str]:
    """The values of the secret settings ``names``, or an error naming every one missing:
    "``what`` needs ... set X and Y (in the environment or .env) ``where``"."""
    values = [_secret(settings, name) for name in names]
    missing = [env_var(name) for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise ConfigurationError(
            f"{what}: set {' and '.join(missing)} (in the environment or .env) {where}."
        )
    return values


def _secret(settings: Settings, name: str) -> str:
    value = getattr(settings, name)
    return "" if value is None else str(value.get_secret_value())
