"""Where the live stages leave what others read: each stage's status (rate, lag, last
event) and each feature set's latest values per symbol.

With Redis configured for the live path (``CIFT_BUS=redis`` or ``kafka`` and
``CIFT_REDIS_URL``), both live in Redis hashes that any process reads. Otherwise statuses
are small JSON files under ``CIFT_HOME/stream`` (one per stage, replaced atomically)
and the latest values stay in the memory of the process that computes them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl
from loguru import logger

from cift.core.errors import NotFoundError, UpstreamError
from cift.core.files import write_text_atomic
from cift.data.store.base import MarketStore

if TYPE_CHECKING:
    from cift.core.settings import Settings

Values = dict[str, Any]


class Board(Protocol):
    def post_status(self, stage: str, status: Values) -> None:
        """Replace ``stage``'s status (stamped with the time it was posted)."""
        ...

    def statuses(self) -> dict[str, Values]:
        """Every stage's last status."""
        ...

    def put_latest(self, set_id: str, rows: pl.DataFrame) -> None:
        """Keep the newest row of each symbol in ``rows`` (``symbol, ts`` + values)."""
        ...

    def latest(self, set_id: str, symbols: Sequence[str] | None = None) -> dict[str, Values]:
        """The kept values of a set by symbol (all symbols when None)."""
        ...


def unless_down(write: Callable[..., None], *args: Any) -> None:
    """A board write that the next one replaces (a status, a latest value): a board
    that is down is logged, not raised, so that a live stage never ends over it."""
    try:
        write(*args)
    except UpstreamError as exc:
        logger.warning("the stream board is down ({}); the next update tries again", exc.message)


def _stamped(status: Values) -> str:
    return json.dumps(status | {"posted_at": time.time()})


def newest_rows(rows: pl.DataFrame) -> dict[str, Values]:
    """The last row of each symbol as JSON-ready values (``ts`` as ISO text)."""
    tail = rows.group_by("symbol", maintain_order=True).last()
    tail = tail.with_columns(pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S%.9fZ"))
    return {row.pop("symbol"): row for row in tail.to_dicts()}


def latest_values(
    board: Board | None, store: MarketStore, set_id: str, symbols: Sequence[str] | None = None
) -> tuple[dict[str, Values], str]:
    """The newest values of a feature set per symbol, and where they came from: those
    the live features stage keeps (``live``), else the newest stored ones (``store``: a
    set computed in batch, or a stage keeping them in its own memory)."""
    kept = board.latest(set_id, symbols) if board is not None else {}
    if kept:
        return kept, "live"
    try:
        stored = store.read_features(set_id, symbols=symbols).collect()
    except NotFoundError:
        raise NotFoundError(
            f"No feature set {set_id!r} is stored or streamed; see GET /api/v1/features/sets."
        ) from None
    return newest_rows(stored), "store"


class LocalBoard:
    """Statuses in files, latest values in this process."""

    def __init__(self, home: Path) -> None:
        self.root = home / "stream"
        self._latest: dict[str, dict[str, Values]] = {}

    def post_status(self, stage: str, status: Values) -> None:
        write_text_atomic(self.root / f"{stage}.json", _stamped(status))

    def statuses(self) -> dict[str, Values]:
        found: dict[str, Values] = {}
        for path in sorted(self.root.glob("*.json")):
            try:
                found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # replaced while read: the next read has it
        return found

    def put_latest(self, set_id: str, rows: pl.DataFrame) -> None:
        self._latest.setdefault(set_id, {}).update(newest_rows(rows))

    def latest(self, set_id: str, symbols: Sequence[str] | None = None) -> dict[str, Values]:
        held = self._latest.get(set_id, {})
        return {s: v for s, v in held.items() if symbols is None or s in symbols}


class RedisBoard:
    """Statuses and latest values in Redis hashes under ``prefix``."""

    def __init__(self, url: str, prefix: str = "cift:") -> None:
        import redis

        self._errors = redis.RedisError
        self.client = redis.Redis.from_url(url, socket_timeout=10)
        self.prefix = prefix

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.client, method)(*args)
        except self._errors as exc:
            raise UpstreamError(
                f"Redis refused the stream board ({exc}); check CIFT_REDIS_URL."
            ) from None

    def post_status(self, stage: str, status: Values) -> None:
        self._call("hset", f"{self.prefix}stream:status", stage, _stamped(status))

    def statuses(self) -> dict[str, Values]:
        held = self._call("hgetall", f"{self.prefix}stream:status")
        return {k.decode(): json.loads(v) for k, v in sorted(held.items())}

    def put_latest(self, set_id: str, rows: pl.DataFrame) -> None:
        newest = {s: json.dumps(v) for s, v in newest_rows(rows).items()}
        if newest:
            self._call("hset", f"{self.prefix}features:latest:{set_id}", None, None, newest)

    def latest(self, set_id: str, symbols: Sequence[str] | None = None) -> dict[str, Values]:
        held = self._call("hgetall", f"{self.prefix}features:latest:{set_id}")
        values = {k.decode(): json.loads(v) for k, v in held.items()}
        return {s: v for s, v in sorted(values.items()) if symbols is None or s in symbols}


def open_board(settings: Settings) -> Board:
    """Redis when the live path is configured with it, else local."""
    if settings.bus != "memory" and settings.redis_url is not None:
        prefix = settings.bus_prefix.replace(".", ":")
        return RedisBoard(settings.redis_url.get_secret_value(), prefix)
    return LocalBoard(settings.home)
