#!/usr/bin/env python3
"""Install the checking tools the deployment tests need, each only when it is missing.

    python deploy/local/tools.py [prometheus] [actionlint] [compose]   (default: all)

- ``prometheus`` and ``promtool``: Debian's ``prometheus`` package (as root, or through
  ``sudo -n``), to check the Prometheus configuration and alert rules.
- ``actionlint``: built with Go into ``.tools/bin`` at the repository root, to check the
  GitHub Actions workflow.
- Docker Compose: built with Go from its module source and installed as the Docker CLI
  plugin ``~/.docker/cli-plugins/docker-compose`` (``$DOCKER_CONFIG/cli-plugins`` when
  set), so ``docker compose config`` checks ``deploy/docker-compose.yml``; no Docker
  engine is needed for that.

Go comes from the PATH or ``/usr/local/go/bin/go``. A tool of the wanted version is
left alone. Prints each tool with its path and version; exits 1 with the reason when one
cannot be installed.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from servers.base import ServiceError, apt_install, run

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "bin"
ACTIONLINT_VERSION = "v1.7.12"
ACTIONLINT_PACKAGE = "github.com/rhysd/actionlint/cmd/actionlint"
COMPOSE_VERSION = "v5.6.0"
COMPOSE_MODULE = "github.com/docker/compose/v5"
# the variable compose's own Makefile sets (GO_LDFLAGS: -X ${PKG}/internal.Version=...)
COMPOSE_VERSION_VARIABLE = f"{COMPOSE_MODULE}/internal.Version"
GO_FALLBACK = Path("/usr/local/go/bin/go")
BUILD_TIMEOUT_SECONDS = 1800.0


def plugin_folder() -> Path:
    """Where the Docker CLI looks for its plugins (``$DOCKER_CONFIG/cli-plugins``)."""
    config = os.environ.get("DOCKER_CONFIG", "").strip()
    return (Path(config) if config else Path.home() / ".docker").expanduser() / "cli-plugins"


def go_command() -> str:
    found = shutil.which("go")
    if found:
        return found
    if GO_FALLBACK.exists():
        return str(GO_FALLBACK)
    raise ServiceError(
        "Go is missing; it builds actionlint and Docker Compose. Install Go 1.26 or newer "
        "(https://go.dev/dl/) so that 'go' is on the PATH or at /usr/local/go/bin/go."
    )


def version_of(binary: Path, *args: str) -> str:
    """The first line a tool prints for its version, or '' when it does not run."""
    try:
        return run([str(binary), *args], what=f"{binary.name} version", timeout=30).strip()
    except ServiceError:
        return ""


def prometheus() -> list[str]:
    """promtool and prometheus from Debian's package."""
    apt_install(["prometheus"], "promtool")
    lines = []
    for name in ("prometheus", "promtool"):
        found = shutil.which(name)
        if found is None:
            raise ServiceError(
                f"{name} is still missing after installing Debian's prometheus package."
            )
        version = version_of(Path(found), "--version").splitlines()
        lines.append(f"{name:<15} {found}  ({version[0] if version else 'version unknown'})")
    return lines


def actionlint() -> list[str]:
    """actionlint of the wanted version in .tools/bin, built with ``go install``."""
    binary = TOOLS_BIN / "actionlint"
    current = version_of(binary, "-version").splitlines()
    if not current or current[0] != ACTIONLINT_VERSION:
        go = go_command()
        print(f"building actionlint {ACTIONLINT_VERSION} with Go ...", flush=True)
        TOOLS_BIN.mkdir(parents=True, exist_ok=True)
        run(
            [go, "install", f"{ACTIONLINT_PACKAGE}@{ACTIONLINT_VERSION}"],
            what=f"go install actionlint@{ACTIONLINT_VERSION}",
            timeout=BUILD_TIMEOUT_SECONDS,
            env={**os.environ, "GOBIN": str(TOOLS_BIN)},
        )
        current = version_of(binary, "-version").splitlines()
        if not current or current[0] != ACTIONLINT_VERSION:
            raise ServiceError(
                f"actionlint at {binary} reports {current[:1]} after the build, "
                f"not {ACTIONLINT_VERSION}."
            )
    return [f"{'actionlint':<15} {binary}  ({current[0]})"]


def compose() -> list[str]:
    """The Docker Compose CLI plugin of the wanted version, built from its module source.

    ``go install`` refuses the module (its go.mod has ``exclude`` directives), so the
    source is downloaded, copied somewhere writable and built the way its Makefile does.
    """
    binary = plugin_folder() / "docker-compose"
    wanted = COMPOSE_VERSION.removeprefix("v")
    current = version_of(binary, "version", "--short").removeprefix("v")
    if current == wanted:
        return [f"{'docker compose':<15} {binary}  ({current})"]
    go = go_command()
    print(
        f"building Docker Compose {COMPOSE_VERSION} with Go"
        + (f" (found {current!r})" if current else "")
        + " ...",
        flush=True,
    )
    download = json.loads(
        run(
            [go, "mod", "download", "-json", f"{COMPOSE_MODULE}@{COMPOSE_VERSION}"],
            what=f"go mod download {COMPOSE_MODULE}@{COMPOSE_VERSION}",
            timeout=BUILD_TIMEOUT_SECONDS,
        )
    )
    if download.get("Error") or not download.get("Dir"):
        raise ServiceError(f"go mod download of {COMPOSE_MODULE}: {download.get('Error')}")
    binary.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="compose-build-") as scratch:
        source = Path(scratch) / "src"
        shutil.copytree(download["Dir"], source, symlinks=True)
        _make_writable(source)  # the module cache is read-only
        built = Path(scratch) / "docker-compose"
        run(
            [
                go,
                "build",
                "-trimpath",
                "-ldflags",
                f"-s -w -X {COMPOSE_VERSION_VARIABLE}={COMPOSE_VERSION}",
                "-o",
                str(built),
                "./cmd",
            ],
            what=f"go build of Docker Compose {COMPOSE_VERSION}",
            timeout=BUILD_TIMEOUT_SECONDS,
            cwd=source,
        )
        staged = binary.with_name(".docker-compose.new")
        shutil.copyfile(built, staged)
        staged.chmod(0o755)
        staged.replace(binary)
    current = version_of(binary, "version", "--short").removeprefix("v")
    if current != wanted:
        raise ServiceError(f"{binary} reports {current!r} after the build, not {wanted}.")
    return [f"{'docker compose':<15} {binary}  ({current})"]


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


INSTALLS = {"prometheus": prometheus, "actionlint": actionlint, "compose": compose}


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(INSTALLS))
    if unknown:
        print(f"unknown tool(s) {unknown}; choose from {sorted(INSTALLS)}", file=sys.stderr)
        return 2
    failures = 0
    for install in (INSTALLS[name] for name in names or INSTALLS):
        try:
            lines = install()
        except ServiceError as exc:
            print(f"{install.__name__}: {exc}", file=sys.stderr)
            failures += 1
            continue
        print("\n".join(lines), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
