"""Prometheus metrics of trading, in a registry of their own per process, served on
``cift trade run --metrics-port``: orders by state, refusals by reason, the submit-to-
acknowledgement latency, open orders, position values, equity and P&L, and what
reconciliations with the broker found."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

ACK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class TradingMetrics:
    """What the OMS and the live runner of one account report."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.orders = Counter(
            "cift_orders", "Orders reaching each state.", ("state",), registry=registry
        )
        self.rejections = Counter(
            "cift_order_rejections",
            "Orders refused before they were sent, by the risk check's reason.",
            ("reason",),
            registry=registry,
        )
        self.ack_latency = Histogram(
            "cift_order_submit_ack_seconds",
            "Time from sending an order to the broker's answer.",
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.open_orders = Gauge(
            "cift_open_orders", "The run's orders still working.", registry=registry
        )
        self.position_value = Gauge(
            "cift_position_value",
            "Value of a position at its last price.",
            ("symbol",),
            registry=registry,
        )
        self.equity = Gauge(
            "cift_account_equity", "Cash plus positions at last prices.", registry=registry
        )
        self.pnl = Gauge(
            "cift_account_pnl", "Equity less the cash the run started with.", registry=registry
        )
        self.reconciliations = Counter(
            "cift_reconciliations", "Reconciliations with the broker.", registry=registry
        )
        self.reconciliation_differences = Counter(
            "cift_reconciliation_differences",
            "What reconciliations found: missed fills, orders behind the broker, orders "
            "unknown on either side, positions that differed.",
            ("kind",),
            registry=registry,
        )

    def serve(self, port: int) -> None:
        """Serve ``/metrics`` on ``port`` (loopback) from a background thread."""
        start_http_server(port, addr="127.0.0.1", registry=self.registry)
