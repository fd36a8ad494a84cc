"""``cift features compile``: every registered feature runs once over a sample that has
every input a feature reads, so each kernel is compiled and cached before first use."""

from __future__ import annotations

from cift.features.compiling import compile_features, sample
from cift.features.spec import FeatureSpec, all_specs
from tests.cli.running import cift
from tests.fresh import fresh_python


def test_the_sample_has_every_input_a_feature_reads() -> None:
    columns = set(sample().columns)
    assert {spec.name for spec in all_specs() if not set(spec.inputs) <= columns} == set()


def test_every_registered_feature_runs_once() -> None:
    ran: list[tuple[FeatureSpec, float]] = []
    assert compile_features(lambda spec, done: ran.append((spec, done))) == len(all_specs())
    assert [spec.name for spec, _ in ran] == [spec.name for spec in all_specs()]
    assert [done for _, done in ran] == [n / len(ran) for n in range(1, len(ran) + 1)]


def test_the_command_says_how_many_kernels_are_ready() -> None:
    out = cift("features", "compile")
    assert f"{len(all_specs())} feature kernels ready" in out


def test_each_kernel_is_compiled_once_for_every_path() -> None:
    """numba compiles a kernel again for each kind of array it is given (read-only or
    not, an int or a float scalar): batch and live features, inputs Polars lends or
    copies (a column with nulls), bars of every kind and labels all share one machine
    code per kernel. Run in a new interpreter: the signatures are per process."""
    script = """
import numpy as np, polars as pl
from cift.features import bars, labels
from cift.features.compiling import compile_features, sample
from cift.features.engine import compute
from cift.features.kernels import sampling
from cift.features.spec import all_specs, bind
SAMPLING = "standard_bar_ids", "imbalance_bar_ids", "trade_signs", "cusum_events", "barrier_touches"
compile_features()
rows = sample()
gappy = rows.with_columns(
    pl.when(pl.int_range(pl.len()) % 7 == 0).then(None).otherwise(pl.col(c)).alias(c)
    for c in ("open", "high", "low", "close", "volume", "price", "size", "side")
)
for spec in all_specs():
    compute(gappy, [bind(spec, [], {})])
trades = rows.select("symbol", "ts", "price", "size", "side").with_columns(
    pl.col("ts").cast(pl.Datetime("ns", "UTC")), pl.col("side").cast(pl.Int8)
)
expected = {"expected_ticks": 5, "expected_imbalance": 0.5}
for kind in ("tick", "volume", "dollar"):
    bars.standard_bars(trades, kind, 5).collect()
    bars.imbalance_bars(trades, kind, **expected).collect()
bars.imbalance_bars(trades, "tick", signs="side", **expected).collect()
bars.trade_signs(trades).collect()
bars.trade_signs(trades.with_columns(side=pl.lit(None, pl.Int8)), signs="side").collect()
daily = rows.with_columns(pl.col("close").alias("target") / 1e4)
for threshold in (0.001, "target"):
    events = labels.cusum_events(daily, threshold)
    for pt, sl in ((1, 2), (1.5, 0.5)):
        labels.triple_barrier(daily, events, target="target", horizon=5, pt=pt, sl=sl).collect()
kernels = {spec.name: spec.kernel for spec in all_specs()}
kernels |= {n: getattr(sampling, n) for n in SAMPLING}
print(sorted(n for n, k in kernels.items() if len(k.signatures) != 1))
"""
    assert fresh_python(script) == ["[]"]  # none left uncompiled (0) or compiled twice
