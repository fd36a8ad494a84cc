"""What every local server shares: its folder, process, readiness wait and failure report.

A server lives in ``<home>/<name>/`` (data, ``server.log``, ``server.pid``); downloads go
to ``<home>/cache/``. Starting waits for real readiness (a query, a round trip), never
for a sleep; a server that does not come up fails with the last lines of its log.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOG_TAIL_LINES = 25


class ServiceError(Exception):
    """A server could not be installed, started or stopped; the message says what to do."""


@dataclass
class Status:
    """One server as ``status`` reports it."""

    name: str
    up: bool
    detail: str
    pid: int | None = None
    urls: dict[str, str] = field(default_factory=dict)
    log: str = ""
    started: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "up": self.up,
            "detail": self.detail,
            "pid": self.pid,
            "urls": self.urls,
            "log": self.log,
            "started": self.started,
        }


def env_port(variable: str, default: int) -> int:
    """A port from the environment (``CIFT_SERVICES_*_PORT``) or its default."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ServiceError(f"{variable}={text!r} is not a port number (1-65535).")
    return int(text)


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (ours, not yet reaped) is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file, indented, or a note that it is empty."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"    (no log at {path})"
    chosen = [line for line in text if line.strip()][-lines:]
    return "\n".join(f"    {line}" for line in chosen) or f"    ({path} is empty)"


def wait_until(check: Callable[[], bool], timeout: float, alive: Callable[[], bool]) -> bool:
    """Poll ``check`` until it holds, the process dies, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while time.monotonic() < deadline:
        if check():
            return True
        if not alive():
            return check()
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
    return False


def run(command: Sequence[str], *, what: str, timeout: float = 600, **kwargs: Any) -> str:
    """Run a helper command; its output, or a ``ServiceError`` with the output's tail."""
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout, check=False, **kwargs
        )
    except FileNotFoundError:
        raise ServiceError(f"{what}: {command[0]} is not installed.") from None
    except subprocess.TimeoutExpired:
        raise ServiceError(f"{what}: '{' '.join(command)}' took over {timeout:.0f} s.") from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()[-LOG_TAIL_LINES:]
        shown = "\n".join(f"    {line}" for line in output)
        raise ServiceError(f"{what} failed (exit {done.returncode}):\n{shown}")
    return str(done.stdout)


