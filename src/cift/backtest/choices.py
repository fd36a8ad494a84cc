"""What a parameter search offers to choose: the engine its trials run on and the metrics
they are ranked by.

Apart from the trials themselves, so that the command line describes and checks its
options without loading the engine.
"""

from __future__ import annotations

from typing import Literal

Engine = Literal["auto", "event", "vector"]
ENGINES: tuple[Engine, ...] = ("auto", "event", "vector")
RANKABLE = ("sharpe", "sortino", "calmar", "total_return", "annual_return", "max_drawdown")
"""Metrics a sweep can rank by; higher is better for each (drawdowns are negative)."""
