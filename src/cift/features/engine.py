"""Run feature kernels over frames (batch) and over single events (live).

Batch: rows are ordered by symbol and time, each symbol's rows form one segment, and
each kernel walks each segment from a fresh state. Live: the same kernels take one row
at a time and keep each symbol's state between events. The two paths share every
arithmetic step, so they produce the same numbers bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
import polars as pl

from cift.core.errors import ValidationError
from cift.features.metrics import COMPUTE_DURATION, COMPUTED
from cift.features.spec import FeatureCall, name_columns


def segments(symbols: pl.Series | None, rows: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of equal symbols (the whole frame if there is none)."""
    if symbols is None or rows == 0:
        return [(0, rows)] if rows else []
    return _bounds(_run_starts(symbols), rows)


def _run_starts(symbols: pl.Series) -> pl.Series:
    """True where a run of equal symbols begins."""
    return symbols.ne_missing(symbols.shift(1)).fill_null(True)


def _bounds(starts: pl.Series, rows: int) -> list[tuple[int, int]]:
    first = starts.arg_true().to_list()
    return list(zip(first, [*first[1:], rows], strict=True))


def ordered_segments(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[int, int]]]:
    """:func:`ordered` and its :func:`segments` in one pass over the symbols."""
    if "symbol" not in frame.columns or frame.height < 2:
        data = ordered(frame)
        return data, segments(
            data.get_column("symbol") if "symbol" in data.columns else None, data.height
        )
    starts = _run_starts(frame.get_column("symbol"))
    if _grouped_in_time(frame, starts):
        return frame, _bounds(starts, frame.height)
    data = frame.sort(
        ["symbol", "ts"] if "ts" in frame.columns else ["symbol"], maintain_order=True
    )
    return data, segments(data.get_column("symbol"), data.height)


