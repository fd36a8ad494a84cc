"""Order-flow features of trades and quotes: who initiated each trade, and the net flow.

Trade inputs are ``price, size`` (and ``side``, the exchange's aggressor flag, for the
signed-flow features; unknown sides fall back to the tick rule); the quote-based rules
also take ``bid, ask``, the quote prevailing at each trade (attach it with
``cift.features.order_flow.with_quotes``). OFI runs on quote updates; BVC on bars.
"""

from __future__ import annotations

from cift.features.kernels import bulk
from cift.features.kernels import order_flow as flow
from cift.features.spec import FeatureSpec, Kernel, Param, StateSize, define, fixed_state

TRADES = ("price", "size")
SIGNED = ("price", "size", "side")
QUOTED = ("price", "size", "bid", "ask")
BOOK = ("bid", "ask", "bid_size", "ask_size")
BARS = ("close", "volume")

TICK_SIZE = Param(
    "tick_size",
    1e-8,
    integer=False,
    minimum=1e-12,
    description="price increment prices are compared in (the instrument's, or finer)",
)


DF = Param("df", 0.0, integer=False, minimum=0.0, maximum=1000.0, description="0: normal CDF")
BUCKET = Param("bucket_volume", 10_000.0, integer=False, minimum=1e-12, description="volume")


def window(default: int, description: str, minimum: int = 1) -> Param:
    return Param("window", default, minimum=minimum, maximum=1_000_000, description=description)


def order_flow(
    name: str,
    kernel: Kernel,
    state: StateSize,
    params: tuple[Param, ...],
    description: str,
    *,
    inputs: tuple[str, ...] = SIGNED,
    outputs: tuple[str, ...] | None = None,
) -> FeatureSpec:
    """Register an order-flow feature."""
    return define(
        "order_flow", name, kernel, state, params, description, inputs=inputs, outputs=outputs
    )


order_flow(
    "tick_rule",
    flow.tick_rule_kernel,
    fixed_state(flow.TICK),
    (TICK_SIZE,),
    "Trade sign by the tick rule: the sign of the last price change (0 for the first).",
    inputs=TRADES,
)
order_flow(
    "quote_rule",
    flow.quote_rule_kernel,
    fixed_state(0),
    (TICK_SIZE,),
    "Trade sign by the quote rule: +1 above the prevailing mid, -1 below, 0 at it.",
    inputs=QUOTED,
)
order_flow(
    "lee_ready",
    flow.lee_ready_kernel,
    fixed_state(flow.TICK),
    (TICK_SIZE,),
    "Lee-Ready trade sign: the quote rule, the tick rule at the mid or without a usable "
    "quote (flagged in lee_ready_by_tick).",
    inputs=QUOTED,
    outputs=("lee_ready", "lee_ready_by_tick"),
)
order_flow(
    "bvc",
    bulk.bvc_kernel,
    bulk.bvc_state,
    (window(20, "bars in the deviation of price changes", minimum=2), DF),
    "Bulk volume classification of bars: buy volume V·Z(dP/sd), sell volume the rest.",
    inputs=BARS,
    outputs=("bvc_buy", "bvc_sell"),
)
order_flow(
    "signed_volume",
    flow.signed_volume_kernel,
    fixed_state(flow.TICK),
    (TICK_SIZE,),
    "Trade size signed by the aggressor side (the tick rule where the side is unknown).",
)
order_flow(
    "cumulative_delta",
    flow.cumulative_delta_kernel,
    flow.cumulative_delta_state,
    (TICK_SIZE,),
    "Running sum of signed volume.",
)
order_flow(
    "trade_imbalance",
    flow.trade_imbalance_kernel,
    flow.trade_imbalance_state,
    (window(100, "trades"), TICK_SIZE),
    "Buy minus sell over buy plus sell in the last n trades, by volume and by count.",
    outputs=("trade_imbalance", "trade_imbalance_count"),
)
order_flow(
    "ofi",
    flow.ofi_kernel,
    flow.ofi_state,
    (window(1, "quote updates"), TICK_SIZE),
    "Order-flow imbalance (Cont-Kukanov-Stoikov) summed over the last n quote updates.",
    inputs=BOOK,
)
order_flow(
    "vpin",
    flow.vpin_kernel,
    flow.vpin_state,
    (BUCKET, window(50, "buckets"), TICK_SIZE),
    "Volume-synchronised probability of informed trading over the last n volume buckets.",
)
order_flow(
    "bvc_vpin",
    bulk.bvc_vpin_kernel,
    bulk.bvc_vpin_state,
    (
        BUCKET,
        window(50, "buckets"),
        Param("sd_window", 20, minimum=2, maximum=1_000_000, description="bars"),
        DF,
    ),
    "VPIN over volume buckets of bars classified by BVC (as in the paper).",
    inputs=BARS,
)
