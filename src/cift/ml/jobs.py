"""Dataset builds, cross-validations and training runs as background jobs (the API's).

A job is a ``training_jobs`` row, owned like the configuration it trains: queued when
submitted, run in a spawned worker process that reports its stage and progress, and
ended ``succeeded`` with its result (the dataset's manifest, or the run's summary) or
``failed`` with the reason. A server that stops hands back what it could not finish.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import CiftError
from cift.core.jobs import WorkerPool, throttled
from cift.core.logging import configure_logging
from cift.core.settings import Settings
from cift.db.base import utcnow
from cift.db.models import JobStatus, TrainingJob
from cift.db.opening import metadata_sessions
from cift.db.repositories.jobs import end_job, start_job
from cift.db.repositories.owned import OwnedRecords
from cift.ml.configurations import configurations
from cift.ml.crossval import Judge, ValidationPlan
from cift.ml.datasets import build_configured
from cift.ml.training import dataset_spec, run_training
from cift.model.fields import Symbol

Kind = Literal["dataset", "cv", "train"]


class TrainingRequest(BaseModel):
    """What to build, cross-validate or train, on which stored bars."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(description="dataset (build only), cv (and log), or train (and register).")
    configuration_id: uuid.UUID = Field(description="One of your model configurations.")
    symbols: list[Symbol] = Field(min_length=1, max_length=500, description="Stored symbols.")
    start: datetime | None = Field(None, description="First row's time (inclusive, UTC).")
    end: datetime | None = Field(None, description="End of the bars read (exclusive, UTC).")
    plan: ValidationPlan = Field(default_factory=ValidationPlan, description="How to validate.")
    parallel: bool = Field(False, description="Folds on the Dask cluster instead of in turn.")


def training_jobs(db: sessionmaker[Session]) -> OwnedRecords[TrainingJob]:
    return OwnedRecords(db, TrainingJob, "training job", "GET /api/v1/ml/jobs")


class TrainingJobs:
    """Training jobs on a pool of worker processes."""

    def __init__(
        self,
        settings: Settings,
        db: sessionmaker[Session],
        workers: int = 1,
        judge: Judge | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.workers = WorkerPool(workers, kind="training")
        self.judge = judge  # module-level, so it pickles into the workers

    def submit(self, owner: uuid.UUID, request: TrainingRequest) -> TrainingJob:
        """Record the job as queued (the configuration must be the owner's) and start it."""
        row = configurations(self.db).get(request.configuration_id, owner)
        job = training_jobs(self.db).add(
            lambda _: TrainingJob(
                user_id=owner,
                model_configuration_id=row.id,
                kind=request.kind,
                request=request.model_dump(mode="json"),
                status=JobStatus.QUEUED,
            )
        )
        self.workers.submit(job.id, _work, self.settings, job.id, owner, self.judge)
        return job

    def wait(self, job_id: uuid.UUID, timeout: float | None = None) -> None:
        self.workers.wait(job_id, timeout)

    def shutdown(self) -> None:
        def unfinished(job_id: uuid.UUID, stage: str) -> None:
            _end(
                self.db,
                job_id,
                JobStatus.CANCELLED,
                error=f"The server stopped before it {stage}; submit it again.",
            )

        self.workers.shutdown(unfinished)


def _end(db: sessionmaker[Session], job_id: uuid.UUID, status: JobStatus, **values: Any) -> None:
    """End the job unless it has ended already (then the first outcome stands)."""
    with db.begin() as session:
        if not end_job(session, TrainingJob, job_id, status, **values):
            logger.info("training job {} had ended: not {}", job_id, status)


def _work(
    settings: Settings, job_id: uuid.UUID, owner: uuid.UUID, judge: Judge | None = None
) -> None:
    """Run one job in a worker process; its outcome is recorded, never raised."""
    configure_logging(settings)
    with metadata_sessions(settings, upgrade=False) as db:
        try:
            job = training_jobs(db).get(job_id, owner)
            with db.begin() as session:
                started = start_job(session, TrainingJob, job_id, started_at=utcnow())
            if not started:
                logger.warning("training job {} had ended before a worker came to it", job_id)
                return
            result = _run(settings, db, job, owner, judge)
            _end(db, job_id, JobStatus.SUCCEEDED, result=result, progress=1.0)
        except CiftError as exc:
            logger.warning("training job {} failed: {}", job_id, exc.message)
            _end(db, job_id, JobStatus.FAILED, error=exc.message)
        except Exception as exc:
            logger.exception("training job {} failed", job_id)
            _end(db, job_id, JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")


def _run(
    settings: Settings,
    db: sessionmaker[Session],
    job: TrainingJob,
    owner: uuid.UUID,
    judge: Judge | None,
) -> dict[str, Any]:
    request = TrainingRequest.model_validate(job.request)
    row = configurations(db).get(request.configuration_id, owner)
    spec = dataset_spec(row, list(request.symbols), request.start, request.end)
    report = throttled(
        lambda stage, fraction: training_jobs(db).change(
            job.id, owner, stage=stage, progress=min(fraction, 1.0)
        )
    )
    if request.kind == "dataset":
        dataset = build_configured(settings, spec, lambda d, n: report("dataset", d / n))
        manifest: dict[str, Any] = dataset.manifest()
        return manifest
    outcome = run_training(
        settings,
        db,
        row,
        spec,
        request.plan,
        register=request.kind == "train",
        parallel=request.parallel,
        progress=report,
        judge=judge,
    )
    return outcome.to_dict()
