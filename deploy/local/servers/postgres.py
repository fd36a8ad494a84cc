"""PostgreSQL from Debian's packages: a cluster of our own in ``<home>/postgres/data``.

Loopback TCP only (no Unix socket), trust authentication for the ``postgres`` role, and a
``cift`` database made on first start. Run as root, the server runs as the ``postgres``
system user, as PostgreSQL requires; if that user cannot reach the services folder (a
home folder closed to others), the cluster lives in ``/var/tmp`` and ``data`` links to it.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from servers.base import Service, ServiceError, apt_install, env_port, run

DATABASE = "cift"
USER = "postgres"


def _bindir() -> Path | None:
    """The folder of Debian's newest installed PostgreSQL server binaries."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    binary = shutil.which("postgres")
    return Path(binary).resolve().parent if binary else None


class Postgres(Service):
    name = "postgres"
    ready_timeout = 60.0

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.port = env_port("CIFT_SERVICES_POSTGRES_PORT", 5432)
        self.data = self.folder / "data"

    def ports(self) -> dict[str, int]:
        return {"sql": self.port}

    def urls(self) -> dict[str, str]:
        base = f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}"
        return {
            "CIFT_DATABASE_URL": f"{base}/{DATABASE}",
            "CIFT_TEST_POSTGRES_URL": f"{base}/postgres",
        }

    def _owner(self) -> dict[str, Any]:
        """Popen arguments that run a server binary as ``postgres`` when we are root."""
        return {"user": USER, "group": USER} if os.geteuid() == 0 else {}

    def _tool(self, name: str) -> str:
        bindir = _bindir()
        if bindir is None:
            raise ServiceError("PostgreSQL's server binaries are missing after installing them.")
        return str(bindir / name)

    def install(self) -> None:
        if _bindir() is None:
            apt_install(["postgresql"], "psql")
            if _bindir() is None:
                raise ServiceError(
                    "apt-get installed postgresql but its server binaries are missing."
                )
        if (self.data / "PG_VERSION").exists():
            return
        self._make_data_folder()
        run(
            [
                self._tool("initdb"),
                "-D",
                str(self.data.resolve()),
                "-U",
                USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            what="initdb",
            **self._owner(),
        )

    def _make_data_folder(self) -> None:
        if os.geteuid() != 0:
            self.data.mkdir(parents=True, exist_ok=True)
            return
        reachable = (
            subprocess.run(
                ["test", "-x", str(self.folder)], check=False, **self._owner()
            ).returncode
            == 0
        )
        target = self.data
        if not reachable:
            digest = hashlib.sha256(str(self.folder).encode()).hexdigest()[:12]
            target = Path("/var/tmp") / f"cift-services-{digest}" / "postgres"
            if self.data.is_symlink() or self.data.exists():
                self.data.unlink() if self.data.is_symlink() else shutil.rmtree(self.data)
            target.mkdir(parents=True, exist_ok=True)
            self.data.symlink_to(target)
        target.mkdir(parents=True, exist_ok=True)
        shutil.chown(target, USER, USER)
        target.chmod(0o700)

    def launch(self) -> int:
        return self.spawn(
            [
                self._tool("postgres"),
                "-D",
                str(self.data.resolve()),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=200",
            ],
            cwd=self.data.resolve(),
            **self._owner(),
        )

    def _psql(self, sql: str) -> str:
        return run(
            [
                self._tool("psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                USER,
                "-d",
                "postgres",
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
            what="psql",
            timeout=10,
            env={**os.environ, "PGCONNECT_TIMEOUT": "2"},
        )

    def ready(self) -> bool:
        return self._psql("SELECT 1").strip() == "1"

    def confirm(self) -> None:
        exists = self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'").strip()
        if not exists:
            self._psql(f'CREATE DATABASE "{DATABASE}"')

    def halt(self, pid: int) -> None:
        """SIGINT: PostgreSQL's fast shutdown (roll back sessions, checkpoint, exit)."""
        os.kill(pid, signal.SIGINT)

    def clean(self) -> str:
        if self.data.is_symlink() and not self.running():
            shutil.rmtree(self.data.resolve().parent, ignore_errors=True)
        return super().clean()
