"""The event bus of the live path: in-process (default), Redis Streams or Kafka."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cift.core.errors import ConfigurationError
from cift.data.bus.base import TOPICS, Delivery, EventBus, Subscription

if TYPE_CHECKING:
    from cift.core.settings import Settings


def open_bus(settings: Settings) -> EventBus:
    """The bus ``CIFT_BUS`` selects."""
    if settings.bus == "redis":
        if settings.redis_url is None:
            raise ConfigurationError(
                "CIFT_BUS=redis needs CIFT_REDIS_URL, e.g. redis://localhost:6379/0."
            )
        from cift.data.bus.redis import RedisBus

        return RedisBus(
            settings.redis_url.get_secret_value(), settings.bus_prefix.replace(".", ":")
        )
    if settings.bus == "kafka":
        from cift.data.bus.kafka import KafkaBus

        return KafkaBus(settings.kafka_bootstrap_servers, settings.bus_prefix)
    from cift.data.bus.memory import MemoryBus

    return MemoryBus()


__all__ = ["TOPICS", "Delivery", "EventBus", "Subscription", "open_bus"]
