"""The checking tools the deployment tests run (``make tools`` installs them).

A tool is looked for on the PATH, in ``.tools/bin`` and, for Docker Compose, where the
Docker CLI keeps its plugins. A missing tool skips its tests locally and fails them when
``CI=true``, as a missing server does (``tests/servers.py``).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest

from tests.servers import tool_missing

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TOOLS_BIN = ROOT / ".tools" / "bin"
PLUGIN_FOLDERS = (
    Path("/usr/local/lib/docker/cli-plugins"),
    Path("/usr/libexec/docker/cli-plugins"),
    Path("/usr/lib/docker/cli-plugins"),
)


def find_tool(name: str, *folders: Path) -> Path | None:
    """``name`` on the PATH, else in ``.tools/bin`` or one of ``folders``."""
    found = shutil.which(name)
    if found:
        return Path(found)
    for folder in (TOOLS_BIN, *folders):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def docker_plugin_folders() -> list[Path]:
    config = os.environ.get("DOCKER_CONFIG", "").strip()
    user = (Path(config) if config else Path.home() / ".docker").expanduser()
    return [user / "cli-plugins", *PLUGIN_FOLDERS]


@pytest.fixture(scope="session")
def compose() -> Path:
    """The Docker Compose v2 binary (run standalone: no Docker engine is needed)."""
    found = find_tool("docker-compose", *docker_plugin_folders())
    if found is None:
        tool_missing("Docker Compose (docker-compose)")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def actionlint() -> Path:
    found = find_tool("actionlint")
    if found is None:
        tool_missing("actionlint")
    assert found is not None
    return found


def env_example() -> dict[str, str]:
    """The variables of ``deploy/.env.example``, in order."""
    values: dict[str, str] = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def filled_env_example() -> dict[str, str]:
    """``.env.example`` with every empty secret filled in as its comment says."""
    return {
        name: value or (secrets.token_hex(32) if is_secret(name) else value)
        for name, value in env_example().items()
    }


def is_secret(name: str) -> bool:
    return name == "CIFT_SECRET_KEY" or name.endswith("_PASSWORD")


def write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return path


def clean_environment() -> dict[str, str]:
    """Only what the tools need, so a developer's own variables cannot fill a secret."""
    keep = ("PATH", "HOME", "DOCKER_CONFIG", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ}
