"""Backtest speed: CIFT's event-driven engine next to backtesting.py, backtrader and
NautilusTrader, and CIFT's vectorised sweep next to vectorbt, on the same bars.

    python bench/backtest.py [--bars 1000000] [--symbols 100] [--per-symbol 100000]
                             [--engines cift,backtesting,backtrader,nautilus]
                             [--peers-python PATH] [--skip-sweep] [--repeat 3]
                             [--baseline REV]

Each engine runs SMA(10/50) crossover, long or flat, in its own process on the same
Parquet file of one-minute bars; figures are the medians over ``--repeat`` rounds (the
engines take turns) of bars per second of the whole process (start-up, imports, loading
included), of the engine's run alone, and of the process's peak memory. The sweep runs
100 SMA parameter pairs on 100k bars: CIFT's vectorised mode and vectorbt, each warm
(second call in one process) and as a whole process.
NautilusTrader needs pandas < 3 and vectorbt plotly < 6, so both run from their own
virtualenv (created under the temp folder unless --peers-python names its python).
``--baseline REV`` adds CIFT as of git revision REV (``cift@REV``: its own ``src`` and
``bench`` from a temporary worktree, the same interpreter) to both cases, in the same
rounds, so that a change's speed-up is measured on one machine at one time (a shared
machine's speed can move by a factor of two or more from one day to the next).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, minute_bars, table

HERE = Path(__file__).resolve().parent
FASTS = list(range(5, 55, 5))
SLOWS = list(range(60, 260, 20))


def whole_process(
    args: list[str], python: str = sys.executable, env: dict[str, str] | None = None
) -> tuple[dict[str, float], float, float]:
    """Run a child; its JSON line, wall seconds and its own peak RSS in MiB."""
    began = time.perf_counter()
    child = subprocess.Popen([python, *args], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    output = child.stdout.read()
    if child.wait():
        raise SystemExit(f"{args} failed")
    result = json.loads(output.strip().splitlines()[-1])
    return (
        result,
        time.perf_counter() - began,
        result["peak_mib"],
    )


PEERS = {"nautilus", "vectorbt"}
"""Engines that run from the peers' virtualenv."""


def engines(
    path: Path, names: list[str], label: str, peers: str, repeat: int = 1
) -> list[list[str]]:
    """Each engine's medians over ``repeat`` rounds; the rounds interleave the engines,
    so a host that slows down for a while slows them all."""
    runs: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name in names}
    warmed: set[str] = set()
    for _ in range(repeat):
        for name in names:
            python = peers if name in PEERS else sys.executable
            engine, _, revision = name.partition("@")
            tree = checkout(revision) if revision else HERE.parent
            script = [str(tree / "bench" / "backtest_engines.py"), engine, str(path)]
            env = {**os.environ, "PYTHONPATH": str(tree / "src")} if revision else None
            if revision and name not in warmed:
                whole_process(script, python=python, env=env)  # compiles its kernels: untimed
                warmed.add(name)
            result, wall, peak = whole_process(script, python=python, env=env)
            bars = result["bars"]
            runs[name].append((bars / wall, bars / result["seconds"], peak, result["trades"]))
            print(label, name, f"{bars / wall:,.0f} bars/s", flush=True)
    rows, baseline = [], None
    for name in names:
        whole, inner, peak = (median(run[i] for run in runs[name]) for i in range(3))
        baseline = baseline or whole
        rows.append(
            [
                name,
                f"{whole:,.0f}",
                f"{inner:,.0f}",
                f"{baseline / whole:.1f}x",
                f"{peak:,.0f}",
                f"{runs[name][0][3]:,}",
            ]
        )
    return rows


@cache
def checkout(revision: str) -> Path:
    """A worktree of the repository at ``revision``, removed when the benchmark ends."""
    tree = Path(tempfile.mkdtemp(prefix="cift-baseline-"))
    git = ["git", "-C", str(HERE.parent)]
    subprocess.run([*git, "worktree", "add", "--detach", "-f", str(tree), revision], check=True)
    atexit.register(subprocess.run, [*git, "worktree", "remove", "-f", str(tree)], check=False)
    return tree


def peers_python(work: Path, given: str | None) -> str:
    """A python with NautilusTrader and vectorbt (they pin pandas < 3 and plotly < 6)."""
    if given:
        return given
    venv = work / "peers-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    packages = ["nautilus_trader", "vectorbt", "plotly<6", "polars", "pyarrow"]
    subprocess.run([*pip, *packages], check=True)
    return str(venv / "bin" / "python")


def sweeps(path: Path, python: str) -> list[list[str]]:
    rows = []
    script = str(HERE / "backtest_sweep.py")
    for name, interpreter in (("cift", sys.executable), ("vectorbt", python)):
        warm, _, _ = whole_process([script, name, str(path), "warm"], python=interpreter)
        cold, wall, peak = whole_process([script, name, str(path)], python=interpreter)
        rows.append(
            [
                name,
                f"{warm['seconds']:.2f}",
                f"{wall:.2f}",
                f"{peak:,.0f}",
                f"{cold['best']:,.0f}",
            ]
        )
        print("sweep", rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--per-symbol", type=int, default=100_000)
    parser.add_argument("--engines", default="cift,backtesting,backtrader,nautilus")
    parser.add_argument("--many-engines", default=None, help="Engines for the 100-symbol case.")
    parser.add_argument("--peers-python", default=None, help="Python with the peer engines.")
    parser.add_argument("--skip-sweep", action="store_true", help="Leave out the sweep case.")
    parser.add_argument(
        "--repeat", type=int, default=3, help="Rounds of the engine cases (medians shown)."
    )
    parser.add_argument(
        "--baseline", default=None, help="Also run CIFT as of this git revision (cift@REV)."
    )
    args = parser.parse_args()
    baseline = [f"cift@{args.baseline}"] if args.baseline else []
    names = [*args.engines.split(","), *baseline]
    many_names = [*(args.many_engines or args.engines).split(","), *baseline]
    header = [
        "engine",
        "bars/s (process)",
        "bars/s (run)",
        "vs CIFT",
        "peak MiB",
        "trades",
    ]
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        needs_peers = bool(PEERS & {*names, *many_names}) or not args.skip_sweep
        peers = peers_python(work, args.peers_python) if needs_peers else sys.executable
        one = work / "one.parquet"
        minute_bars(1, args.bars).write_parquet(one)
        print(
            table(
                f"SMA cross, {args.bars:,} one-minute bars of one symbol",
                header,
                engines(one, names, "one", peers, args.repeat),
            )
        )
        many = work / "many.parquet"
        minute_bars(args.symbols, args.per_symbol).write_parquet(many)
        title = f"SMA cross, {args.symbols} symbols x {args.per_symbol:,} bars"
        print(table(title, header, engines(many, many_names, "many", peers, args.repeat)))
        if args.skip_sweep:
            return
        sweep_bars = work / "sweep.parquet"
        minute_bars(1, 100_000, seed=5).write_parquet(sweep_bars)
        sweep_header = [
            "sweep of 100 pairs",
            "warm s",
            "whole process s",
            "peak MiB",
            "best equity",
        ]
        print(
            table(
                "Vectorised sweep, 100 SMA pairs on 100,000 bars",
                sweep_header,
                sweeps(sweep_bars, peers),
            )
        )


if __name__ == "__main__":
    main()
