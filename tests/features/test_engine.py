"""The feature engine: names and parameters, symbols kept apart, live equals batch."""

from __future__ import annotations

import functools
import itertools
import pkgutil

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cift.core.errors import ValidationError
from cift.features import catalog
from cift.features.engine import LiveFeatures, compute, expression, run_call
from cift.features.spec import all_specs, parse_call, split_calls
from tests.budget import deep
from tests.features.reference import random_bars, random_events
from tests.fresh import fresh_python

SET = "rsi(14),sma(20),macd(12,26,9),bbands(20,2),atr(14),stoch,obv"


def calls(text: str = SET) -> list:  # type: ignore[type-arg]
    return [parse_call(t) for t in split_calls(text)]


def test_calls_parse_like_talib() -> None:
    call = parse_call("bbands(timeperiod=20, nbdevup=1.5)")
    assert call.values == (20.0, 1.5, 2.0)
    assert parse_call("MACD").values == (12.0, 26.0, 9.0)
    assert parse_call("fast=sma(10)").alias == "fast"
    assert split_calls("rsi(14), macd(12,26,9) ,sma") == ["rsi(14)", "macd(12,26,9)", "sma"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope(3)", "Unknown feature 'nope'; choose from:"),
        ("rsi(1)", "at least 2"),
        ("rsi(14.5)", "whole number"),
        ("rsi(14, 3)", "at most 1 parameter"),
        ("rsi(period=3)", "no parameter 'period'"),
        ("rsi('a')", "must be a number"),
        ("macd(12,12,9)", "must differ"),
        ("rsi(14", "Cannot read"),
    ],
)
def test_bad_calls_list_the_valid_choices(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_call(text)


def test_columns_are_named_after_outputs_and_disambiguated() -> None:
    frame = random_bars(200)
    out = compute(frame, calls("sma(10),sma(20),fast=ema(5),macd"))
    added = [c for c in out.columns if c not in frame.columns]
    assert added == ["sma_10", "sma_20", "fast", "macd", "macd_signal", "macd_hist"]
    with pytest.raises(ValidationError, match="both write column"):
        compute(frame, calls("x=sma(10),x=ema(10)"))


def test_missing_input_column_is_named() -> None:
    with pytest.raises(ValidationError, match=r"obv needs column\(s\) \['volume'\]"):
        compute(random_bars(50).drop("volume"), calls("obv"))


def test_warm_up_rows_are_null_never_nan_or_zero() -> None:
    out = compute(random_bars(300), calls())
    for column in out.columns[7:]:  # after symbol, ts and OHLCV
        series = out.get_column(column)
        assert not series.is_nan().any(), column
        first = series.is_not_null().arg_max()
        assert series.head(first).null_count() == first, column
        assert series.slice(first).null_count() == 0, column


def test_symbols_never_leak_into_each_other() -> None:
    one, two = random_bars(400, seed=1, symbol="AAA"), random_bars(300, seed=2, symbol="BBB")
    mixed = pl.concat([two, one]).sample(fraction=1.0, shuffle=True, seed=3)
    together = compute(mixed, calls())
    for alone in (one, two):
        symbol = alone.item(0, "symbol")
        assert_frame_equal(together.filter(pl.col("symbol") == symbol), compute(alone, calls()))


def test_expression_with_over_equals_the_engine() -> None:
    frame = pl.concat([random_bars(300, seed=1, symbol="A"), random_bars(200, seed=2, symbol="B")])
    engine = compute(frame, calls("rsi(14),macd(12,26,9)"))
    via_expr = frame.with_columns(
        expression(parse_call("rsi(14)")).over("symbol"),
        expression(parse_call("macd(12,26,9)")).over("symbol"),
    ).unnest("macd")
    assert_frame_equal(engine, via_expr.select(engine.columns))


def test_live_updates_equal_batch_bit_for_bit() -> None:
    # 350 rows a symbol: past the longest warm-up (ffd's, 281 rows) for every feature
    frame = pl.concat(
        [random_events(350, seed=4, symbol="A"), random_events(350, seed=5, symbol="B")]
    )
    every = [parse_call(spec.name) for spec in all_specs() if not spec.forward_looking]
    batch = compute(frame, every)
    live = LiveFeatures(every)
    rows = [live.update(row["symbol"], row) for row in batch.iter_rows(named=True)]
    replayed = pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.Float64))
    expected = batch.select(replayed.columns)
    assert expected.get_column("ffd").drop_nulls().len() > 100  # the longest warm-up, past
    for column in replayed.columns:
        ours, theirs = (
            replayed.get_column(column).to_numpy(),
            expected.get_column(column).to_numpy(),
        )
        assert np.array_equal(ours, theirs, equal_nan=True), column


