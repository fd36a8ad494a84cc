"""Prometheus metrics of trading, served on ``cift trade run --metrics-port``: orders by
state, refusals by reason, the submit-to-acknowledgement latency, open orders, position
values, equity and P&L, the kill switch, and what reconciliations with the broker found."""

from __future__ import annotations

from cift.core.metrics import counter, gauge, histogram

ACK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

ORDERS = counter("trading", "", "orders", "Orders reaching each state.", ("state",))
REJECTED = counter(
    "trading", "rejected", "orders",
    "Orders refused before they were sent, by the risk check's reason.", ("reason",),
)  # fmt: skip
SUBMIT_TO_ACK = histogram(
    "trading", "submit_to_ack", "seconds", "Time from sending an order to the broker's answer.",
    buckets=ACK_BUCKETS,
)  # fmt: skip
OPEN = gauge("trading", "open", "orders", "The run's orders still working.")
POSITION_VALUE = gauge(
    "trading", "position_value", "currency", "Value of a position at its last price.",
    ("symbol",),
)  # fmt: skip
EQUITY = gauge("trading", "equity", "currency", "Cash plus positions at last prices.")
PNL = gauge("trading", "pnl", "currency", "Equity less the cash the run started with.")
KILL_SWITCH = gauge(
    "trading", "kill_switch", "state",
    "1 while a kill switch halts the account the run trades, else 0.", mode="max",
)  # fmt: skip
UNPUBLISHED = counter(
    "trading", "unpublished", "orders", "Order news the bus did not take (the ledger has them)."
)
RECONCILIATIONS = counter("trading", "reconciliation", "runs", "Reconciliations with the broker.")
RECONCILIATION_DIFFERENCES = counter(
    "trading", "reconciliation", "differences",
    "What reconciliations found: missed fills, orders behind the broker, orders unknown "
    "on either side, positions that differed.", ("kind",),
)  # fmt: skip


class TradingMetrics:
    """What the OMS and the live runner of one account report."""

    orders = ORDERS
    rejections = REJECTED
    ack_latency = SUBMIT_TO_ACK
    open_orders = OPEN
    position_value = POSITION_VALUE
    equity = EQUITY
    pnl = PNL
    kill_switch = KILL_SWITCH
    reconciliations = RECONCILIATIONS
    reconciliation_differences = RECONCILIATION_DIFFERENCES


ALERTS_FIRED = counter("alerts", "fired", "", "Alert rules that fired.")
ALERT_DELIVERIES = counter(
    "alerts", "", "deliveries", "Deliveries of fired alerts, by channel and outcome.",
    ("channel", "outcome"),
)  # fmt: skip
