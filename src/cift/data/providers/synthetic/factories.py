"""Making the simulator from its options."""

from __future__ import annotations

from typing import Any

from cift.core.settings import Settings

from .config import SimulatorConfig
from .provider import SyntheticProvider


def create(settings: Settings, **options: Any) -> SyntheticProvider:
    """The simulator with ``options`` as its parameters (see ``SimulatorConfig``)."""
    del settings  # the simulator needs no credentials or limits
    return SyntheticProvider(SimulatorConfig.from_options(options))
