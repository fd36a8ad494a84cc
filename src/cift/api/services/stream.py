"""The live path for the API: stage statuses and latest feature values (the WebSocket's
fan-out is ``stream_hub``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cift.data.store.base import MarketStore
from cift.data.stream.board import Board, latest_values

from ..schemas.stream import LatestFeatures, LatestValues, StageStatus, StreamStatus

STALE_AFTER_SECONDS = 10.0


def stream_status(board: Board, bus: str) -> StreamStatus:
    """Each stage's last report, flagged stale when it is old."""
    now = time.time()
    stages = [
        StageStatus(
            stage=name,
            rows_in=int(report["rows_in"]),
            rows_out=int(report["rows_out"]),
            batches=int(report["batches"]),
            rate=float(report["rate"]),
            lag=int(report["lag"]),
            last_event=report.get("last_event"),
            latency_ms=float(report["latency_ms"]),
            latency_p99_ms=report.get("latency_p99_ms"),
            reported_at=datetime.fromtimestamp(float(report["posted_at"]), UTC),
            stale=now - float(report["posted_at"]) > STALE_AFTER_SECONDS,
        )
        for name, report in board.statuses().items()
    ]
    return StreamStatus(bus=bus, stale_after_seconds=STALE_AFTER_SECONDS, stages=stages)


def latest_features(
    board: Board, store: MarketStore, set_id: str, symbols: Sequence[str] | None
) -> LatestFeatures:
    """The newest values per symbol (see :func:`latest_values`)."""
    kept, source = latest_values(board, store, set_id, symbols)
    return LatestFeatures(
        set_id=set_id,
        source=source,
        symbols=[_values(symbol, row) for symbol, row in sorted(kept.items())],
    )


def _values(symbol: str, row: dict[str, Any]) -> LatestValues:
    ts = row.pop("ts")
    return LatestValues(symbol=symbol, ts=ts, values=row)
