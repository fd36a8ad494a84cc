"""Start-up: how long common `cift` commands take as whole processes, and how soon
`cift serve` answers.

    python bench/startup.py [--repeat 5] [--data BARS.csv] [--against OTHER/src]

Each case runs ``--repeat`` times in a fresh interpreter on one CIFT home (migrated by an
untimed first run). With ``--against``, the same cases also run from another checkout's
``src`` (e.g. a ``git worktree`` of an earlier commit), the two taking turns, so both
see the same host. Prints a Markdown table of medians, with the server's memory once it
answers.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.serving import Server, environment

from common import machine, table

ROOT = Path(__file__).resolve().parents[1]
DAILY = ROOT.parent / "shared" / "data" / "daily" / "nvda-1999-2014.csv"


def command_cases(data: Path) -> dict[str, list[str]]:
    return {
        "cift --help": ["--help"],
        "cift users ls": ["users", "ls"],
        "cift trade halt (the kill switch)": ["trade", "halt", "--all", "--reason", "drill"],
        "cift backtest run (daily NVDA)": ["backtest", "run", "sma_cross", "--data", str(data)],
        "cift backtest ls": ["backtest", "ls"],
    }


def run_command(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of ``cift *args`` in a new interpreter."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cift", *args], env=env, capture_output=True, check=False
    )
    took = time.perf_counter() - began
    if done.returncode:
        raise SystemExit(f"cift {' '.join(args)} failed:\n{done.stderr.decode()[-2000:]}")
    return took


def run_server(home: Path, src: Path) -> tuple[float, float]:
    """Seconds from starting `cift serve` to its first ready answer (asked every 10 ms),
    and its RSS then (MiB)."""
    began = time.perf_counter()
    server = Server(home, PYTHONPATH=str(src))
    try:
        server.wait_ready(timeout=60, every=0.01)
        took = time.perf_counter() - began
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        rss = int(status.split("VmRSS:")[1].split()[0]) / 1024
    finally:
        server.stop()
    return took, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DAILY, help="bars for the backtest case")
    parser.add_argument("--against", type=Path, help="another checkout's src to compare")
    args = parser.parse_args()
    sources = {"this": ROOT / "src"}
    if args.against:
        sources["against"] = args.against.resolve()
    cases = command_cases(args.data)
    with tempfile.TemporaryDirectory(prefix="cift-startup-") as folder:
        home = Path(folder) / "home"
        envs = {name: environment(home, PYTHONPATH=str(src)) for name, src in sources.items()}
        for name, env in envs.items():  # untimed: migrations, first imports, kernels
            for case in cases.values():
                run_command(case, env)
            run_server(home, sources[name])
        seconds: dict[tuple[str, str], list[float]] = {}
        memory: dict[str, list[float]] = {name: [] for name in sources}
        for _ in range(args.repeat):
            for name, env in envs.items():
                for label, case in cases.items():
                    seconds.setdefault((label, name), []).append(run_command(case, env))
                took, rss = run_server(home, sources[name])
                seconds.setdefault(("cift serve, until it answers", name), []).append(took)
                memory[name].append(rss)
    rows = [
        [label, name, f"{median(values):.2f}", f"{min(values):.2f}", f"{max(values):.2f}",
         f"{median(memory[name]):.0f}" if label.startswith("cift serve") else ""]
        for (label, name), values in sorted(seconds.items(), key=lambda item: item[0])
    ]  # fmt: skip
    print(machine())
    header = ["case", "source", "median s", "min s", "max s", "server MiB"]
    print(table(f"Start-up, {args.repeat} runs each", header, rows))


if __name__ == "__main__":
    main()
