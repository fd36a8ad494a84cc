"""Token-bucket rate limits per API key, user and client IP.

Each bucket holds up to ``per_minute`` tokens and refills at ``per_minute / 60`` a
second; a request takes one token from every bucket it is charged to, or from none
when any of them is empty. With ``CIFT_REDIS_URL`` set, buckets live in Redis and one
Lua script checks and takes atomically with the server's clock, so every API process
shares them; otherwise they live in this process.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from loguru import logger
from starlette.requests import Request

from cift.core.errors import RateLimitedError
from cift.core.settings import Settings

from ..problems import problem_response, request_id_of
from .base import HttpMiddleware

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

KEY_PREFIX = "cift:ratelimit:"
STATE_KEY = "ratelimits"
"""Where each check of a request leaves its decision, for the response headers."""


@dataclass(frozen=True)
class Limit:
    """A bucket of ``per_minute`` tokens refilled evenly over a minute."""

    per_minute: int

    @property
    def rate(self) -> float:
        return self.per_minute / 60.0


@dataclass(frozen=True)
class Decision:
    """The outcome for the tightest of the buckets a request was charged to."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: float
    retry_after: float

    def headers(self) -> dict[str, str]:
        """``RateLimit-*`` headers (IETF draft) and ``Retry-After`` when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(max(0, math.ceil(self.reset_seconds))),
            "RateLimit-Policy": f"{self.limit};w=60",
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


Bucket = tuple[str, Limit]


class RateLimiter(Protocol):
    blocking: bool

    def hit(self, buckets: Sequence[Bucket]) -> Decision: ...


def _decide(levels: Sequence[float], limits: Sequence[Limit]) -> Decision:
    """The decision from each bucket's refilled level, before a token is taken."""
    allowed = all(level >= 1 for level in levels)
    after = [level - 1 if allowed else level for level in levels]
    tightest = min(range(len(after)), key=lambda i: after[i] / limits[i].per_minute)
    retry = max(
        ((1 - lv) / lim.rate for lv, lim in zip(levels, limits, strict=True) if lv < 1), default=0.0
    )
    limit = limits[tightest]
    return Decision(
        allowed=allowed,
        limit=limit.per_minute,
        remaining=max(0, math.floor(after[tightest])),
        reset_seconds=(limit.per_minute - after[tightest]) / limit.rate,
        retry_after=retry,
    )


class MemoryRateLimiter:
    """Buckets in this process (one API worker); a lock makes check-and-take atomic."""

    blocking = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def hit(self, buckets: Sequence[Bucket]) -> Decision:
        now = time.monotonic()
        with self._lock:
            levels = []
            for key, limit in buckets:
                tokens, at = self._buckets.get(key, (float(limit.per_minute), now))
                levels.append(min(limit.per_minute, tokens + (now - at) * limit.rate))
            decision = _decide(levels, [limit for _, limit in buckets])
            taken = 1 if decision.allowed else 0
            for (key, _), level in zip(buckets, levels, strict=True):
                self._buckets[key] = (level - taken, now)
            if len(self._buckets) > 100_000:
                self._forget_full(now)
        return decision

    def _forget_full(self, now: float) -> None:
        """Drop buckets idle long enough to be full again (a full bucket is no state)."""
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}


# KEYS: bucket keys. ARGV: per bucket, rate (tokens/s) and capacity.
# Returns: allowed (0/1) and, as strings, each bucket's level before the request.
BUCKETS_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local levels = {}
local allowed = 1
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1])
  local capacity = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local tokens = tonumber(state[1]) or capacity
  local ts = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
  levels[i] = tokens
  if tokens < 1 then allowed = 0 end
end
local out = {allowed}
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1])
  local capacity = tonumber(ARGV[2 * i])
  local left = levels[i]
  if allowed == 1 then left = left - 1 end
  redis.call('HSET', KEYS[i], 'tokens', tostring(left), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil(capacity / rate * 1000) + 1000)
  out[i + 1] = tostring(levels[i])
end
return out
"""


class RedisRateLimiter:
    """Buckets in Redis shared by every API process; one script call per request."""

    blocking = True

    def __init__(self, url: str, timeout: float) -> None:
        from redis import Redis

        self.client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        self.script = self.client.register_script(BUCKETS_SCRIPT)

    def hit(self, buckets: Sequence[Bucket]) -> Decision:
        limits = [limit for _, limit in buckets]
        args: list[Any] = []
        for limit in limits:
            args += [repr(limit.rate), limit.per_minute]
        try:
            reply = self.script(keys=[KEY_PREFIX + key for key, _ in buckets], args=args)
        except Exception as exc:
            logger.warning("rate limiting skipped, Redis failed: {}", exc)
            return _decide([float(lim.per_minute) for lim in limits], limits)
        return _decide([float(level) for level in reply[1:]], limits)


def create_limiter(settings: Settings) -> RateLimiter:
    if settings.redis_url is not None:
        return RedisRateLimiter(
            settings.redis_url.get_secret_value(), settings.health_timeout_seconds
        )
    return MemoryRateLimiter()


async def check(limiter: RateLimiter, buckets: Sequence[Bucket]) -> Decision:
    if limiter.blocking:
        return await anyio.to_thread.run_sync(limiter.hit, buckets)
    return limiter.hit(buckets)


def record(scope_state: dict[str, Any], decision: Decision) -> None:
    scope_state.setdefault(STATE_KEY, []).append(decision)


def charge(request: Request, limiter: RateLimiter, buckets: Sequence[Bucket]) -> None:
    """Take a token from each bucket for this request, or raise 429 (for sync code)."""
    decision = limiter.hit(buckets)
    record(request.scope.setdefault("state", {}), decision)
    if not decision.allowed:
        raise RateLimitedError(
            f"Too many requests; the limit is {decision.limit} a minute. Retry in "
            f"{max(1, math.ceil(decision.retry_after))} s.",
            retry_after=decision.retry_after,
        )


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class ClientIpRateLimitMiddleware(HttpMiddleware):
    """Every request, routed or not, is charged to its client IP's bucket."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, settings: Settings) -> None:
        super().__init__(app)
        self.limiter = limiter
        self.limit = Limit(settings.rate_limit_ip_per_minute)
        self.enabled = settings.rate_limit_enabled

    def wants(self, scope: Scope) -> bool:
        return self.enabled

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        decision = await check(self.limiter, [(f"ip:{client_ip(scope)}", self.limit)])
        record(scope.setdefault("state", {}), decision)
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            status=429,
            code=RateLimitedError.code,
            title=RateLimitedError.title,
            detail=f"Too many requests from {client_ip(scope)}; the limit is "
            f"{decision.limit} a minute. Retry after the number of seconds in Retry-After.",
            instance=scope.get("path", ""),
            request_id=request_id_of(Request(scope)),
            headers=decision.headers(),
        )
        await response(scope, receive, send)


def tightest(decisions: Sequence[Decision]) -> Decision | None:
    """The decision to report: a refusal if any, else the one with the least left."""
    if not decisions:
        return None
    refused = [d for d in decisions if not d.allowed]
    return refused[0] if refused else min(decisions, key=lambda d: d.remaining / d.limit)