def apt_install(packages: Sequence[str], binary: str) -> None:
    """Install Debian packages (as root, or through sudo) when ``binary`` is missing."""
    if shutil.which(binary):
        return
    prefix: list[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and not shutil.which("sudo"):
        raise ServiceError(
            f"{binary} is missing; install it as root: apt-get install {' '.join(packages)}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing {' '.join(packages)} from Debian's packages ...", flush=True)
    if not Path("/var/lib/apt/lists").exists() or not any(
        Path("/var/lib/apt/lists").glob("*_Packages*")
    ):
        run([*prefix, "apt-get", "update", "-q"], what="apt-get update", env=env)
    command = [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    try:
        run(command, what=f"apt-get install {' '.join(packages)}", env=env)
    except ServiceError:
        run([*prefix, "apt-get", "update", "-q"], what="apt-get update", env=env)
        run(command, what=f"apt-get install {' '.join(packages)}", env=env)


class Service:
    """A server run from ``<home>/<name>``: subclasses say how to install, start and check."""

    name = ""
    ready_timeout = 60.0
    lane = "debian"
    """Servers of one lane start one after another, as they share an installer (Debian's
    apt, the Maven cache of the JVM servers); the lanes start side by side."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.folder = home / self.name
        self.log = self.folder / "server.log"
        self.pid_file = self.folder / "server.pid"
        self.cache = home / "cache"

    # what subclasses provide ---------------------------------------------------------

    def ports(self) -> dict[str, int]:
        """Every port the server listens on, by role."""
        raise NotImplementedError

    def urls(self) -> dict[str, str]:
        """How clients reach it (settings and test variables)."""
        raise NotImplementedError

    def install(self) -> None:
        """Fetch or install what the server runs from (idempotent)."""
        raise NotImplementedError

    def launch(self) -> int:
        """Start the server process; its pid."""
        raise NotImplementedError

    def ready(self) -> bool:
        """A real check that the server answers (a query, a round trip)."""
        raise NotImplementedError

    def confirm(self) -> None:
        """A deeper check run once after start (default: none)."""

    def halt(self, pid: int) -> None:
        """Stop the server politely (default: SIGTERM)."""
        os.kill(pid, signal.SIGTERM)

    # shared behaviour -----------------------------------------------------------------

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        return pid_alive(self.pid())

    def status(self) -> Status:
        pid = self.pid()
        alive = pid_alive(pid)
        up = alive and self._ready_quietly()
        ports = ", ".join(f"{role} {port}" for role, port in self.ports().items())
        if up:
            detail = f"up on {ports}"
        elif alive:
            detail = f"process {pid} runs but does not answer on {ports}; see {self.log}"
        else:
            detail = "down"
        return Status(self.name, up, detail, pid if alive else None, self.urls(), str(self.log))

    def _ready_quietly(self) -> bool:
        try:
            return self.ready()
        except ServiceError:
            return False

    def up(self) -> Status:
        """Start the server unless it is up already; wait until it answers."""
        current = self.status()
        if current.up:
            current.detail = f"already up on {current.detail.removeprefix('up on ')}"
            return current
        if self.running():
            raise ServiceError(
                f"{self.name}: {current.detail}. Stop it (services.py down {self.name}) "
                "and start it again."
            )
        self._check_ports_free()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.install()
        pid = self.launch()
        if self.pid() != pid:
            self.pid_file.write_text(f"{pid}\n")
        if not wait_until(self._ready_quietly, self.ready_timeout, lambda: pid_alive(pid)):
            self.down()
            reason = (
                "exited" if not pid_alive(pid) else f"did not answer in {self.ready_timeout:.0f} s"
            )
            raise ServiceError(
                f"{self.name} {reason}. Last lines of {self.log}:\n{tail(self.log)}\n"
                f"Fix the cause above (a port taken, a full disk), then run "
                f"'services.py up {self.name}' again."
            )
        self.confirm()
        status = self.status()
        status.started = True
        status.detail = f"started on {status.detail.removeprefix('up on ')}"
        return status

    def _check_ports_free(self) -> None:
        taken = {role: port for role, port in self.ports().items() if port_open(port)}
        if taken:
            listed = ", ".join(f"{port} ({role})" for role, port in taken.items())
            variable = f"CIFT_SERVICES_{self.name.upper()}_PORT"
            raise ServiceError(
                f"{self.name}: port {listed} is taken by another process. Stop it, or choose "
                f"other ports ({variable} and the variables in docs/development.md)."
            )

    def down(self, timeout: float = 30.0) -> Status:
        """Stop the server if it runs (politely, then by force)."""
        pid = self.pid()
        if not pid_alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return Status(self.name, False, "already down", urls=self.urls(), log=str(self.log))
        assert pid is not None
        with contextlib.suppress(ProcessLookupError, ServiceError):
            self.halt(pid)
        if not wait_until(lambda: not pid_alive(pid), timeout, lambda: pid_alive(pid)):
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 10, lambda: True)
        self.pid_file.unlink(missing_ok=True)
        return Status(
            self.name, False, f"stopped (was pid {pid})", urls=self.urls(), log=str(self.log)
        )

    def spawn(
        self,
        command: Sequence[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        **options: Any,
    ) -> int:
        """Start ``command`` in its own session, output appended to the server log (which
        we open, so a server running as another user needs no access to its path)."""
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd or self.folder,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                **options,
            )
        return process.pid

    def clean(self) -> str:
        """Delete the server's data (it must be down)."""
        if self.running():
            raise ServiceError(
                f"{self.name} is running; stop it first (services.py down {self.name})."
            )
        if self.folder.exists():
            shutil.rmtree(self.folder)
            return f"removed {self.folder}"
        return f"nothing at {self.folder}"
