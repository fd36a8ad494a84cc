"""Servers for tests that need one over the network: a real ``cift serve`` process on a
free port, and the tests' own local HTTP servers answering from a thread (``threaded``)."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from cift.core.settings import load_settings
from cift.data.stream.board import Board, open_board


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def held_port() -> Iterator[int]:
    """A loopback port another program listens on, for as long as the block runs."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


FAST_HASHING_ENV = {"CIFT_ARGON2_MEMORY_KIB": "8192", "CIFT_ARGON2_TIME_COST": "1"}
"""Cheap password hashing for a server whose tests sign in many times (each login with
the default 64 MiB takes a good part of a second on a busy machine)."""


@contextmanager
def threaded(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """``server`` answering from a thread until the block ends, then closed. It checks for
    the end every 50 ms: http.server's default half second is paid by every test that
    stops one."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIFT_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return {**env, "CIFT_HOME": str(home), **extra}


def stream_board(home: Path, env: dict[str, str]) -> Board:
    """The stream board the ``cift stream`` processes of ``home`` and ``env`` post to,
    read as they write it."""
    fields = {name.removeprefix("CIFT_").lower(): value for name, value in env.items()}
    return open_board(load_settings(home=home, **fields))


class Server:
    def __init__(self, home: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        tls = "--tls-certfile" in args
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.verify: ssl.SSLContext | bool = True
        if tls:  # trust the server's own self-signed certificate
            self.verify = ssl.create_default_context(cafile=args[args.index("--tls-certfile") + 1])
        self.log = home.parent / f"serve-{self.port}.log"
        with self.log.open("w") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cift", "serve", "--port", str(self.port), *args],
                env=environment(home, **env),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 30, every: float = 0.2) -> httpx.Response:
        """The first answer of ``/health/ready``, asked every ``every`` seconds."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2, verify=self.verify) as client:  # one TLS set-up
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"server exited early:\n{self.log.read_text()}")
                try:
                    return client.get(f"{self.base}/health/ready")
                except httpx.TransportError:
                    time.sleep(every)
        pytest.fail(f"server not up after {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text()
