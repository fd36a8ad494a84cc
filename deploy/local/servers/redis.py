"""Redis from Debian's packages, on loopback, its dump file in ``<home>/redis/data``."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from servers.base import Service, ServiceError, apt_install, env_port


class Redis(Service):
    name = "redis"
    ready_timeout = 30.0

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.port = env_port("CIFT_SERVICES_REDIS_PORT", 6379)
        self.data = self.folder / "data"

    def ports(self) -> dict[str, int]:
        return {"resp": self.port}

    def urls(self) -> dict[str, str]:
        url = f"redis://127.0.0.1:{self.port}/0"
        return {"CIFT_REDIS_URL": url, "CIFT_TEST_REDIS_URL": url}

    def install(self) -> None:
        apt_install(["redis-server"], "redis-server")
        self.data.mkdir(parents=True, exist_ok=True)

    def launch(self) -> int:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("redis-server is missing after installing it.")
        return self.spawn(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "yes",
                "--dir",
                str(self.data),
                "--daemonize",
                "no",
                "--appendonly",  # the bus's streams survive a crash, not only a clean stop
                "yes",
                "--appendfsync",
                "everysec",
                "--logfile",
                "",
            ],
        )

    def ready(self) -> bool:
        """PING answered with PONG (RESP over a plain socket)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False
