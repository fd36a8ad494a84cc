"""Parameter sweeps: combinations, trial scores checked against the engine and the
metrics module, real Dask clusters, determinism across worker counts, the CLI."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from distributed import Client, LocalCluster
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from scipy import stats
from typer.testing import CliRunner

from cift.backtest import runs
from cift.backtest.metrics import compute_metrics, simple_returns
from cift.backtest.spec import RunSpec, load_inputs
from cift.backtest.sweep import (
    Span,
    grid_plan,
    parse_axis,
    parse_span,
    random_plan,
    rank,
    run_sweep,
)
from cift.backtest.sweep_records import recent_sweeps, sweep_record
from cift.backtest.trials import Job, Score, Trial, evaluate, periods_per_year_of
from cift.cli.app import app
from cift.core import cluster as cluster_module
from cift.core.cluster import dask_client
from cift.core.errors import NotFoundError, UpstreamError, ValidationError
from cift.core.settings import Environment, Settings, load_settings
from cift.db.engine import create_db_engine, session_factory
from cift.db.repositories.users import local_user_id
from tests.samples import NVDA
from tests.serving import free_port

COSTS = {"commission": {"model": "bps", "bps": 10.0, "minimum": 0.0}}
GRID = {"fast": [5, 10, 20, 60], "slow": [50, 100, 200]}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(env=Environment.TEST, home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[Client]:
    """One local cluster of two worker processes for the module."""
    with dask_client(settings, workers=2) as opened:
        yield opened


def nvda_spec(**config: object) -> RunSpec:
    return RunSpec(strategy="sma_cross", data_file=str(NVDA), config={**COSTS, **config})


def test_axes_and_ranges_parse_to_typed_values() -> None:
    assert parse_axis("fast=5, 10,20,10") == ("fast", [5, 10, 20])
    assert parse_axis("allow_short=true,false") == ("allow_short", [True, False])
    assert parse_span("fast=5:50") == ("fast", Span(5.0, 50.0, True))
    assert parse_span("fraction=0.25:1") == ("fraction", Span(0.25, 1.0, False))
    for bad in ("fast", "fast=", "=5,10"):
        with pytest.raises(ValidationError, match="--grid"):
            parse_axis(bad)
    for bad in ("fast=5", "fast=a:b", "fast=50:5", "fast=true:3"):
        with pytest.raises(ValidationError, match="--range"):
            parse_span(bad)


def test_a_grid_enumerates_in_order_and_counts_invalid_combinations() -> None:
    plan = grid_plan("sma_cross", {"fast": [5, 10, 60], "slow": [50, 100]}, {"fraction": 1})
    assert plan.combos == (
        {"fast": 5, "slow": 50, "fraction": 1.0},
        {"fast": 5, "slow": 100, "fraction": 1.0},
        {"fast": 10, "slow": 50, "fraction": 1.0},
        {"fast": 10, "slow": 100, "fraction": 1.0},
        {"fast": 60, "slow": 100, "fraction": 1.0},
    )
    (skipped,) = plan.skipped
    assert skipped.params == {"fast": 60, "slow": 50}
    assert skipped.reason == "fast (60) must be shorter than slow (50)"
    assert plan.axes == ("fast", "slow")


def test_bad_plans_say_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="no parameter fsat; its parameters: fast, slow"):
        grid_plan("sma_cross", {"fsat": [5]})
    with pytest.raises(ValidationError, match="None of the 2 combinations is valid"):
        grid_plan("sma_cross", {"fast": [50, 60], "slow": [20]})
    with pytest.raises(ValidationError, match="at least one parameter"):
        grid_plan("sma_cross", {})
    with pytest.raises(ValidationError, match="positive number"):
        random_plan("sma_cross", {"fast": Span(1, 5, True)}, 0)
    with pytest.raises(ValidationError, match="Cannot rank by 'profit'"):
        rank([], "profit")


def test_random_draws_are_seeded_bounded_and_typed() -> None:
    spans = {"fast": Span(5, 50, True), "slow": Span(60, 250, True), "fraction": [0.5, 1.0]}
    plan = random_plan("sma_cross", spans, 40, seed=7)
    assert plan == random_plan("sma_cross", spans, 40, seed=7)
    assert plan.combos != random_plan("sma_cross", spans, 40, seed=8).combos
    assert len(plan.combos) + plan.duplicates + len(plan.skipped) == 40
    for combo in plan.combos:
        assert isinstance(combo["fast"], int)
        assert 5 <= combo["fast"] <= 50
        assert isinstance(combo["slow"], int)
        assert 60 <= combo["slow"] <= 250
        assert combo["fraction"] in {0.5, 1.0}
    floats = random_plan("rsi_reversion", {"oversold": Span(10.0, 40.0, False)}, 20, seed=1)
    assert all(10.0 <= c["oversold"] < 40.0 for c in floats.combos)
    assert len({c["oversold"] for c in floats.combos}) == 20


def test_repeated_draws_are_dropped_and_counted() -> None:
    plan = random_plan("sma_cross", {"fast": Span(3, 4, True), "slow": [10, 20]}, 30, seed=0)
    assert {tuple(c.values()) for c in plan.combos} == {(3, 10), (3, 20), (4, 10), (4, 20)}
    assert plan.duplicates == 26


def trial(index: int, sharpe: float) -> Trial:
    nan = math.nan
    score = Score(sharpe, nan, nan, 0.0, 0.0, 0.0, 0.0, 0, 10, 252.0, nan, nan, nan)
    return Trial(index, {"i": index}, "event", score)


def test_ranking_puts_undefined_last_and_breaks_ties_by_order() -> None:
    ranked = rank([trial(0, math.nan), trial(1, 0.5), trial(2, 1.5), trial(3, 0.5)], "sharpe")
    assert [t.index for t in ranked] == [2, 1, 3, 0]


def test_vectorised_and_event_trials_score_the_same() -> None:
    spec = nvda_spec()
    inputs = load_inputs(spec, load_settings())
    plan = grid_plan("sma_cross", GRID)
    items = list(enumerate(plan.combos))
    job = Job("sma_cross", spec.backtest_config().describe(), periods_per_year_of(inputs))
    fast = evaluate(inputs, job, items)
    slow = evaluate(inputs, Job(job.strategy, job.config, job.ppy, "event"), items)
    assert {t.engine for t in fast} == {"vector"}
    assert {t.engine for t in slow} == {"event"}
    for a, b in zip(fast, slow, strict=True):
        assert isinstance(a, Trial)
        assert isinstance(b, Trial)
        assert a.params == b.params
        for name, value in a.score.to_dict().items():
            assert value == pytest.approx(getattr(b.score, name), rel=1e-9, nan_ok=True)


def test_a_trial_scores_like_the_recorded_metrics_of_the_same_run() -> None:
    params = {"fast": 20, "slow": 100}
    spec = nvda_spec().model_copy(update={"params": params})
    inputs = load_inputs(spec, load_settings())
    expected = compute_metrics(runs.simulate(spec, inputs))
    job = Job("sma_cross", spec.backtest_config().describe(), periods_per_year_of(inputs))
    for engine in ("vector", "event"):
        (got,) = evaluate(inputs, Job(job.strategy, job.config, job.ppy, engine), [(0, params)])
        assert isinstance(got, Trial)
        for name in ("sharpe", "sortino", "calmar", "total_return", "annual_return"):
            assert got.metric(name) == pytest.approx(getattr(expected, name), rel=1e-9)
        assert got.score.max_drawdown == pytest.approx(expected.max_drawdown, rel=1e-9)
        assert got.score.annual_volatility == pytest.approx(expected.annual_volatility)
        assert got.score.trades == expected.trades
        assert got.score.periods == expected.periods


def test_auto_takes_the_engine_where_the_vectorised_mode_would_differ() -> None:
    spec = RunSpec(strategy="rsi_reversion", data_file=str(NVDA))
    inputs = load_inputs(spec, load_settings())
    job = Job("sma_cross", spec.backtest_config().describe(), 252.0)
    shorting = [(0, {"fast": 10, "slow": 50, "allow_short": True}), (1, {"fast": 10, "slow": 50})]
    assert [t.engine for t in evaluate(inputs, job, shorting)] == ["event", "vector"]
    rsi = Job("rsi_reversion", job.config, 252.0)
    assert [t.engine for t in evaluate(inputs, rsi, [(0, {"period": 14})])] == ["event"]
    with pytest.raises(ValidationError, match="long-only targets"):
        Job("sma_cross", job.config, 252.0, "vector").check(inputs, [shorting[0][1]])
    with pytest.raises(ValidationError, match="no vectorised form"):
        Job("rsi_reversion", job.config, 252.0, "vector").check(inputs, [{"period": 14}])


def independent_deflation(spec: RunSpec, combos: list[dict[str, int]], best: dict[str, int]):
    """The DSR of ``best`` recomputed from engine runs with numpy and scipy."""
    settings = load_settings()
    inputs = load_inputs(spec, settings)
    returns = {}
    for params in combos:
        run = runs.simulate(spec.model_copy(update={"params": params}), inputs)
        equity = run.equity.get_column("equity").to_numpy()
        returns[json.dumps(params)] = simple_returns(equity, run.config.initial_cash)
    srs = np.array([r.mean() / r.std(ddof=1) for r in returns.values()])
    chosen = returns[json.dumps(best)]
    n, gamma = len(srs), np.euler_gamma
    sr0 = math.sqrt(np.var(srs, ddof=1)) * (
        (1 - gamma) * stats.norm.ppf(1 - 1 / n) + gamma * stats.norm.ppf(1 - 1 / (n * math.e))
    )
    sr = chosen.mean() / chosen.std(ddof=1)
    skew, kurt = stats.skew(chosen), stats.kurtosis(chosen, fisher=False)
    z = (sr - sr0) * math.sqrt(chosen.size - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    return sr0, float(stats.norm.cdf(z))


def test_a_sweep_on_a_local_dask_cluster(client: Client, settings: Settings) -> None:
    plan = grid_plan("sma_cross", GRID)
    seen: list[float] = []
    result = run_sweep(nvda_spec(), plan, settings, client=client, progress=seen.append)

    assert len(result.trials) == 11
    assert [s.params for s in result.skipped] == [{"fast": 60, "slow": 50}]
    sharpes = [t.score.sharpe for t in result.trials]
    assert sharpes == sorted(sharpes, reverse=True)
    assert sorted(t.index for t in result.trials) == list(range(11))
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    assert len(seen) > 1

    deflation = result.deflation
    assert deflation is not None
    sr0, dsr = independent_deflation(nvda_spec(), list(plan.combos), result.best.params)
    assert deflation.trials == 11
    assert deflation.benchmark == pytest.approx(sr0, rel=1e-9)
    assert deflation.deflated == pytest.approx(dsr, rel=1e-9)

    data = result.to_dict(top=3)
    assert len(data["trials"]) == 3
    assert data["evaluated"] == 11
    assert data["skipped"] == 1
    assert data["deflated_sharpe"]["deflated"] == deflation.deflated


def test_one_worker_and_two_workers_rank_identically(client: Client, settings: Settings) -> None:
    spans = {"fast": Span(3, 40, True), "slow": Span(20, 220, True)}
    plan = random_plan("sma_cross", spans, 30, seed=11)
    spec = nvda_spec()
    two = run_sweep(spec, plan, settings, client=client)
    single = LocalCluster(n_workers=1, processes=False, dashboard_address=":0")
    with single, Client(single) as one_client:
        one = run_sweep(spec, plan, settings, client=one_client)
    assert json.dumps(one.to_dict()) == json.dumps(two.to_dict())
    assert len(plan.skipped) > 0


def cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output


def test_the_sweep_command_on_the_configured_scheduler(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIFT_DASK_SCHEDULER", client.scheduler.address)
    args = ["backtest", "sweep", "sma_cross", "--data", str(NVDA), "--commission-bps", "10"]
    grid = ["--grid", "fast=5,10,60", "--grid", "slow=50,100"]
    counted = {o: trials_counted(o) for o in ("done", "skipped")}
    port = free_port()
    data = json.loads(
        cli(*args, *grid, "--json", "--rank", "total_return", "--metrics-port", str(port))
    )
    assert data["evaluated"] == 5
    assert data["skipped"] == 1
    assert served_trials(port) == {"done": counted["done"] + 5, "skipped": counted["skipped"] + 1}
    returns = [t["total_return"] for t in data["trials"]]
    assert returns == sorted(returns, reverse=True)
    assert data["skipped_combinations"][0]["params"] == {"fast": 60, "slow": 50}
    assert data["deflated_sharpe"]["trials"] == 5
    kept = recorded(uuid.UUID(data["id"]))
    assert [t["params"] for t in kept["trials"]] == [t["params"] for t in data["trials"]]
    assert (kept["axes"], kept["rank_by"]) == (["fast", "slow"], "total_return")

    text = cli(*args, *grid)
    assert "ranked by sharpe" in text
    assert "Deflated Sharpe ratio of the best" in text
    assert "skipped 1 (fast (60) must be shorter than slow (50)" in text

    drawn = ["--random", "8", "--range", "fast=5:30", "--range", "slow=40:120", "--seed", "3"]
    data = json.loads(cli(*args, *drawn, "--json"))
    assert data["evaluated"] + data["skipped"] + data["duplicates"] == 8

    assert "--range draws values for --random" in cli(*args, "--range", "fast=5:30", code=2)
    assert "Cannot rank by" in cli(*args, *grid, "--rank", "luck", code=2)


def trials_counted(outcome: str) -> float:
    """This process's ``cift_sweep_trials_total`` of ``outcome`` so far."""
    return REGISTRY.get_sample_value("cift_sweep_trials_total", {"outcome": outcome}) or 0.0


