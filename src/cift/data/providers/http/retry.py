"""When and how long to wait before asking a provider again.

Transient failures (timeouts, dropped connections, 408, 429 and 5xx) are retried a
bounded number of times. The wait grows exponentially with jitter, so threads that failed
together do not return together; a wait the server asks for (``Retry-After`` in seconds or
as an HTTP date, or ``X-RateLimit-Reset`` in epoch seconds) is honoured instead.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({408, 429})


def retryable(status: int) -> bool:
    """True for statuses that mean "try again later": 408, 429 and every 5xx."""
    return status in RETRY_STATUSES or status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    ``backoff`` is the first wait in seconds; it doubles per attempt up to
    ``max_backoff``. ``max_wait`` is the longest server-requested wait accepted: beyond it
    the request fails at once with the server's wait in the message.
    """

    max_retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_wait: float = 300.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @property
    def attempts(self) -> int:
        return self.max_retries + 1

    def backoff_delay(self, retry: int) -> float:
        """Wait before retry number ``retry`` (0-based): half fixed, half random."""
        ceiling = min(self.max_backoff, self.backoff * 2.0**retry)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def delay(self, retry: int, server_wait: float | None) -> float:
        """The server's wait plus a little jitter when it gave one, else the backoff."""
        if server_wait is None:
            return self.backoff_delay(retry)
        return server_wait + self.rng.uniform(0, min(self.backoff, 1.0))


def server_wait(
    headers: Mapping[str, str], *, rate_limited: bool, now: float | None = None
) -> float | None:
    """Seconds the server asks us to wait: ``Retry-After``, or on a 429 ``X-RateLimit-Reset``.

    The reset time also rides on successful and 5xx answers, where it says nothing about
    when to retry, so it is read only when the request was rate limited.
    """
    now = time.time() if now is None else now
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        text = retry_after.strip()
        try:
            return max(0.0, float(text))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(text).timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = headers.get("x-ratelimit-reset")
    if rate_limited and reset is not None:
        try:
            return max(0.0, float(reset.strip()) - now)
        except ValueError:
            return None
    return None
