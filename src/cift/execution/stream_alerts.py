"""Alert conditions on the live path: a feature's latest value for a symbol, and a
streaming stage falling behind the bus.

Both read the board the live stages write as they consume the bus (latest feature
values per symbol, each stage's status with its consumer lag; in Redis when the live
path runs on Redis or Kafka), so a rule checked while ``cift stream run`` or
``cift trade run`` works sees the values the stream just made. A feature falls back to
the newest stored values when no live stage keeps them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cift.core.errors import NotFoundError
from cift.core.timeutil import from_ns, parse_when, to_ns
from cift.data.store.base import MarketStore
from cift.data.stream.board import Board, Values, latest_values
from cift.features.pipeline import default_set
from cift.model import Timeframe
from cift.model.fields import Label, TimeframeText

Observation = tuple[float, datetime]
Latest = dict[str, dict[str, Values]]
"""Timeframe -> symbol -> the newest values of that timeframe's default feature set."""
FeatureName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]


class FeatureCondition(BaseModel):
    """Fire when ``feature`` of the rule's symbol, in the default feature set of
    ``timeframe``, is at or above (or at or below) ``level``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["feature_above", "feature_below"]
    feature: FeatureName = Field(description="A column of the set, e.g. rsi or atr.")
    level: float = Field(allow_inf_nan=False, ge=-1e15, le=1e15)
    timeframe: TimeframeText = "1m"

    def describe(self) -> str:
        side = "above" if self.kind == "feature_above" else "below"
        return f"{self.feature} {side} {self.level:g}"

    def holds(self, value: float) -> bool:
        return value >= self.level if self.kind == "feature_above" else value <= self.level

    def observe(self, latest: Latest, symbol: str) -> Observation | None:
        """The feature's newest value for ``symbol`` (in ``latest``, see
        :func:`latest_features`), observed when its bar closed."""
        row = latest.get(self.timeframe, {}).get(symbol, {})
        value = row.get(self.feature)
        if value is None or "ts" not in row:
            return None
        opened = parse_when(str(row["ts"]))
        return float(value), from_ns(to_ns(opened) + Timeframe.parse(self.timeframe).nanos)


class LagCondition(BaseModel):
    """Fire when the streaming stage ``stage`` (``store-trades``, ``bars``, ``features``,
    ``trade``, ...) reports at least ``level`` messages of the bus it has not read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["consumer_lag_above"]
    stage: Label
    level: int = Field(ge=0, le=10**12)

    def describe(self) -> str:
        return f"{self.stage} lag at or above {self.level}"

    def holds(self, value: float) -> bool:
        return value >= self.level

    def observe(self, statuses: dict[str, Values]) -> Observation | None:
        """The stage's lag in its last status (``statuses``: the board's)."""
        status = statuses.get(self.stage)
        if status is None or "lag" not in status:
            return None
        return float(status["lag"]), datetime.fromtimestamp(float(status["posted_at"]), UTC)


def latest_features(
    board: Board | None, store: MarketStore, wanted: list[tuple[str, FeatureCondition]]
) -> Latest:
    """The newest default-set values of every (symbol, condition) asked, one read per
    timeframe."""
    symbols: dict[str, set[str]] = {}
    for symbol, condition in wanted:
        symbols.setdefault(condition.timeframe, set()).add(symbol)
    latest: Latest = {}
    for timeframe, names in symbols.items():
        set_id = default_set(Timeframe.parse(timeframe)).set_id
        try:
            latest[timeframe], _ = latest_values(board, store, set_id, sorted(names))
        except NotFoundError:
            latest[timeframe] = {}
    return latest