@settings(max_examples=deep(15), deadline=None)
@given(cut=st.integers(30, 470), bump=st.floats(0.5, 2.0))
def test_changing_data_after_t_changes_nothing_at_or_before_t(cut: int, bump: float) -> None:
    frame = random_events(500, seed=9)
    later = pl.int_range(pl.len()) > cut
    changed = frame.with_columns(
        [
            pl.when(later).then(pl.col(c) * bump).otherwise(pl.col(c)).cast(dtype).alias(c)
            for c, dtype in frame.schema.items()
            if c not in ("symbol", "ts")
        ]
    )
    every = [parse_call(spec.name) for spec in all_specs() if not spec.forward_looking]
    before = _unchanged_features().head(cut + 1)
    after = compute(changed, every).head(cut + 1)
    assert_frame_equal(before, after)


@functools.cache
def _unchanged_features() -> pl.DataFrame:
    """Every feature of the unchanged events, computed once for all the examples."""
    every = [parse_call(spec.name) for spec in all_specs() if not spec.forward_looking]
    return compute(random_events(500, seed=9), every)


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_every_kernel_writes_every_row(spec) -> None:  # type: ignore[no-untyped-def]
    frame = random_events(300, seed=11)
    inputs = tuple(frame.get_column(c).cast(pl.Float64).to_numpy() for c in spec.inputs)
    params = parse_call(spec.name).params
    out = np.full((len(spec.outputs), frame.height), 12345.678)
    spec.kernel(inputs or (np.empty(frame.height),), params, spec.new_state(params), out)
    assert not (out == 12345.678).any(), "the engine does not initialise outputs"


@settings(max_examples=deep(15), deadline=None)
@given(cuts=st.lists(st.integers(1, 599), min_size=1, max_size=6, unique=True))
def test_any_split_into_chunks_equals_one_call_bit_for_bit(cuts: list[int]) -> None:
    """Each kernel resumes from its state: chunks of any length (shorter or longer than
    its windows), run the way the engine runs a segment, give exactly the values of a
    single call."""
    frame = random_events(600, seed=13)
    bounds = [0, *sorted(cuts), frame.height]
    for spec in (s for s in all_specs() if not s.forward_looking):
        call = parse_call(spec.name)
        whole = run_call(frame, call, [(0, frame.height)])
        state = [spec.new_state(call.params)]  # carried from chunk to chunk
        pieces = np.concatenate(
            [
                run_call(frame.slice(start, end - start), call, [(0, end - start)], state)
                for start, end in itertools.pairwise(bounds)
            ],
            axis=1,
        )
        assert np.array_equal(whole, pieces, equal_nan=True), spec.name


def test_catalog_modules_are_all_listed_and_loaded_only_as_needed() -> None:
    """``lookup`` stops at the module that defines the name; an unknown name still
    lists every feature of every module."""
    assert sorted(catalog.MODULES) == sorted(m.name for m in pkgutil.iter_modules(catalog.__path__))
    script = (
        "import sys\n"
        "from cift.features.spec import lookup\n"
        "lookup('sma')\n"
        "print(sorted(m for m in sys.modules if m.startswith('cift.features.catalog.')))\n"
        "try:\n    lookup('nope')\nexcept Exception as e:\n    print('vpin' in str(e))\n"
    )
    assert fresh_python(script) == ["['cift.features.catalog.technical']", "True"]
