"""Prometheus metrics of the live stages, in a registry of their own per process, served
on ``--metrics-port`` by each ``cift stream`` command."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class StageMetrics:
    """Rows and batches through a stage, end-to-end latency, consumer lag, and what the
    live feed (reconnects, gaps filled) and the bars (late trades) meet."""

    def __init__(self, stage: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("stage", "topic")
        self.stage = stage
        self.batches = Counter(
            "cift_stream_batches", "Batches a stage has finished.", labels, registry=self.registry
        )
        self.rows_in = Counter(
            "cift_stream_rows_in", "Rows a stage has received.", labels, registry=self.registry
        )
        self.rows_out = Counter(
            "cift_stream_rows_out",
            "Rows a stage has written or published (new ones only, for the store).",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "cift_stream_publish_to_done_seconds",
            "Time from a batch's publishing to the stage being done with it.",
            labels,
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.lag = Gauge(
            "cift_stream_consumer_lag_batches",
            "Batches published that the stage's consumer group has not acknowledged.",
            labels,
            registry=self.registry,
        )

        self.late = Gauge(
            "cift_stream_late_trades",
            "Trades dropped because their bar was already made.",
            labels,
            registry=self.registry,
        )
        feed = ("stage", "provider")
        self.reconnects = Counter(
            "cift_stream_reconnects",
            "Times the live feed reconnected after losing its connection.",
            feed,
            registry=self.registry,
        )
        self.gap_rows = Counter(
            "cift_stream_gap_filled_rows",
            "Rows fetched from the REST history to fill the gap of a reconnect.",
            feed,
            registry=self.registry,
        )
        self.feed_rows = Counter(
            "cift_stream_feed_rows",
            "Rows the live feed received (after dropping repeats), by kind.",
            ("stage", "provider", "kind"),
            registry=self.registry,
        )

    def serve(self, port: int) -> None:
        """Serve ``/metrics`` on ``port`` (loopback) from a background thread."""
        start_http_server(port, addr="127.0.0.1", registry=self.registry)
