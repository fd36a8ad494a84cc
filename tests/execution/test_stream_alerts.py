"""Alert rules on the live path: a feature's newest value for a symbol (kept by the live
features stage, else stored), and a streaming stage's consumer lag, as the board the
stages write holds them."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from cift.core.settings import Settings
from cift.data.aggregate import trades_to_bars
from cift.data.store import open_store
from cift.data.stream.board import LocalBoard
from cift.db.models import Role
from cift.execution import alerts
from cift.features.pipeline import compute_set, default_set
from cift.model import Timeframe
from tests.data.marketdata import random_trades
from tests.security.conftest import make_user

Sessions = sessionmaker[Session]
MINUTE = Timeframe.parse("1m")


def add(
    db: Sessions, owner: object, name: str, condition: dict[str, object], **more: object
) -> None:
    spec = alerts.AlertSpec.model_validate(
        {"name": name, "condition": condition, "cooldown_seconds": 0, **more}
    )
    alerts.create_alert(db, owner, spec)  # type: ignore[arg-type]


def test_feature_values_live_then_stored_and_stage_lag_fire(
    any_db: Sessions, any_db_settings: Settings, tmp_path: Path
) -> None:
    owner = make_user(any_db, any_db_settings, "alice", Role.TRADER).id
    store = open_store(any_db_settings)
    trades = random_trades(3000, ["AAA"], seed=3)
    bars = trades_to_bars(trades.lazy(), MINUTE).collect()
    feature_set = default_set(MINUTE)
    values = compute_set(bars, feature_set)
    last = values.filter(pl.col("rsi").is_not_null()).row(-1, named=True)
    rsi = float(last["rsi"])
    add(any_db, owner, "hot", {"kind": "feature_above", "feature": "rsi", "level": rsi - 1},
        symbol="AAA")  # fmt: skip
    add(any_db, owner, "cold", {"kind": "feature_below", "feature": "rsi", "level": rsi - 1},
        symbol="AAA")  # fmt: skip
    add(any_db, owner, "behind", {"kind": "consumer_lag_above", "stage": "features", "level": 500})
    board = LocalBoard(tmp_path)
    assert alerts.check_alerts(any_db, store, board=board) == []  # nothing kept, nothing stored

    store.write_features(feature_set.set_id, values)  # batch-computed values, stored
    (stored,) = alerts.check_alerts(any_db, store, board=board)
    assert (stored.name, stored.price) == ("hot", rsi)
    closed = last["ts"].replace(tzinfo=UTC) + timedelta(minutes=1)
    assert stored.observed_at == closed  # when its bar closed
    assert alerts.check_alerts(any_db, store, board=board) == []  # no newer bar

    newer = values.tail(1).with_columns(
        pl.col("ts") + pl.duration(minutes=1), pl.lit(rsi - 5).alias("rsi")
    )
    board.put_latest(feature_set.set_id, newer)  # the live stage's newest bar, colder
    assert [f.name for f in alerts.check_alerts(any_db, store, board=board)] == ["cold"]

    board.post_status("features", {"lag": 120, "rows_in": 1, "rows_out": 1, "batches": 1})
    assert alerts.check_alerts(any_db, store, board=board) == []
    board.post_status("features", {"lag": 900, "rows_in": 1, "rows_out": 1, "batches": 1})
    (late,) = alerts.check_alerts(any_db, store, board=board)
    assert (late.name, late.price, late.measure) == ("behind", 900.0, "value")
    store.close()
