"""``.github/workflows/ci.yml``: actionlint finds nothing in it, and it runs what
``.ci/run`` runs (servers up, ``make test`` with ``CI=true``, servers down whatever
happened) plus a build of the deployment image."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def lint(actionlint: Path, workflow: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(actionlint), "-no-color", str(workflow)],
        capture_output=True,
        text=True,
        cwd=workflow.parent,
        timeout=120,
        check=False,
    )


def test_actionlint_finds_nothing(actionlint: Path) -> None:
    done = lint(actionlint, WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_copy(actionlint: Path, tmp_path: Path) -> None:
    text = WORKFLOW.read_text()
    assert "node-version:" in text
    broken = tmp_path / "ci.yml"
    broken.write_text(text.replace("node-version:", "node-versoin:", 1))
    done = lint(actionlint, broken)
    assert done.returncode != 0
    assert "node-versoin" in done.stdout


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def test_the_test_job_runs_the_ci_script_steps() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"]["test"]
    assert job["runs-on"].startswith("ubuntu-")
    assert job["env"]["CI"] == "true"
    runs = [step.get("run", "").strip() for step in steps(job)]
    order = [runs.index(command) for command in ("make services-up", "make test")]
    assert order == sorted(order)
    (down,) = [step for step in steps(job) if step.get("run", "").strip() == "make services-down"]
    assert down["if"].replace(" ", "") == "${{always()}}"
    used = {step["uses"].split("@")[0] for step in steps(job) if "uses" in step}
    assert {"actions/setup-node", "actions/setup-java", "actions/setup-go"} <= used
    assert "actions/upload-artifact" in used


def test_the_image_job_builds_the_dockerfile_without_pushing() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (build,) = [
        step
        for step in steps(workflow["jobs"]["image"])
        if step.get("uses", "").startswith("docker/build-push-action@")
    ]
    assert build["with"]["file"] == "deploy/Dockerfile"
    assert build["with"]["push"] is False


def test_every_action_is_pinned_to_a_version() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    for job in workflow["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+(\.\d+)*", step["uses"]), step["uses"]
