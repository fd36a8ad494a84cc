"""First use: what a new install waits for before its first answers.

    python bench/first_use.py [--repeat 3] [--against OTHER/src]

Two cases, each run in a fresh interpreter on nothing made yet:

- ``cift ml models ls`` on a new CIFT home (nothing trained, no tracking store);
- ``cift features compile`` into an empty kernel cache (``NUMBA_CACHE_DIR``), with the
  cache's size and how many compiled signatures it holds.

With ``--against``, the same cases also run from another checkout's ``src`` (e.g. a
``git worktree`` of an earlier commit), the two taking turns. Prints a Markdown table of
medians.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from startup import ROOT, run_command
from tests.serving import environment

from common import machine, table


def models_on_a_new_home(src: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="cift-first-") as folder:
        env = environment(Path(folder) / "home", PYTHONPATH=str(src))
        return {"s": run_command(["ml", "models", "ls"], env)}


def compile_into_an_empty_cache(src: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="cift-first-") as folder:
        cache = Path(folder) / "numba"
        env = environment(Path(folder) / "home", PYTHONPATH=str(src), NUMBA_CACHE_DIR=str(cache))
        took = run_command(["features", "compile"], env)
        files = [path for path in cache.rglob("*") if path.is_file()]
        return {
            "s": took,
            "cache MB": sum(path.stat().st_size for path in files) / 1e6,
            "signatures": float(sum(path.suffix == ".nbc" for path in files)),
        }


CASES = {
    "cift ml models ls, new home": models_on_a_new_home,
    "cift features compile, empty cache": compile_into_an_empty_cache,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout's src to compare")
    args = parser.parse_args()
    sources = {"this": ROOT / "src"}
    if args.against:
        sources["against"] = args.against.resolve()
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(args.repeat):
        for label, case in CASES.items():
            for name, src in sources.items():
                results.setdefault((label, name), []).append(case(src))
    rows = []
    for (label, name), runs in results.items():
        seconds = [run["s"] for run in runs]
        extra = runs[-1]
        rows.append(
            [
                label,
                name,
                f"{median(seconds):.2f}",
                f"{min(seconds):.2f}",
                f"{max(seconds):.2f}",
                f"{extra['cache MB']:.1f}" if "cache MB" in extra else "",
                f"{extra['signatures']:.0f}" if "signatures" in extra else "",
            ]
        )
    print(machine())
    header = ["case", "source", "median s", "min s", "max s", "cache MB", "signatures"]
    print(table(f"First use, {args.repeat} runs each", header, rows))


if __name__ == "__main__":
    main()
