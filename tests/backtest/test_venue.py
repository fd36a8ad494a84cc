"""Fill rules on bars: order types, gaps, time in force, brackets, partial fills."""

from __future__ import annotations

from typing import Any

import pytest

from cift.backtest.config import BacktestConfig
from cift.backtest.costs import (
    Bps,
    FixedBps,
    HalfSpread,
    PerShare,
    SquareRootImpact,
    Tiered,
)
from cift.backtest.engine import run_backtest
from cift.core.errors import ValidationError
from cift.model.orders import TimeInForce
from tests.backtest.scripted import DAY, bars, scripted

FLAT = [(100, 101, 99, 100)] * 3


def run(rows, actions, **config):  # type: ignore[no-untyped-def]
    return run_backtest(
        scripted(actions), bars=bars(rows), timeframe=DAY, config=BacktestConfig(**config)
    )


def fills(result) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [
        (row["quantity"] * row["side"], row["price"]) for row in result.fills.iter_rows(named=True)
    ]


def test_market_order_fills_at_the_next_open() -> None:
    result = run(
        [(100, 101, 99, 100), (105, 106, 104, 105), (106, 107, 105, 106)],
        {0: lambda s, b: s.ctx.market("X", 10)},
    )
    assert fills(result) == [(10, 105)]
    fill_ts = result.fills.item(0, "ts")
    assert fill_ts == bars(FLAT).item(1, "ts")  # the open of the next bar


@pytest.mark.parametrize(
    ("rows", "order", "expected"),
    [
        # buy limit below the market: filled at the limit when the low reaches it
        ([(100, 101, 99, 100), (100, 100, 94, 96)], ("limit", 10, 95.0), [(10, 95.0)]),
        # gap down through the limit: filled at the (better) open
        ([(100, 101, 99, 100), (90, 92, 89, 91)], ("limit", 10, 95.0), [(10, 90.0)]),
        # not reached: no fill
        ([(100, 101, 99, 100), (100, 101, 96, 97)], ("limit", 10, 95.0), []),
        # buy stop above the market: filled at the stop when the high reaches it
        ([(100, 101, 99, 100), (100, 106, 99, 105)], ("stop", 10, 105.0), [(10, 105.0)]),
        # gap up through the stop: filled at the (worse) open
        ([(100, 101, 99, 100), (108, 110, 107, 109)], ("stop", 10, 105.0), [(10, 108.0)]),
        # sell stop below: filled at the stop
        ([(100, 101, 99, 100), (100, 100, 90, 92)], ("stop", -10, 95.0), [(-10, 95.0)]),
    ],
)
def test_limit_and_stop_fills_honour_gaps(rows, order, expected) -> None:  # type: ignore[no-untyped-def]
    kind, quantity, price = order

    def place(strategy, bar):  # type: ignore[no-untyped-def]
        if quantity < 0:
            strategy.ctx.market("X", 10)
        getattr(strategy.ctx, kind)("X", quantity, price)

    result = run([*rows, (100, 100, 100, 100)], {0: place}, account="margin", leverage=2)
    got = [f for f in fills(result) if not (quantity < 0 and f == (10, rows[1][0]))]
    assert got == expected


def test_stop_limit_triggers_then_needs_its_limit() -> None:
    rows = [(100, 101, 99, 100), (100, 106, 99, 105), (107, 108, 103, 104)]
    result = run(rows, {0: lambda s, b: s.ctx.stop_limit("X", 10, stop=105, limit=103.5)})
    assert fills(result) == [(10, 103.5)]


def test_ioc_and_fok_and_day_orders() -> None:
    rows = [(100, 101, 99, 100), (100, 100, 98, 99), (97, 98, 96, 97), (96, 97, 90, 91)]
    result = run(
        rows,
        {
            0: lambda s, b: (
                s.ctx.limit("X", 5, 95, tif=TimeInForce.IOC),  # not reached on bar 1: cancelled
                s.ctx.limit("X", 5, 95, tif=TimeInForce.DAY),  # expires with its day
                s.ctx.limit("X", 5, 95, tif=TimeInForce.GTC),  # fills on bar 3 at 95
            ),
        },
    )
    assert fills(result) == [(5, 95)]
    statuses = result.orders.get_column("status").to_list()
    assert statuses == ["cancelled", "expired", "filled"]


