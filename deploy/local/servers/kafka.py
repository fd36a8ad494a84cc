"""Kafka from Maven Central (``org.apache.kafka:kafka_2.13``): one combined broker and
controller in KRaft mode (no ZooKeeper), on loopback, its log in ``<home>/kafka/data``.

The storage folder is formatted on first start (a standalone controller quorum). Being
up means answering Kafka's ApiVersions request; a start also proves a produce/consume
round trip with acks=all through Kafka's own EndToEndLatency tool.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import uuid
from pathlib import Path

from servers.base import Service, ServiceError, env_port, run
from servers.jvm import fetch_runtime, java

VERSION = os.environ.get("CIFT_SERVICES_KAFKA_VERSION", "4.1.1")
READY_TOPIC = "cift-services-ready"
API_VERSIONS_KEY = 18

LOG4J = """status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.file.ref = file
"""


class Kafka(Service):
    name = "kafka"
    ready_timeout = 120.0
    lane = "jvm"

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.port = env_port("CIFT_SERVICES_KAFKA_PORT", 9092)
        self.controller = env_port("CIFT_SERVICES_KAFKA_CONTROLLER_PORT", 9093)
        self.data = self.folder / "data"
        self.jars = self.cache / f"kafka-{VERSION}"

    def ports(self) -> dict[str, int]:
        return {"broker": self.port, "controller": self.controller}

    def urls(self) -> dict[str, str]:
        address = f"127.0.0.1:{self.port}"
        return {
            "CIFT_KAFKA_BOOTSTRAP_SERVERS": address,
            "CIFT_TEST_KAFKA_BOOTSTRAP_SERVERS": address,
        }

    def _classpath(self) -> str:
        return str(self.jars / "*")

    def _properties(self) -> str:
        broker = f"127.0.0.1:{self.port}"
        controller = f"127.0.0.1:{self.controller}"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": controller,
            "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def install(self) -> None:
        fetch_runtime("kafka", VERSION, self.jars)
        config = self.folder / "server.properties"
        config.write_text(self._properties())
        (self.folder / "log4j2.properties").write_text(LOG4J.format(log=self.log, level="INFO"))
        (self.folder / "tools-log4j2.properties").write_text(
            LOG4J.format(log=self.folder / "tools.log", level="WARN")
        )
        formatted = self.data / "meta.properties"
        marker = self.folder / "formatted-for"
        if formatted.exists():
            formatted_for = marker.read_text().strip() if marker.exists() else ""
            if formatted_for and formatted_for != str(self.controller):
                raise ServiceError(
                    f"Kafka's storage was formatted for controller port {formatted_for}, not "
                    f"{self.controller}; run 'services.py clean kafka' to start afresh."
                )
            return
        # A cluster id is 16 random bytes in URL-safe base64, as Kafka's random-uuid prints.
        cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        run(
            [
                java(),
                f"-Dlog4j2.configurationFile={self.folder / 'tools-log4j2.properties'}",
                "-cp",
                self._classpath(),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster,
                "-c",
                str(config),
                "--standalone",
            ],
            what="formatting Kafka's storage",
            timeout=120,
        )
        marker.write_text(f"{self.controller}\n")

    def launch(self) -> int:
        heap = os.environ.get("CIFT_SERVICES_KAFKA_HEAP", "512m")
        return self.spawn(
            [
                java(),
                f"-Xmx{heap}",
                f"-Xms{heap}",
                "-XX:+UseG1GC",
                f"-Dlog4j2.configurationFile={self.folder / 'log4j2.properties'}",
                "-cp",
                self._classpath(),
                "kafka.Kafka",
                str(self.folder / "server.properties"),
            ],
        )

    def ready(self) -> bool:
        """The broker answers an ApiVersions (v0) request with no error."""
        client = b"cift-services"
        body = struct.pack(">hhih", API_VERSIONS_KEY, 0, 7, len(client)) + client
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                conn.sendall(struct.pack(">i", len(body)) + body)
                header = _read(conn, 4)
                reply = _read(conn, struct.unpack(">i", header)[0])
        except (OSError, struct.error):
            return False
        correlation, error = struct.unpack(">ih", reply[:6])
        return bool(correlation == 7 and error == 0)

    def confirm(self) -> None:
        """Produce one record with acks=all and consume it back."""
        run(
            [
                java(),
                f"-Dlog4j2.configurationFile={self.folder / 'tools-log4j2.properties'}",
                "-cp",
                self._classpath(),
                "org.apache.kafka.tools.EndToEndLatency",
                f"127.0.0.1:{self.port}",
                READY_TOPIC,
                "1",
                "all",
                "16",
            ],
            what="a produce/consume round trip through Kafka",
            timeout=90,
        )


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data
