"""Walk-forward: windows, choices made on in-sample data only, and the stitched
out-of-sample curve checked against one continuous engine run."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from distributed import Client
from typer.testing import CliRunner

from cift.backtest import runs
from cift.backtest.spec import RunSpec, load_inputs
from cift.backtest.sweep import grid_plan, run_sweep
from cift.backtest.walkforward import walk_forward
from cift.cli.app import app
from cift.core.cluster import dask_client
from cift.core.errors import ValidationError
from cift.core.settings import Environment, Settings, load_settings
from cift.core.windows import Window, parse_length, windows
from tests.backtest.test_sweep import served_trials, trials_counted
from tests.samples import NVDA
from tests.serving import free_port

COSTS = {"commission": {"model": "bps", "bps": 10.0, "minimum": 0.0}}
GRID = {"fast": [5, 10, 20], "slow": [50, 100]}
DAY = 86_400_000_000_000


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(env=Environment.TEST, home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[Client]:
    """One local cluster of two worker processes for the module."""
    with dask_client(settings, workers=2) as opened:
        yield opened


def spans(found: list[Window]) -> list[tuple[int, int, int]]:
    return [(w.train_start, w.train_end, w.test_end) for w in found]


def test_counted_windows_roll_or_anchor() -> None:
    times = np.arange(10, dtype=np.int64)
    assert spans(windows(times, 4, 3, anchored=False)) == [(0, 4, 7), (3, 7, 10)]
    assert spans(windows(times, 4, 3, anchored=True)) == [(0, 4, 7), (0, 7, 10)]
    last = windows(times, 4, 5, anchored=False)
    assert spans(last) == [(0, 4, 9), (5, 9, 10)]
    assert last[1].train_bars == (5, 8, 4)
    assert last[1].test_bars == (9, 9, 1)


def test_timed_windows_follow_the_calendar() -> None:
    days = pl.date_range(datetime(2020, 1, 1), datetime(2022, 12, 31), "1d", eager=True)
    business = days.filter(days.dt.weekday() <= 5).cast(pl.Datetime("ns", "UTC"))
    times = business.cast(pl.Int64).to_numpy()
    rolling = windows(times, "1y", "6mo", anchored=False)
    assert [w.to_dict()["test_first"][:10] for w in rolling] == [
        "2021-01-01",
        "2021-07-01",
        "2022-01-03",
        "2022-07-01",
    ]
    assert rolling[1].to_dict()["train_first"][:10] == "2020-07-01"
    assert rolling[-1].to_dict()["test_last"][:10] == "2022-12-30"
    anchored = windows(times, "1y", "6mo", anchored=True)
    assert {w.train_start for w in anchored} == {int(times[0])}
    for found in (rolling, anchored):
        assert all(a.test_end == b.train_end for a, b in itertools.pairwise(found))


def test_lengths_parse_and_bad_windows_say_why() -> None:
    assert parse_length("750", "--train") == 750
    assert parse_length("3Y", "--train") == "3y"
    assert parse_length("6mo", "--test") == "6mo"
    for bad in ("0", "3 years", "1.5y", "-2", "0d"):
        with pytest.raises(ValidationError, match="--train"):
            parse_length(bad, "--train")
    times = np.arange(100, dtype=np.int64) * DAY
    with pytest.raises(ValidationError, match="too short"):
        windows(times, 100, 10, anchored=False)
    with pytest.raises(ValidationError, match="both as bar counts or both as durations"):
        windows(times, 50, "1mo", anchored=False)


def nvda_spec(path: Path = NVDA, **fields: object) -> RunSpec:
    return RunSpec(strategy="sma_cross", data_file=str(path), config=COSTS, **fields)


def test_the_stitched_curve_is_the_continuous_run_over_the_test_spans(
    client: Client, settings: Settings
) -> None:
    # With one combination every window trades the same parameters, so chaining the
    # test spans must give the equity of one run through all of them.
    plan = grid_plan("sma_cross", {"fast": [20], "slow": [100]})
    result = walk_forward(nvda_spec(), plan, settings, train=750, test=250, client=client)
    spec = nvda_spec(params={"fast": 20, "slow": 100})
    full = runs.simulate(spec, load_inputs(spec, settings))
    first = result.windows[0].window.train_end
    opened = full.equity.get_column("ts").cast(pl.Int64).to_numpy() - DAY
    equity = full.equity.get_column("equity").to_numpy()
    k = int(np.searchsorted(opened, first))
    assert result.equity.get_column("ts").cast(pl.Int64).to_list() == opened[k:].tolist()
    expected = equity[k:] / equity[k - 1] * 100_000.0
    np.testing.assert_allclose(result.equity.get_column("equity").to_numpy(), expected, rtol=1e-9)
    exits = full.trades.get_column("exit_ts").cast(pl.Int64)
    assert result.metrics.trades == int((exits >= first).sum())
    assert result.metrics.periods == equity.size - k
    assert len(result.windows) == 14


def test_each_choice_is_the_best_of_a_sweep_that_ends_where_its_test_span_starts(
    client: Client, settings: Settings
) -> None:
    plan = grid_plan("sma_cross", GRID)
    result = walk_forward(
        nvda_spec(), plan, settings, train=2500, test=500, anchored=True, client=client
    )
    assert len(result.windows) == 4
    for window in result.windows:
        end = datetime.fromtimestamp(window.window.train_end / 1e9, UTC)
        alone = run_sweep(nvda_spec(end=end), plan, settings, client=client)
        assert window.chosen.params == alone.best.params
        assert window.chosen.score == alone.best.score


def perturbed(tmp_path: Path, after: int) -> Path:
    """NVDA with a 60-bar cycle laid over every price from bar ``after`` on."""
    raw = pl.read_csv(NVDA)
    bar = np.arange(raw.height)
    factor = np.where(bar >= after, 1 + 0.4 * np.sin(2 * np.pi * (bar - after) / 60), 1.0)
    prices = ["Open", "High", "Low", "Close", "Adj Close"]
    path = tmp_path / "nvda-cycled.csv"
    raw.with_columns(pl.col(prices) * pl.Series(factor)).write_csv(path)
    return path


def test_out_of_sample_data_never_moves_a_choice(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    # The cycle from bar 750 on (window 0's test span) makes fast=5 the best over bars
    # 0..999; window 0 must still choose what bars 0..749 alone say, as on the real data.
    plan = grid_plan("sma_cross", GRID)
    options = {"train": 750, "test": 250, "client": client}
    real = walk_forward(nvda_spec(), plan, settings, **options).windows[0]
    cycled_path = perturbed(tmp_path, after=750)
    cycled = walk_forward(nvda_spec(cycled_path), plan, settings, **options).windows[0]

    assert cycled.chosen.params == real.chosen.params == {"fast": 20, "slow": 100}
    assert cycled.chosen.score == real.chosen.score
    assert cycled.test.score.total_return != real.test.score.total_return

    test_end = datetime.fromtimestamp(cycled.window.test_end / 1e9, UTC)
    peeking = run_sweep(nvda_spec(cycled_path, end=test_end), plan, settings, client=client)
    assert peeking.best.params == {"fast": 5, "slow": 100}


def cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output


def test_the_walkforward_command(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFT_DASK_SCHEDULER", client.scheduler.address)
    args = ["backtest", "walkforward", "sma_cross", "--data", str(NVDA)]
    grid = ["--grid", "fast=5,10,20", "--grid", "slow=50,100"]
    counted = {o: trials_counted(o) for o in ("done", "skipped")}
    port = ["--metrics-port", str(free_port())]
    refusing = ["--grid", "fast=5,10,20,100", "--grid", "slow=50,100"]  # fast 100 never runs
    data = json.loads(cli(*args, *refusing, "--train", "750", "--test", "250", "--json", *port))
    assert len(data["windows"]) == 14
    assert served_trials(int(port[1])) == {
        "done": counted["done"] + sum(w["evaluated"] for w in data["windows"]),
        "skipped": counted["skipped"] + 14 * 2 + sum(w["skipped"] for w in data["windows"]),
    }
    assert sum(w["evaluated"] for w in data["windows"]) == 14 * 6
    assert data["windows"][0]["params"] == {"fast": 20, "slow": 100}
    assert data["windows"][0]["train_bars"] == 750
    assert data["windows"][0]["test_bars"] == 250
    assert data["out_of_sample"]["periods"] == sum(w["test_bars"] for w in data["windows"])

    text = cli(*args, *grid, "--train", "3y", "--test", "1y", "--anchored")
    assert "walk-forward (chosen by in-sample sharpe)" in text
    assert "out-of-sample" in text
    assert "both as bar counts" in cli(*args, *grid, "--train", "3y", "--test", "250", code=2)