def test_volume_participation_splits_fills() -> None:
    rows = [(100, 101, 99, 100)] * 4
    result = run_backtest(
        scripted({0: lambda s, b: s.ctx.market("X", 250)}),
        bars=bars(rows, volume=1_000),
        timeframe=DAY,
        config=BacktestConfig(participation=0.1),
    )
    assert fills(result) == [(100, 100), (100, 100), (50, 100)]
    fok = run_backtest(
        scripted({0: lambda s, b: s.ctx.market("X", 250, tif=TimeInForce.FOK)}),
        bars=bars(rows, volume=1_000),
        timeframe=DAY,
        config=BacktestConfig(participation=0.1),
    )
    assert fills(fok) == []


def test_bracket_children_work_after_entry_and_cancel_each_other() -> None:
    rows = [(100, 101, 99, 100), (100, 101, 99, 100), (100, 111, 99, 110), (110, 111, 80, 85)]
    result = run(rows, {0: lambda s, b: s.ctx.bracket("X", 10, take_profit=110, stop_loss=90)})
    assert fills(result) == [(10, 100), (-10, 110)]
    statuses = dict(
        zip(result.orders.get_column("tag"), result.orders.get_column("status"), strict=True)
    )
    assert statuses == {"entry": "filled", "take_profit": "filled", "stop_loss": "cancelled"}


def test_latency_delays_activation() -> None:
    rows = [(100, 101, 99, 100), (101, 102, 100, 101), (102, 103, 101, 102)]
    result = run(rows, {0: lambda s, b: s.ctx.market("X", 1)}, latency_ns=1)
    assert fills(result) == [(1, 102)]  # not active at the next open, filled one bar later


def test_cash_account_cannot_short_or_overspend() -> None:
    rows = [(100, 101, 99, 100)] * 3
    result = run(
        rows,
        {0: lambda s, b: (s.ctx.market("X", -5), s.ctx.market("X", 2_000))},
        initial_cash=10_000,
    )
    assert fills(result) == [(100, 100)]
    orders = result.orders.select("status", "filled", "reason").rows()
    assert orders == [
        ("rejected", 0.0, "insufficient buying power"),  # no shorting in a cash account
        ("rejected", 100.0, "insufficient buying power"),  # the cash bought 100, no more
    ]


def test_margin_short_pays_borrow_fees() -> None:
    rows = [(100, 101, 99, 100)] * 366
    result = run(
        rows,
        {0: lambda s, b: s.ctx.market("X", -100)},
        account="margin",
        leverage=2,
        borrow_rate=0.05,
    )
    # 100 shares short at 100: 10,000 notional for ~one year at 5% = about 500.
    assert result.final_equity == pytest.approx(100_000 - 500, abs=5)


def test_commission_models() -> None:
    assert PerShare(0.005, minimum=1.0).cost(100, 50, 0) == 1.0
    assert PerShare(0.005, minimum=1.0, cap_fraction=0.001).cost(10_000, 1, 0) == 10.0
    assert Bps(10).cost(100, 50, 0) == pytest.approx(5.0)
    tiers = Tiered(((0, 0.01), (1_000, 0.005)))
    assert tiers.cost(500, 10, 800) == pytest.approx(200 * 0.01 + 300 * 0.005)
    with pytest.raises(ValidationError):
        Tiered(((10, 0.01),))


def test_config_round_trips_through_its_description() -> None:
    config = BacktestConfig(commission=Tiered(((0, 0.01), (5, 0.002))), latency_ns=5)
    assert BacktestConfig.from_description(config.describe()) == config


@pytest.mark.parametrize(
    "make",
    [
        lambda: Bps(-1),
        lambda: Bps(1, minimum=-0.5),
        lambda: PerShare(-0.01),
        lambda: PerShare(0.01, cap_fraction=-0.1),
        lambda: Tiered(((0, 0.01), (100, -0.002))),
        lambda: FixedBps(-50),
        lambda: HalfSpread(float("nan")),
        lambda: SquareRootImpact(-1.0),
    ],
)
def test_negative_or_not_finite_costs_are_refused(make: Any) -> None:
    with pytest.raises(ValidationError, match="a cost is 0 or more"):
        make()
