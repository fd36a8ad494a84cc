"""The broker fault campaign, shortened: orders through the OMS to a local Alpaca server
that fails at random (seeded), with the trading process killed by SIGKILL; after
reconciliation no signal was placed twice, no fill is missing or extra, and the
positions equal the broker's. The full run is in docs/brokers.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.execution.fault_campaign import campaign

pytestmark = pytest.mark.serial  # kills at chosen moments of a timed run


def test_faults_and_kills_leave_no_duplicate_no_lost_fill_no_mismatch(tmp_path: Path) -> None:
    outcome = campaign(tmp_path, orders=150, kills=3, seed=11)
    assert outcome.crashes == []
    assert outcome.kills >= 1
    assert len(outcome.faults) >= 5  # most kinds struck
    assert outcome.placed + outcome.refused == outcome.orders
    assert outcome.filled > 100
    assert (outcome.duplicates, outcome.lost_fills, outcome.position_mismatches) == (0, 0, 0)
