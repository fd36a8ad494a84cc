"""Walk-forward optimisation: choose parameters in-sample, trade them out-of-sample.

The data range is cut into windows, each an in-sample (train) span followed by an
out-of-sample (test) span; lengths are bar counts (``750``) or calendar durations
(``3y``, ``6mo``, ``90d``). Rolling windows slide the whole window by the test length;
anchored ones keep the first bar and grow. On each window the sweep runs on bars before
the test span only and is scored on the train span; its best parameters then run
through the test span (warmed up on the bars before it) and only the test span's
returns are kept. The test spans follow one another, so their returns chain into one
out-of-sample equity curve: the track record the procedure would have produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from cift.backtest.choices import Engine
from cift.backtest.spec import RunSpec, load_inputs
from cift.backtest.sweep import Plan, Progress, check_metric, check_spec, rank, submit
from cift.backtest.telemetry import count_trials
from cift.backtest.trials import (
    Job,
    Score,
    Skipped,
    Trial,
    evaluate,
    periods_per_year_of,
    score,
)
from cift.backtest.trials import timeline as event_times
from cift.core.cluster import Completed, cancel, scatter, using
from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.core.windows import Length, Window, windows

if TYPE_CHECKING:
    from distributed import Client, Future


@dataclass(frozen=True)
class WindowResult:
    """One window: the parameters chosen in-sample and how they did out-of-sample."""

    window: Window
    chosen: Trial
    test: Trial
    evaluated: int
    skipped: int

    def to_dict(self) -> dict[str, Any]:
        return self.window.to_dict() | {
            "params": self.chosen.params,
            "evaluated": self.evaluated,
            "skipped": self.skipped,
            "train": self.chosen.score.to_dict(),
            "test": self.test.score.to_dict(),
        }


@dataclass(frozen=True)
class WalkForwardResult:
    """Every window's choice and the stitched out-of-sample curve with its metrics."""

    strategy: str
    rank_by: str
    anchored: bool
    axes: tuple[str, ...]
    windows: tuple[WindowResult, ...]
    equity: pl.DataFrame
    """``ts`` (bar open time) and ``equity`` of the chained test spans."""
    metrics: Score

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "rank_by": self.rank_by,
            "anchored": self.anchored,
            "axes": list(self.axes),
            "out_of_sample": self.metrics.to_dict(),
            "windows": [w.to_dict() for w in self.windows],
        }


def walk_forward(
    spec: RunSpec,
    plan: Plan,
    settings: Settings,
    *,
    train: Length,
    test: Length,
    anchored: bool = False,
    rank_by: str = "sharpe",
    engine: Engine = "auto",
    client: Client | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> WalkForwardResult:
    """Optimise ``plan`` on each window's train span and stitch the test spans."""
    check_metric(rank_by)
    check_spec(spec, plan)
    inputs = load_inputs(spec, settings)
    cuts = windows(event_times(inputs), train, test, anchored)
    base = Job(
        spec.strategy, spec.backtest_config().describe(), periods_per_year_of(inputs), engine
    )
    base.check(inputs, plan.combos)
    items = list(enumerate(plan.combos))
    with using(settings, client, workers) as dask:
        data = scatter(dask, inputs)
        sweeps = [
            submit(dask, data, _job(base, w.train_start, w.train_end, False), items) for w in cuts
        ]
        results = _run(dask, data, base, cuts, sweeps, rank_by, progress)
    refused = len(plan.skipped) * len(results)  # invalid in every window's sweep
    count_trials(sum(r.evaluated for r in results), refused + sum(r.skipped for r in results))
    return _stitch(spec, plan, rank_by, anchored, base, results)


def _job(base: Job, start: int, end: int, curves: bool) -> Job:
    return Job(base.strategy, base.config, base.ppy, base.engine, start, end, curves)


def _run(
    client: Client,
    data: Future[Any],
    base: Job,
    cuts: Sequence[Window],
    sweeps: Sequence[dict[Future[Any], int]],
    rank_by: str,
    progress: Progress | None,
) -> list[WindowResult]:
    """Wait for the sweeps; as each window's sweep completes, test its best parameters."""
    owner = {future: w for w, batch in enumerate(sweeps) for future in batch}
    outcomes: list[list[Trial | Skipped]] = [[] for _ in cuts]
    waiting = [len(batch) for batch in sweeps]
    chosen: dict[int, Trial] = {}
    tested: dict[int, Trial] = {}
    total = sum(sum(batch.values()) for batch in sweeps) + len(cuts)
    done = 0
    queue = Completed(owner)
    try:
        for future in queue:
            w = owner[future]
            if w in chosen:
                tested[w] = future.result()[0]
                done += 1
            else:
                outcomes[w].extend(future.result())
                done += sweeps[w][future]
                waiting[w] -= 1
                if not waiting[w]:
                    chosen[w] = _choose(outcomes[w], rank_by, cuts[w])
                    job = _job(base, cuts[w].train_end, cuts[w].test_end, True)
                    item = [(chosen[w].index, chosen[w].params)]
                    testing = client.submit(_test, data, job, item, pure=False)
                    owner[testing] = w
                    queue.add(testing)
            if progress is not None:
                progress(done / total)
    except BaseException:
        cancel(client, owner)
        raise
    return [
        WindowResult(
            window=cut,
            chosen=chosen[w],
            test=tested[w],
            evaluated=sum(isinstance(o, Trial) for o in outcomes[w]),
            skipped=sum(isinstance(o, Skipped) for o in outcomes[w]),
        )
        for w, cut in enumerate(cuts)
    ]


def _test(data: Any, job: Job, item: list[tuple[int, dict[str, Any]]]) -> list[Trial]:
    """Run the chosen parameters through a test span (a Dask task)."""
    outcome = evaluate(data, job, item)[0]
    if isinstance(outcome, Skipped):
        raise ValidationError(f"The chosen parameters {outcome.params} failed: {outcome.reason}")
    return [outcome]


def _choose(outcomes: Sequence[Trial | Skipped], rank_by: str, window: Window) -> Trial:
    trials = [o for o in outcomes if isinstance(o, Trial)]
    if not trials:
        first = next(o for o in outcomes if isinstance(o, Skipped))
        raise ValidationError(
            f"Every combination failed on window {window.index}; the first: {first.reason}"
        )
    return rank(trials, rank_by)[0]


def _stitch(
    spec: RunSpec,
    plan: Plan,
    rank_by: str,
    anchored: bool,
    base: Job,
    results: list[WindowResult],
) -> WalkForwardResult:
    curves = [r.test.returns for r in results if r.test.returns is not None]
    returns = pl.concat(curves).sort("ts")
    values = returns.get_column("return").to_numpy()
    initial = float(spec.backtest_config().initial_cash)
    equity = returns.select("ts", (initial * (1.0 + pl.col("return")).cum_prod()).alias("equity"))
    trades = sum(r.test.score.trades for r in results)
    return WalkForwardResult(
        strategy=spec.strategy,
        rank_by=rank_by,
        anchored=anchored,
        axes=plan.axes,
        windows=tuple(results),
        equity=equity,
        metrics=score(values, base.ppy, trades),
    )
