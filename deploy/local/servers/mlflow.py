"""An MLflow tracking server from the project's own environment, on loopback.

Runs and the model registry live in ``<home>/mlflow/mlflow.db`` (SQLite), artifacts in
``<home>/mlflow/artifacts``, served through the server (clients need no shared disk).
The ``mlflow`` command comes with ``cift[ml]``: the one beside the Python running this
script, else the project's ``.venv``, else the PATH.
"""

from __future__ import annotations

import shutil
import sys
import urllib.request
from pathlib import Path

from servers.base import Service, ServiceError, env_port

ROOT = Path(__file__).resolve().parents[3]
NO_JOB_RUNNERS = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
"""MLflow's job runners (seven huey consumer processes, for its GenAI evaluation jobs)
are off: CIFT uses tracking and the registry only, and the runners cost about 2.1 GB of
memory and 30 CPU-seconds at every start."""


def mlflow_command() -> str:
    for candidate in (Path(sys.executable).parent / "mlflow", ROOT / ".venv" / "bin" / "mlflow"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("mlflow")
    if found is None:
        raise ServiceError(
            "The mlflow command is missing; install the project first (make dev, or "
            "pip install 'cift[ml]')."
        )
    return found


class MLflow(Service):
    name = "mlflow"
    ready_timeout = 90.0

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.port = env_port("CIFT_SERVICES_MLFLOW_PORT", 5000)

    def ports(self) -> dict[str, int]:
        return {"http": self.port}

    def urls(self) -> dict[str, str]:
        url = f"http://127.0.0.1:{self.port}"
        return {"CIFT_MLFLOW_TRACKING_URI": url, "CIFT_TEST_MLFLOW_TRACKING_URI": url}

    def install(self) -> None:
        mlflow_command()
        (self.folder / "artifacts").mkdir(parents=True, exist_ok=True)

    def launch(self) -> int:
        return self.spawn(
            [
                mlflow_command(),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{self.folder / 'mlflow.db'}",
                "--artifacts-destination",
                str(self.folder / "artifacts"),
            ],
            env=NO_JOB_RUNNERS,
        )

    def ready(self) -> bool:
        """``GET /health`` answers OK."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False
