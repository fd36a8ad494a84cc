"""Live market data: one feed protocol for the WebSocket providers and the simulator.

A feed yields ``(kind, frame)`` batches in the model's schema as events arrive, each
event once (repeats after a reconnect are dropped), with the gap of a reconnect filled
from the provider's REST history. Each provider package has a ``create_feed(settings,
**options)`` factory, imported only when asked for, as with ``create``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cift.core.errors import ValidationError
from cift.data.providers.live.base import FeedBatch, FeedCounters, LiveFeed

if TYPE_CHECKING:
    from cift.core.settings import Settings

FEEDS: dict[str, str] = {
    "synthetic": "cift.data.providers.synthetic.stream",
    "polygon": "cift.data.providers.polygon.stream",
    "alpaca": "cift.data.providers.alpaca.stream",
}


def get_feed(name: str, settings: Settings, **options: Any) -> LiveFeed:
    """The live feed of provider ``name`` (options go to its factory)."""
    if name not in FEEDS:
        raise ValidationError(
            f"Provider {name!r} has no live feed; choose one of {', '.join(FEEDS)}."
        )
    module = importlib.import_module(FEEDS[name])
    feed: LiveFeed = module.create_feed(settings, **options)
    return feed


__all__ = ["FEEDS", "FeedBatch", "FeedCounters", "LiveFeed", "get_feed"]
