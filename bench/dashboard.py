"""The dashboard's speed in Debian's Chromium: first load, a 100,000-bar chart, its JS.

    python bench/dashboard.py [--bars 100000] [--runs 5]

Stores one symbol of minute bars in a fresh CIFT home, serves it with ``cift serve``
and drives the built dashboard (``make web``) with Playwright (web/scripts/measure.mjs):
the first load of the page (navigation start to the load event, cold cache: a new
browser context each run), and the time from the bars' arrival to the chart's first
painted frame. The initial JavaScript is what ``index.html`` loads before any page's
own code, gzipped. Targets: load under 1 s, chart under 500 ms, initial JS under 300 KB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import polars as pl

from cift.core.settings import load_settings
from cift.data.store import open_store
from cift.model import DataKind, Timeframe
from cift.web.dashboard import DIST
from tests.serving import Server, environment

from common import machine, minute_bars, table

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"


def initial_js_kb() -> float:
    """Gzipped size of the scripts index.html loads (entry and its preloaded chunks)."""
    page = (DIST / "index.html").read_text()
    scripts = re.findall(r'(?:src|href)="/assets/([^"]+\.js)"', page)
    return sum(len(gzip.compress((DIST / "assets" / s).read_bytes())) for s in scripts) / 1024


def prepare(home: Path, bars: int) -> str:
    frame = minute_bars(1, bars).with_columns(symbol=pl.lit("BENCH"))
    store = open_store(load_settings(home=home))
    try:
        store.write(DataKind.BARS, frame, timeframe=Timeframe.parse("1m"))
    finally:
        store.close()
    done = subprocess.run(
        [sys.executable, "-m", "cift", "users", "password", "local", "--password-stdin"],
        input=PASSWORD + "\n", env=environment(home), capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "password set" in done.stdout, done.stdout
    return "BENCH"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        sys.exit("The dashboard is not built: run make web first.")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        symbol = prepare(home, args.bars)
        server = Server(home, CIFT_RATE_LIMIT_AUTH_PER_MINUTE="200")
        server.wait_ready(timeout=60)
        try:
            done = subprocess.run(
                ["node", "scripts/measure.mjs", server.base, "local", PASSWORD, symbol,
                 str(args.runs)],
                cwd=ROOT / "web", capture_output=True, text=True, check=True,
            )  # fmt: skip
        finally:
            server.stop()
    found = json.loads(done.stdout.strip().splitlines()[-1])
    load = statistics.median(found["first_load_ms"])
    draw = statistics.median(found["chart_draw_ms"])
    rows = [
        ["first load of the page (cold)", f"{load:.0f} ms", "< 1,000 ms"],
        [f"chart of {found['bars']:,} bars drawn", f"{draw:.0f} ms", "< 500 ms"],
        ["initial JavaScript, gzipped", f"{initial_js_kb():.0f} KB", "< 300 KB"],
    ]
    title = f"Dashboard in Chromium, medians of {args.runs} runs ({machine()})"
    print(table(title, ["measure", "CIFT", "target"], rows))


if __name__ == "__main__":
    main()
