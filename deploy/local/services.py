#!/usr/bin/env python3
"""Start, stop and check the servers CIFT runs on at scale, on this machine, without Docker.

    python3 deploy/local/services.py up [SERVICE ...]       # every server when none is named
    python3 deploy/local/services.py status [--json]
    python3 deploy/local/services.py env                     # export lines for CIFT_* settings
    python3 deploy/local/services.py down [SERVICE ...]
    python3 deploy/local/services.py clean SERVICE ...       # delete a stopped server's data

Servers: postgres and redis (Debian's packages, installed when missing), questdb and kafka
(jars from Maven Central, fetched once into the cache). Everything lives under
``$CIFT_SERVICES_HOME`` (default ``.services/`` at the repository root): one folder per
server with its data, ``server.log`` and pid, and ``cache/`` for the jars. Ports are
loopback only and overridable (``CIFT_SERVICES_<SERVER>_PORT``, see docs/development.md).
Commands are idempotent; they exit 0 when every named server ends as asked, else 1.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shlex
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from servers import SERVICES
from servers.base import Service, ServiceError, Status

ROOT = Path(__file__).resolve().parents[2]


def home() -> Path:
    configured = os.environ.get("CIFT_SERVICES_HOME", "").strip()
    return Path(configured).expanduser().resolve() if configured else ROOT / ".services"


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One command at a time changes the servers (tests and a developer may race)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def chosen(names: list[str], folder: Path) -> list[Service]:
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise SystemExit(f"unknown server(s) {unknown}; choose from {', '.join(SERVICES)}")
    return [SERVICES[n](folder) for n in (names or list(SERVICES))]


def act(command: str, services: list[Service]) -> tuple[list[Status], list[str]]:
    """Run ``command`` on each server (``up``: the lanes side by side); their statuses
    and the errors met."""
    lanes: dict[str, list[Service]] = {}
    for service in services:
        lanes.setdefault(service.lane if command == "up" else "one", []).append(service)
    with ThreadPoolExecutor(len(lanes)) as pool:
        done = pool.map(lambda lane: {s.name: _act_on(command, s) for s in lane}, lanes.values())
        outcomes = {name: outcome for lane in done for name, outcome in lane.items()}
    statuses = [outcomes[s.name][0] for s in services]
    errors = [error for s in services if (error := outcomes[s.name][1]) is not None]
    return statuses, errors


def _act_on(command: str, service: Service) -> tuple[Status, str | None]:
    began = time.monotonic()
    try:
        if command == "up":
            status = service.up()
        elif command == "down":
            status = service.down()
        elif command == "clean":
            status = Status(service.name, False, service.clean())
        else:
            status = service.status()
    except ServiceError as exc:
        log = str(service.log)
        return Status(service.name, False, f"failed: {exc}".splitlines()[0], log=log), str(exc)
    if command == "up" and status.started:
        status.detail += f" in {time.monotonic() - began:.1f} s"
    return status, None


def render(statuses: list[Status]) -> str:
    width = max(len(s.name) for s in statuses)
    lines = []
    for status in statuses:
        mark = "up  " if status.up else "down"
        pid = f" pid {status.pid}" if status.pid else ""
        lines.append(f"{status.name:<{width}}  {mark}  {status.detail}{pid}")
    return "\n".join(lines)


def exports(statuses: list[Status]) -> str:
    """Shell lines pointing CIFT's settings at the servers (test variables left out)."""
    lines: list[str] = []
    for status in statuses:
        settings = {k: v for k, v in status.urls.items() if not k.startswith("CIFT_TEST_")}
        lines.extend(f"export {k}={shlex.quote(v)}" for k, v in settings.items())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run PostgreSQL, Redis, QuestDB and Kafka locally for CIFT (no Docker).",
    )
    parser.add_argument("command", choices=["up", "down", "status", "env", "clean"])
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(SERVICES))
    parser.add_argument("--json", action="store_true", help="print one JSON object per server")
    args = parser.parse_args(argv)
    folder = home()
    if args.command == "clean" and not args.services:
        parser.error("name the server(s) whose data to delete")
    services = chosen(args.services, folder)
    if args.command in ("up", "down", "clean"):
        with locked(folder):
            statuses, errors = act(args.command, services)
    else:
        statuses, errors = act("status", services)
    if args.command == "env":
        print(exports(statuses))
    elif args.json:
        print(json.dumps({s.name: s.as_dict() for s in statuses}, indent=2))
    else:
        print(render(statuses))
    for error in errors:
        print(f"\nerror: {error}", file=sys.stderr)
    ok = not errors and (args.command not in ("up", "status") or all(s.up for s in statuses))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
