"""Alert rules checked as the live stream flows: consumers of the ``features`` topic
(after each batch of new feature values, so after each closed bar) and of the ``orders``
topic (after order news, so a refused order is told at once), that check every watching
rule against the store, the ledger and the board, and deliver what fires."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from cift.core.settings import Settings
from cift.data.bus import Delivery, EventBus
from cift.data.store.base import MarketStore
from cift.data.stream.board import Board
from cift.data.stream.stage import Outcome, StageStats, consume
from cift.execution.alerts import check_alerts
from cift.execution.delivery.send import deliver
from cift.execution.order_events import ORDERS_TOPIC
from cift.features.live.pipeline import Downstream
from cift.features.live.stage import FEATURES_TOPIC


def alerts_stage(
    bus: EventBus,
    stop: threading.Event,
    *,
    settings: Settings,
    db: sessionmaker[Session],
    store: MarketStore,
    board: Board,
    group: str = "alerts",
    topic: str = FEATURES_TOPIC,
    **common: object,
) -> StageStats:
    """Check and deliver alerts after each batch of ``topic`` (live feature values, or
    order news); rows out are the alerts that fired."""

    def work(deliveries: Sequence[Delivery]) -> Outcome:
        if not deliveries:
            return Outcome(0, ())
        fired = check_alerts(db, store, board=board)
        deliver(settings, db, fired)
        return Outcome(len(fired), deliveries)

    return consume(bus, topic, group, "alerts-1", work, stop, **common)  # type: ignore[arg-type]


def alert_checks(
    settings: Settings, db: sessionmaker[Session], store: MarketStore, board: Board
) -> list[Downstream]:
    """The alerts stages, to run with the live stages (``run_all``'s downstream): on
    feature values, and on order news when the bus is shared with the API (no other
    process publishes on an in-process bus)."""
    options: dict[str, object] = {"settings": settings, "db": db, "store": store, "board": board}
    stages = [Downstream("alerts", alerts_stage, options, reads=FEATURES_TOPIC)]
    if settings.bus != "memory":
        on_orders = options | {"group": "alerts-orders", "topic": ORDERS_TOPIC}
        stages.append(Downstream("alerts-orders", alerts_stage, on_orders, reads=ORDERS_TOPIC))
    return stages
