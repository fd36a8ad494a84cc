"""What is running: version, environment, backends."""

from __future__ import annotations

import platform

from fastapi import APIRouter

from cift import __version__

from ..deps import State
from ..schemas.health import SystemInfo
from ..security import READ
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/system", tags=["system"], dependencies=[READ])


@router.get("", summary="Version, environment and backends")
def system_info(state: State) -> SystemInfo:
    """The running version and the backend in use for each concern."""
    settings = state.settings
    return SystemInfo(
        version=__version__,
        environment=settings.env.value,
        python=platform.python_version(),
        started_at=state.started_at,
        backends={
            "metadata": state.engine.dialect.name,
            "cache": "redis" if settings.redis_url is not None else "in-process",
        },
    )
