"""``cift features compile``: every registered feature runs once over a sample that has
every input a feature reads, so each kernel is compiled and cached before first use."""

from __future__ import annotations

from cift.features.compiling import compile_features, sample
from cift.features.spec import FeatureSpec, all_specs
from tests.cli.running import cift


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
