"""Parameter sweeps: grid and random combinations of a strategy's parameters on Dask.

A :class:`Plan` lists the combinations to try, already checked against the strategy's
typed parameters: invalid ones (``fast >= slow``) are skipped and counted, duplicates
dropped. :func:`run_sweep` loads the market data once, scatters it to every worker and
evaluates the combinations in contiguous batches (a few per worker, so task overhead
stays small and the progress bar moves). Results are ranked by one metric with ties
broken by enumeration order, so the table is the same whatever the number of workers,
and the best trial's deflated Sharpe ratio says how much of its edge the search explains.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise, product
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError as PydanticValidationError

from cift.backtest.choices import RANKABLE, Engine
from cift.backtest.overfitting import Deflation, deflated_sharpe_ratio
from cift.backtest.spec import RunSpec, load_inputs
from cift.backtest.telemetry import SWEEP_DURATION, count_trials
from cift.backtest.trials import (
    Job,
    Skipped,
    Trial,
    evaluate,
    periods_per_year_of,
)
from cift.core.cluster import Completed, cancel, scatter, using, worker_count
from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.core.tracing import span
from cift.strategy.registry import get_strategy

if TYPE_CHECKING:
    from distributed import Client, Future

Progress = Callable[[float], None]
BATCHES_PER_WORKER = 4


@dataclass(frozen=True)
class Span:
    """A range to draw from: integers inclusive of both ends, floats uniform in [low, high)."""

    low: float
    high: float
    integer: bool

    def draw(self, rng: np.random.Generator) -> int | float:
        if self.integer:
            return int(rng.integers(int(self.low), int(self.high), endpoint=True))
        return float(rng.uniform(self.low, self.high))


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _split(text: str, option: str, example: str) -> tuple[str, str]:
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise ValidationError(f"{option} {text!r} is not name=values, e.g. {option} {example}.")
    return name.strip(), rest.strip()


def parse_axis(text: str) -> tuple[str, list[Any]]:
    """``"fast=5,10,20"`` -> ``("fast", [5, 10, 20])`` (values parsed as JSON where they can be)."""
    name, rest = _split(text, "--grid", "fast=5,10,20")
    values = [_value(v.strip()) for v in rest.split(",") if v.strip()]
    if not values:
        raise ValidationError(f"--grid {text!r} lists no values, e.g. --grid fast=5,10,20.")
    return name, list(dict.fromkeys(values))


def parse_span(text: str) -> tuple[str, Span]:
    """``"fast=5:50"`` -> integers 5..50; ``"fraction=0.2:1"`` -> floats in [0.2, 1)."""
    name, rest = _split(text, "--range", "fast=5:50")
    low_text, sep, high_text = rest.partition(":")
    low, high = _value(low_text.strip()), _value(high_text.strip())
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
    if not sep or not numbers:
        raise ValidationError(f"--range {text!r} is not name=low:high, e.g. --range fast=5:50.")
    if not low < high:
        raise ValidationError(f"--range {text!r}: low must be below high.")
    return name, Span(float(low), float(high), isinstance(low, int) and isinstance(high, int))


@dataclass(frozen=True)
class Plan:
    """The valid combinations of a sweep (in enumeration order) and the skipped ones."""

    strategy: str
    axes: tuple[str, ...]
    combos: tuple[dict[str, Any], ...]
    skipped: tuple[Skipped, ...]
    duplicates: int


def grid_plan(
    strategy: str, axes: Mapping[str, Sequence[Any]], fixed: Mapping[str, Any] | None = None
) -> Plan:
    """Every combination of the ``axes`` values (the last axis varies fastest)."""
    if not axes:
        raise ValidationError("Name at least one parameter to sweep, e.g. --grid fast=5,10,20.")
    names = list(axes)
    combos = (dict(zip(names, values, strict=True)) for values in product(*axes.values()))
    return _plan(strategy, names, combos, fixed or {})


def random_plan(
    strategy: str,
    spans: Mapping[str, Span | Sequence[Any]],
    draws: int,
    seed: int = 0,
    fixed: Mapping[str, Any] | None = None,
) -> Plan:
    """``draws`` combinations sampled from ``spans`` (a :class:`Span` or a list of choices)
    with a seeded generator: the same seed gives the same combinations."""
    if draws < 1:
        raise ValidationError(f"--random needs a positive number of draws, got {draws}.")
    if not spans:
        raise ValidationError("Name what to sample, e.g. --random 50 --range fast=5:50.")
    rng = np.random.default_rng(seed)

    def pick(choice: Span | Sequence[Any]) -> Any:
        return (
            choice.draw(rng) if isinstance(choice, Span) else choice[int(rng.integers(len(choice)))]
        )

    combos = [{name: pick(choice) for name, choice in spans.items()} for _ in range(draws)]
    return _plan(strategy, list(spans), combos, fixed or {})


def plan_from_options(
    strategy: str,
    grid: Sequence[str] | None,
    ranges: Sequence[str] | None,
    draws: int | None,
    seed: int = 0,
    fixed: Mapping[str, Any] | None = None,
) -> Plan:
    """The plan of ``--grid``/``--range`` texts: the grid, or ``draws`` random combinations
    (a ``--grid`` axis is then drawn from its values)."""
    axes = dict(parse_axis(text) for text in grid or [])
    spans = dict(parse_span(text) for text in ranges or [])
    if draws is None:
        if spans:
            raise ValidationError("--range draws values for --random N; add --random 50.")
        return grid_plan(strategy, axes, fixed)
    return random_plan(strategy, {**axes, **spans}, draws, seed, fixed)


def _plan(
    strategy: str, names: list[str], combos: Iterable[dict[str, Any]], fixed: Mapping[str, Any]
) -> Plan:
    params_model = get_strategy(strategy).Params
    known = params_model.model_fields
    unknown = sorted({*names, *fixed} - set(known))
    if unknown:
        raise ValidationError(
            f"{strategy} has no parameter {', '.join(unknown)}; its parameters: "
            f"{', '.join(known) or 'none'}."
        )
    given = {*names, *fixed}
    valid: dict[str, dict[str, Any]] = {}
    skipped: list[Skipped] = []
    duplicates = 0
    for combo in combos:
        try:
            typed = params_model.model_validate({**fixed, **combo})
        except PydanticValidationError as exc:
            reason = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            skipped.append(Skipped(-1, combo, reason))
            continue
        params = typed.model_dump(include=given)
        key = json.dumps(typed.model_dump(mode="json"), sort_keys=True)
        if key in valid:
            duplicates += 1
        else:
            valid[key] = params
    if not valid:
        first = f": {skipped[0].reason}" if skipped else ""
        raise ValidationError(
            f"None of the {len(skipped)} combinations is valid for {strategy}{first}."
        )
    return Plan(strategy, tuple(names), tuple(valid.values()), tuple(skipped), duplicates)


def check_metric(name: str) -> None:
    if name not in RANKABLE:
        raise ValidationError(f"Cannot rank by {name!r}; choose from {', '.join(RANKABLE)}.")


def rank(trials: Iterable[Trial], by: str) -> list[Trial]:
    """Best first by metric ``by`` (higher is better); NaN last; ties by enumeration order."""
    check_metric(by)

    def key(trial: Trial) -> tuple[bool, float, int]:
        value = trial.metric(by)
        finite = math.isfinite(value)
        return (not finite, -value if finite else 0.0, trial.index)

    return sorted(trials, key=key)


def deflate(trials: Sequence[Trial], best: Trial) -> Deflation | None:
    """The DSR of ``best`` among ``trials`` (None when its Sharpe ratio is undefined)."""
    score = best.score
    if not math.isfinite(score.period_sharpe) or score.periods < 2:
        return None
    return deflated_sharpe_ratio(
        score.period_sharpe,
        [t.score.period_sharpe for t in trials],
        score.periods,
        score.skewness,
        score.kurtosis,
    )


@dataclass(frozen=True)
class SweepResult:
    """Ranked trials of a sweep, what was skipped, and the best trial's DSR."""

    strategy: str
    rank_by: str
    axes: tuple[str, ...]
    trials: tuple[Trial, ...]
    skipped: tuple[Skipped, ...]
    duplicates: int
    deflation: Deflation | None

    @property
    def best(self) -> Trial:
        return self.trials[0]

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-ready: the ranked trials (the first ``top``), counts and the DSR."""
        return {
            "strategy": self.strategy,
            "rank_by": self.rank_by,
            "axes": list(self.axes),
            "evaluated": len(self.trials),
            "skipped": len(self.skipped),
            "duplicates": self.duplicates,
            "best": self.best.to_dict(),
            "deflated_sharpe": self.deflation.to_dict() if self.deflation else None,
            "trials": [t.to_dict() for t in self.trials[:top]],
            "skipped_combinations": [s.to_dict() for s in self.skipped],
        }


def check_spec(spec: RunSpec, plan: Plan) -> None:
    """Check the base spec (data, range, settings) with the plan's first combination."""
    if spec.strategy != plan.strategy:
        raise ValidationError(f"The plan is for {plan.strategy}, the spec for {spec.strategy}.")
    spec.model_copy(update={"params": plan.combos[0]}).validate_all()


