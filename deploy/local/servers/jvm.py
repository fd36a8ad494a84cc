"""Java servers fetched from Maven Central with Maven into ``<home>/cache``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from servers.base import ServiceError, run

POM = Path(__file__).resolve().parent.parent / "pom.xml"


def java() -> str:
    """The ``java`` of ``JAVA_HOME``, else the one on the PATH (17 or newer)."""
    home = os.environ.get("JAVA_HOME")
    candidate = Path(home) / "bin" / "java" if home else None
    if candidate is not None and candidate.exists():
        return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise ServiceError(
            "java is missing; install a JDK 17 or newer (apt-get install openjdk-17-jre-headless)."
        )
    return found


def maven(arguments: list[str], what: str) -> None:
    """Run Maven in batch mode against Maven Central (``~/.m2`` is its cache)."""
    if shutil.which("mvn") is None:
        raise ServiceError(f"{what} needs Maven (apt-get install maven).")
    print(f"{what} ...", flush=True)
    run(["mvn", "-B", "-q", "-f", str(POM), *arguments], what=what, timeout=900)


def fetch_runtime(profile: str, version: str, folder: Path) -> Path:
    """The runtime jars of the pom's ``profile`` at ``version`` in ``folder``, downloaded
    on first use (into a side folder renamed when complete, so a broken fetch is redone)."""
    done = folder / ".complete"
    if done.exists():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    maven(
        [
            "dependency:copy-dependencies",
            f"-P{profile}",
            f"-D{profile}.version={version}",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial}",
        ],
        f"fetching {profile} {version} and its dependencies from Maven Central",
    )
    (partial / ".complete").write_text(version + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder
