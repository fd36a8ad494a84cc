"""Readiness probes: one per configured backend, run concurrently, each with a timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import anyio
from sqlalchemy import Engine

from cift.core.errors import CiftError
from cift.core.settings import Settings
from cift.data.store import MarketStore
from cift.db import migrate

from ..schemas.health import ComponentHealth, Readiness

Probe = Callable[[], Awaitable[str]]
"""A probe returns a short description of what it found, or raises if the backend is down."""


@dataclass(frozen=True)
class Component:
    name: str
    probe: Probe


def database_probe(engine: Engine) -> Probe:
    """Reach the metadata database and check its schema is at the newest migration."""

    def check() -> str:
        revision = migrate.current_revision(engine)
        head = migrate.head_revision()
        if revision != head:
            raise RuntimeError(
                f"schema at {revision or 'no revision'}, expected {head}; run 'cift db upgrade'"
            )
        return f"{engine.dialect.name}, schema at {revision}"

    async def probe() -> str:
        return await anyio.to_thread.run_sync(check, abandon_on_cancel=True)

    return probe


def redis_probe(url: str, timeout: float) -> Probe:
    """PING the Redis server."""

    async def probe() -> str:
        try:
            from redis.asyncio import Redis
        except ImportError:
            raise RuntimeError("the redis package is missing; pip install 'cift[redis]'") from None
        client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            await client.ping()
            info = await client.info("server")
        finally:
            await client.aclose()
        return f"redis {info.get('redis_version', '?')}"

    return probe


def store_probe(store: MarketStore) -> Probe:
    """Reach the market-data store."""

    async def probe() -> str:
        return await anyio.to_thread.run_sync(store.ping, abandon_on_cancel=True)

    return probe


def configured_components(
    settings: Settings, engine: Engine, store: MarketStore
) -> list[Component]:
    """The probes of every backend the settings turn on."""
    components = [
        Component("database", database_probe(engine)),
        Component("market_store", store_probe(store)),
    ]
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        components.append(Component("redis", redis_probe(url, settings.health_timeout_seconds)))
    return components


async def check_readiness(components: list[Component], seconds_each: float) -> Readiness:
    """Run every probe concurrently; the report is ready only if all of them pass."""
    results = await asyncio.gather(*(_run(c, seconds_each) for c in components))
    checks = dict(zip((c.name for c in components), results, strict=True))
    ready = all(check.status == "ok" for check in checks.values())
    return Readiness(status="ready" if ready else "not_ready", checks=checks)


async def _run(component: Component, seconds: float) -> ComponentHealth:
    begin = time.perf_counter()
    status: Literal["ok", "down"] = "ok"
    try:
        detail = await asyncio.wait_for(component.probe(), seconds)
    except TimeoutError:
        detail, status = f"no answer within {seconds:g} s", "down"
    except CiftError as exc:
        detail, status = exc.message, "down"
    except Exception as exc:
        detail, status = f"{type(exc).__name__}: {_first_line(exc)}", "down"
    latency = round((time.perf_counter() - begin) * 1000, 3)
    return ComponentHealth(status=status, latency_ms=latency, detail=detail)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"