def served_trials(port: int) -> dict[str, float]:
    """``cift_sweep_trials_total`` by outcome as a command's ``--metrics-port`` serves it
    (its server is a thread of this process, still up after the command returns)."""
    served = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    (trials,) = [f for f in text_string_to_metric_families(served) if f.name == "cift_sweep_trials"]
    return {s.labels["outcome"]: s.value for s in trials.samples if s.name.endswith("_total")}


def recorded(sweep_id: uuid.UUID) -> dict[str, Any]:
    """A sweep the command line recorded (its owner: the local user), listed and whole."""
    settings = load_settings()
    engine = create_db_engine(settings)
    with session_factory(engine)() as session:
        local = local_user_id(session)
    engine.dispose()
    assert str(sweep_id) in [s["id"] for s in recent_sweeps(settings, local, 10)]
    with pytest.raises(NotFoundError):
        sweep_record(settings, sweep_id, uuid.uuid4())
    return sweep_record(settings, sweep_id, local)


def test_an_unreachable_scheduler_is_an_upstream_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", "1s")
    settings = load_settings(dask_scheduler="tcp://127.0.0.1:9")
    with pytest.raises(UpstreamError, match=r"Cannot reach the Dask scheduler at tcp://127"):
        run_sweep(nvda_spec(), grid_plan("sma_cross", {"fast": [5]}), settings)