def run_sweep(
    spec: RunSpec,
    plan: Plan,
    settings: Settings,
    *,
    rank_by: str = "sharpe",
    engine: Engine = "auto",
    client: Client | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Evaluate every combination of ``plan`` on the data and settings of ``spec``."""
    check_metric(rank_by)
    check_spec(spec, plan)
    inputs = load_inputs(spec, settings)
    job = Job(spec.strategy, spec.backtest_config().describe(), periods_per_year_of(inputs), engine)
    job.check(inputs, plan.combos)
    items = list(enumerate(plan.combos))
    attributes = {"cift.strategy": plan.strategy, "cift.trials": len(items)}
    with span("sweep", attributes), SWEEP_DURATION.time(), using(settings, client, workers) as dask:
        data = scatter(dask, inputs)
        futures = submit(dask, data, job, items)
        outcomes = collect(dask, futures, len(items), progress)
    trials = [o for o in outcomes if isinstance(o, Trial)]
    failed = [o for o in outcomes if isinstance(o, Skipped)]
    count_trials(len(trials), len(plan.skipped) + len(failed))
    if not trials:
        raise ValidationError(f"Every combination failed; the first: {failed[0].reason}")
    ranked = rank(trials, rank_by)
    return SweepResult(
        strategy=plan.strategy,
        rank_by=rank_by,
        axes=plan.axes,
        trials=tuple(ranked),
        skipped=plan.skipped + tuple(failed),
        duplicates=plan.duplicates,
        deflation=deflate(ranked, ranked[0]),
    )


def submit(
    client: Client, data: Future[Any], job: Job, items: Sequence[tuple[int, dict[str, Any]]]
) -> dict[Future[Any], int]:
    """Batches of ``items`` as tasks on the scattered ``data``; each future maps to its
    batch size."""
    count = min(len(items), worker_count(client) * BATCHES_PER_WORKER)
    bounds = np.linspace(0, len(items), count + 1).round().astype(int)
    return {
        client.submit(evaluate, data, job, items[a:b], pure=False): int(b - a)
        for a, b in pairwise(bounds.tolist())
        if b > a
    }


def collect(
    client: Client, futures: Mapping[Future[Any], int], total: int, progress: Progress | None
) -> list[Trial | Skipped]:
    """Results of ``futures`` in enumeration order, reporting progress as they arrive;
    the rest are cancelled if one fails or the wait is interrupted."""
    done = 0
    results: list[Trial | Skipped] = []
    try:
        for future in Completed(futures):
            results.extend(future.result())
            done += futures[future]
            if progress is not None:
                progress(done / max(total, 1))
    except BaseException:
        cancel(client, futures)
        raise
    return sorted(results, key=lambda outcome: outcome.index)
