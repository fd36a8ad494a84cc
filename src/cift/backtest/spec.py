"""What defines a backtest run, and the market data it reads.

A :class:`RunSpec` is everything needed to reproduce a run: strategy, parameters,
settings and where the data comes from (a file, or the store by symbols, range and
timeframe). :func:`load_inputs` turns it into frames and a content hash of them, so a
recorded run can tell whether its data changed since.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from cift.backtest.config import BacktestConfig
from cift.core.errors import NotFoundError, ValidationError
from cift.core.settings import Settings
from cift.data.digest import frame_digest
from cift.data.providers.base import check_range
from cift.data.store import open_store
from cift.model import DataKind, Timeframe
from cift.model.fields import Symbol
from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.registry import get_strategy


class RunSpec(BaseModel):
    """A backtest, fully specified (JSON-ready; recorded with each run)."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(description="A built-in strategy name, e.g. sma_cross.")
    params: dict[str, Any] = Field(default_factory=dict, description="Strategy parameters.")
    symbols: list[Symbol] = Field(default_factory=list, description="Symbols (all when empty).")
    start: datetime | None = Field(None, description="First bar time (inclusive, UTC).")
    end: datetime | None = Field(None, description="End of the range (exclusive, UTC).")
    timeframe: str | None = Field(None, description="Bar length read from the store.")
    data_file: str | None = Field(None, description="A CSV/Parquet file of bars instead.")
    config: dict[str, Any] = Field(
        default_factory=dict, description="Backtest settings (BacktestConfig.describe())."
    )
    name: str | None = Field(None, description="A label for the run.")

    def strategy_class(self) -> type[Strategy]:
        return get_strategy(self.strategy)

    def strategy_params(self) -> StrategyParams:
        return self.strategy_class().parse_params(self.params)

    def backtest_config(self) -> BacktestConfig:
        return BacktestConfig.from_description({**BacktestConfig().describe(), **self.config})

    def resolved(self, settings: Settings) -> RunSpec:
        """This spec with the strategy's moving references pinned (a model alias to its
        version), as it is recorded and run."""
        params = self.strategy_class().resolve(dict(self.params), settings)
        return self if params == self.params else self.model_copy(update={"params": params})

    def validate_all(self) -> None:
        """Check strategy, parameters, settings and range before any work starts."""
        self.strategy_params()
        self.backtest_config()
        if self.start is not None and self.end is not None:
            check_range(self.start, self.end)
        if self.data_file is None and not self.symbols:
            raise ValidationError(
                "Name symbols (--symbols) to read from the store, or --data FILE."
            )


@dataclass(frozen=True)
class Inputs:
    """The market data of one run."""

    bars: pl.DataFrame | None
    quotes: pl.DataFrame | None
    trades: pl.DataFrame | None
    timeframe: Timeframe | None
    data_hash: str

    @property
    def symbols(self) -> list[str]:
        frames = [f for f in (self.bars, self.quotes, self.trades) if f is not None]
        return sorted({s for f in frames for s in f.get_column("symbol").unique().to_list()})

    def span(self) -> tuple[datetime | None, datetime | None]:
        frames = [f for f in (self.bars, self.quotes, self.trades) if f is not None and f.height]
        if not frames:
            return None, None
        first = min(f.get_column("ts").min() for f in frames)  # type: ignore[type-var]
        last = max(f.get_column("ts").max() for f in frames)  # type: ignore[type-var]
        return first, last  # type: ignore[return-value]


def load_inputs(spec: RunSpec, settings: Settings) -> Inputs:
    """Read the run's market data from its file or from the store."""
    kinds = spec.strategy_class().data
    if spec.data_file is not None:
        return _from_file(spec, Path(spec.data_file), kinds)
    return _from_store(spec, settings, kinds)


def _from_file(spec: RunSpec, path: Path, kinds: frozenset[DataKind]) -> Inputs:
    from cift.data.files import load

    loaded = load(path)
    if loaded.kind not in kinds:
        wanted = " and ".join(sorted(k.value for k in kinds))
        raise ValidationError(
            f"{path} holds {loaded.kind.value}; strategy {spec.strategy} needs {wanted}."
        )
    frame = _window(loaded.frame.lazy(), spec).collect()
    if not frame.height:
        raise NotFoundError(f"{path} has no rows for the symbols and range asked for.")
    frames: dict[DataKind, pl.DataFrame] = {loaded.kind: frame}
    return _inputs(frames, loaded.timeframe)


def _from_store(spec: RunSpec, settings: Settings, kinds: frozenset[DataKind]) -> Inputs:
    timeframe = Timeframe.parse(spec.timeframe or "1d")
    store = open_store(settings)
    try:
        frames = {
            kind: store.read(
                kind,
                symbols=spec.symbols,
                start=spec.start,
                end=spec.end,
                timeframe=timeframe if kind is DataKind.BARS else None,
            ).collect()
            for kind in sorted(kinds)
        }
    finally:
        store.close()
    empty = [k.value for k, f in frames.items() if not f.height]
    if empty:
        raise NotFoundError(
            f"The store has no {' or '.join(empty)} for {', '.join(spec.symbols)} in that range"
            f"{f' at {timeframe}' if DataKind.BARS in frames else ''}; see 'cift data ls' and "
            "load data with 'cift data backfill' or 'cift data import'."
        )
    return _inputs(frames, timeframe if DataKind.BARS in frames else None)


def _window(frame: pl.LazyFrame, spec: RunSpec) -> pl.LazyFrame:
    if spec.symbols:
        frame = frame.filter(pl.col("symbol").is_in(spec.symbols))
    if spec.start is not None:
        frame = frame.filter(pl.col("ts") >= spec.start)
    if spec.end is not None:
        frame = frame.filter(pl.col("ts") < spec.end)
    return frame


def _inputs(frames: dict[DataKind, pl.DataFrame], timeframe: Timeframe | None) -> Inputs:
    digest = hashlib.sha256()
    for kind in sorted(frames):
        digest.update(kind.value.encode())
        digest.update(frame_digest(frames[kind]).encode())
    return Inputs(
        bars=frames.get(DataKind.BARS),
        quotes=frames.get(DataKind.QUOTES),
        trades=frames.get(DataKind.TRADES),
        timeframe=timeframe,
        data_hash=digest.hexdigest(),
    )