def ordered(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with each symbol's rows together and in time order, as kernels need.

    A frame that already is (one block per symbol, time not decreasing) is returned as it
    is, without the cost of a sort; any other is sorted by symbol and time (stable).
    """
    keys = [c for c in ("symbol", "ts") if c in frame.columns]
    if not keys or _grouped_in_time(frame):
        return frame
    return frame.sort(keys, maintain_order=True)


def _grouped_in_time(frame: pl.DataFrame, starts: pl.Series | None = None) -> bool:
    if frame.height < 2:
        return True
    if "symbol" not in frame.columns:
        return bool(frame.get_column("ts").is_sorted())
    symbols = frame.get_column("symbol")
    starts = _run_starts(symbols) if starts is None else starts
    heads = symbols.filter(starts)  # one value per run: unique when each symbol is one block
    if heads.n_unique() != heads.len():
        return False
    if "ts" not in frame.columns:
        return True
    steps = frame.get_column("ts").to_physical().diff()
    return bool(((steps >= 0) | starts).fill_null(True).all())


def _inputs(frame: pl.DataFrame, call: FeatureCall) -> tuple[np.ndarray, ...]:
    missing = [c for c in call.spec.inputs if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{call.spec.name} needs column(s) {missing}; the data has {frame.columns}."
        )
    return tuple(_floats(frame.get_column(c)) for c in call.spec.inputs) or (
        read_only(np.empty(frame.height)),
    )


def _floats(column: pl.Series) -> np.ndarray:
    """A column as kernels take it: float64; timestamps as nanoseconds since the epoch."""
    if isinstance(column.dtype, pl.Datetime):
        column = column.dt.cast_time_unit("ns")
    return read_only(np.ascontiguousarray(column.cast(pl.Float64).to_numpy()))


def read_only(array: np.ndarray) -> np.ndarray:
    """``array``, marked read-only: a kernel then sees its inputs as one array type (numba
    compiles each kind apart, a second of machine code and cache each), whether Polars
    lent its memory or a copy was made."""
    array.flags.writeable = False
    return array


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _number(value: float | datetime | None) -> float:
    """One live input value as kernels take it (a naive datetime is taken as UTC)."""
    if value is None:
        return math.nan
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        delta = moment - _EPOCH
        return float((delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000)
    return float(value)


def run_call(
    frame: pl.DataFrame,
    call: FeatureCall,
    bounds: Sequence[tuple[int, int]],
    states: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """The ``(outputs, rows)`` array of one call over every segment, each from a fresh
    state or, when given, from its segment's state in ``states`` (updated in place)."""
    inputs = _inputs(frame, call)
    params = call.params
    out = np.empty((len(call.spec.outputs), frame.height))  # kernels write every row
    for index, (start, end) in enumerate(bounds):
        state = call.spec.new_state(params) if states is None else states[index]
        segment = tuple(column[start:end] for column in inputs)
        view = out[:, start:end]
        if view.flags.c_contiguous:  # the whole frame, or a one-output feature
            call.spec.kernel(segment, params, state, view)
            continue
        # A contiguous buffer runs the kernel's fast (unit-stride) specialisation.
        part = np.empty((len(call.spec.outputs), end - start))
        call.spec.kernel(segment, params, state, part)
        view[:] = part
    return out


def compute(frame: pl.DataFrame, calls: Sequence[FeatureCall]) -> pl.DataFrame:
    """``frame`` (ordered by symbol and time) plus one column per feature output.

    Warm-up rows and undefined values are null, never NaN or 0.
    """
    return _with_values(*compute_values(frame, calls))


def compute_values(
    frame: pl.DataFrame, calls: Sequence[FeatureCall]
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """:func:`compute` as arrays, for callers that index the values: ``frame`` ordered by
    symbol and time, and each output's float values over its rows (NaN where undefined)."""
    with COMPUTE_DURATION.time():
        named = name_columns(list(calls))
        data, bounds = ordered_segments(frame)
        values = _values(data, named, bounds)
    COMPUTED.inc(data.height)
    return data, values


def _values(
    data: pl.DataFrame,
    named: Sequence[FeatureCall],
    bounds: Sequence[tuple[int, int]],
    states: Sequence[Sequence[np.ndarray]] | None = None,
) -> dict[str, np.ndarray]:
    """Every output of ``named`` over the segments (states: per call, per segment)."""
    values: dict[str, np.ndarray] = {}
    for number, call in enumerate(named):
        out = run_call(data, call, bounds, None if states is None else states[number])
        values.update(zip(call.columns, out, strict=True))
    return values


def _with_values(data: pl.DataFrame, values: Mapping[str, np.ndarray]) -> pl.DataFrame:
    """``data`` plus the values as columns, NaN as null."""
    return data.with_columns(
        pl.Series(name, column, nan_to_null=True) for name, column in values.items()
    )


def expression(call: FeatureCall) -> pl.Expr:
    """The call as a Polars expression over its input columns (use ``.over("symbol")``
    for many symbols): a Float64 column, or a struct of them for several outputs."""
    named = name_columns([call])[0]
    spec = named.spec

    def run(batch: pl.Series) -> pl.Series:
        frame = batch.struct.unnest() if batch.dtype == pl.Struct else batch.to_frame()
        frame = frame.rename(dict(zip(frame.columns, spec.inputs, strict=True)))
        out = run_call(frame, named, [(0, frame.height)])
        series = [pl.Series(name, out[i]).fill_nan(None) for i, name in enumerate(named.columns)]
        if len(series) == 1:
            return series[0]
        return pl.DataFrame(series).to_struct(spec.name)

    dtype: pl.DataType = pl.Float64()
    if len(named.columns) > 1:
        dtype = pl.Struct({name: pl.Float64() for name in named.columns})
    source = pl.struct(list(spec.inputs)) if len(spec.inputs) > 1 else pl.col(spec.inputs[0])
    return source.map_batches(run, return_dtype=dtype).alias(
        named.columns[0] if len(named.columns) == 1 else spec.name
    )


class LiveFeatures:
    """The same features, updated one event at a time per symbol."""

    def __init__(self, calls: Sequence[FeatureCall]) -> None:
        self.calls = name_columns(list(calls))
        self._params = [call.params for call in self.calls]
        self._states: dict[str, list[np.ndarray]] = {}
        # One buffer of the current event's inputs; each call sees 1-element views of it.
        self._names = list(dict.fromkeys(n for c in self.calls for n in c.spec.inputs))
        self._values = np.empty(max(len(self._names), 1))
        slot = {name: i for i, name in enumerate(self._names)}
        self._inputs = [
            tuple(read_only(self._values[slot[n] : slot[n] + 1]) for n in c.spec.inputs)
            or (read_only(self._values[:1]),)
            for c in self.calls
        ]
        self._outputs = [np.empty((len(c.spec.outputs), 1)) for c in self.calls]

    def update(
        self, symbol: str, row: Mapping[str, float | datetime | None]
    ) -> dict[str, float | None]:
        """Feed one row (its input columns; ``ts`` may be a datetime) and get every
        output for it."""
        states = self._states_of(symbol)
        for index, name in enumerate(self._names):
            self._values[index] = _number(row.get(name))
        result: dict[str, float | None] = {}
        for call, params, state, inputs, out in zip(
            self.calls, self._params, states, self._inputs, self._outputs, strict=True
        ):
            call.spec.kernel(inputs, params, state, out)  # writes every output (kernel contract)
            for index, name in enumerate(call.columns):
                value = float(out[index, 0])
                result[name] = None if math.isnan(value) else value
        return result

    def update_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Feed a batch of rows (any symbols; each symbol's rows later than those fed
        before) and get the rows with every output, continuing each symbol's state: the
        values :func:`compute` gives over the whole history, row for row."""
        data, bounds = ordered_segments(frame)
        if data.is_empty():
            return data.with_columns(
                pl.lit(None, pl.Float64).alias(n) for c in self.calls for n in c.columns
            )
        symbols = data.get_column("symbol")
        per_segment = [self._states_of(str(symbols[start])) for start, _ in bounds]
        states = [[segment[i] for segment in per_segment] for i in range(len(self.calls))]
        return _with_values(data, _values(data, self.calls, bounds, states))

    def _states_of(self, symbol: str) -> list[np.ndarray]:
        states = self._states.get(symbol)
        if states is None:
            states = [c.spec.new_state(p) for c, p in zip(self.calls, self._params, strict=True)]
            self._states[symbol] = states
        return states

    def state_of(self, symbol: str) -> list[np.ndarray] | None:
        """The current state vectors of a symbol (copies), e.g. to checkpoint them."""
        states = self._states.get(symbol)
        return [s.copy() for s in states] if states is not None else None
