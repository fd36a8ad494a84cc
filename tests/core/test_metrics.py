"""One naming scheme for every stage's metrics, one registry per process, the values of
spawned job workers added to the parent's ``/metrics``, and the generated reference."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from cift.backtest.telemetry import BARS
from cift.cli.metrics_docs import metrics_table, with_metrics_table
from cift.core import metrics
from cift.core.jobs import WorkerPool
from cift.core.metrics import LABELS, MULTIPROC_ENV, STAGES, catalogue

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^cift_(?P<stage>[a-z]+)_[a-z_]+$")


def _registered() -> list[tuple[str, str, str, tuple[str, ...]]]:
    metrics_table()  # imports every stage module
    return catalogue()


def test_every_stage_metric_follows_the_scheme_with_bounded_labels() -> None:
    found = _registered()
    assert len(found) >= 40
    for name, kind, doc, labels in found:
        match = NAME.match(name)
        assert match is not None, name
        assert match["stage"] in STAGES, name
        assert set(labels) <= LABELS, (name, labels)
        assert doc.endswith("."), name
        assert (kind == "counter") == name.endswith("_total"), name
    stages = {NAME.match(name)["stage"] for name, *_ in found}  # type: ignore[index]
    assert stages == set(STAGES), set(STAGES) - stages  # every stage exports something


@pytest.mark.parametrize(
    ("stage", "what", "unit", "labels", "says"),
    [
        ("warehouse", "rows", "rows", (), "Unknown metrics stage"),
        ("store", "written", "furlongs", (), "Unknown metrics unit"),
        ("store", "", "", (), "Unknown metrics unit"),
        ("store", "written", "rows", ("order_id",), "Unbounded or unknown metric labels"),
    ],
)
def test_a_name_or_label_outside_the_scheme_is_refused(
    stage: str, what: str, unit: str, labels: tuple[str, ...], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        metrics.counter(stage, what, unit, "Refused.", labels)


def test_the_operations_page_lists_every_metric_as_the_registry_has_it() -> None:
    page = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert page == with_metrics_table(page), "run: cift config docs"
    for name, *_ in _registered():
        assert f"`{name}`" in page


def _replay(bars: int) -> None:
    """In a job worker: a backtest's count of bars replayed."""
    BARS.inc(bars)


def _exposed(name: str, labels: dict[str, str] | None = None) -> float:
    text = metrics.exposition()[0].decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == (labels or {}):
                return float(sample.value)
    return 0.0


def test_a_job_workers_metrics_reach_the_parents_exposition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"")  # a stale file of an earlier server
    metrics.share_with_workers(folder)
    assert not list(folder.glob("*.db"))
    monkeypatch.setenv(MULTIPROC_ENV, str(folder))  # undone after the test
    assert not metrics.writes_to_files()  # this process keeps its own values in memory
    own = REGISTRY.get_sample_value("cift_backtest_bars_total") or 0.0
    done = {"kind": "backtest", "outcome": "done"}
    finished = _exposed("cift_jobs_finished_total", done)

    pool = WorkerPool(1, kind="backtest")
    job = uuid.uuid4()
    try:
        pool.submit(job, _replay, 1_234)
        pool.wait(job, timeout=120)
    finally:
        pool.shutdown(lambda *_: None)
    BARS.inc(10)

    assert list(folder.glob("*.db")), "the worker wrote its values to the shared folder"
    assert _exposed("cift_backtest_bars_total") == own + 10 + 1_234
    assert _exposed("cift_jobs_finished_total", done) == finished + 1
    text = metrics.exposition()[0].decode()
    assert text.count("# TYPE cift_backtest_bars_total counter") == 1  # one family, summed
