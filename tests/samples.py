"""The real data samples the tests read, beside the checkout (``../shared/data``; its
README describes each file)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NVDA = DATA / "daily" / "nvda-1999-2014.csv"
"""NVIDIA's daily bars, 1999-2014: the file most backtest and command tests run on."""
