"""Research records: model configurations and backtest runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cift.db.base import Base, OwnedByUser, Timestamps, str_enum
from cift.db.types import JSONDocument, Money, UTCDateTime


class ModelStatus(StrEnum):
    """Lifecycle of a model configuration."""

    DRAFT = "draft"
    TRAINED = "trained"
    DEPLOYED = "deployed"
    ARCHIVED = "archived"


class JobStatus(StrEnum):
    """Lifecycle of a background job such as a backtest."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ModelConfiguration(OwnedByUser, Timestamps, Base):
    """A versioned model definition: algorithm, feature set, hyper-parameters, results."""

    __tablename__ = "model_configurations"
    __table_args__ = (
        Index(
            "ix_model_configurations_user_id_name_version",
            "user_id",
            "name",
            "version",
            unique=True,
        ),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)
    model_type: Mapped[str] = mapped_column(String(50))
    feature_set: Mapped[str | None] = mapped_column(String(100))
    feature_set_hash: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ModelStatus] = mapped_column(
        str_enum(ModelStatus, "status"), default=ModelStatus.DRAFT
    )
    description: Mapped[str | None] = mapped_column(Text)


class Backtest(OwnedByUser, Timestamps, Base):
    """One recorded backtest run: enough to reproduce it and its results."""

    __tablename__ = "backtests"
    __table_args__ = (
        Index("ix_backtests_user_id_created_at", "user_id", "created_at"),
        Index("ix_backtests_status", "status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_fraction"),
        CheckConstraint("end_at IS NULL OR start_at IS NULL OR end_at >= start_at", name="range"),
        CheckConstraint("CAST(initial_cash AS NUMERIC) > 0", name="initial_cash_positive"),
    )

    model_configuration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("model_configurations.id", ondelete="SET NULL")
    )
    name: Mapped[str | None] = mapped_column(String(200))
    strategy: Mapped[str] = mapped_column(String(100))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    config: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    symbols: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    data_hash: Mapped[str | None] = mapped_column(String(64))
    code_version: Mapped[str | None] = mapped_column(String(64))
    initial_cash: Mapped[Decimal] = mapped_column(Money())
    final_equity: Mapped[Decimal | None] = mapped_column(Money())
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "status"), default=JobStatus.QUEUED
    )
    progress: Mapped[float] = mapped_column(default=0.0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    artifacts: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrainingJob(OwnedByUser, Timestamps, Base):
    """A dataset build, cross-validation or training run started through the API."""

    __tablename__ = "training_jobs"
    __table_args__ = (
        Index("ix_training_jobs_user_id_created_at", "user_id", "created_at"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_fraction"),
    )

    model_configuration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("model_configurations.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(20))
    request: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "status"), default=JobStatus.QUEUED
    )
    stage: Mapped[str | None] = mapped_column(String(20))
    progress: Mapped[float] = mapped_column(default=0.0)
    result: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
