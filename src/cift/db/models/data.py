"""Market-data bookkeeping: which backfill chunks are already in the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cift.db.base import Base
from cift.db.models.monitoring import BigIntPK
from cift.db.types import UTCDateTime


class BackfillCheckpoint(Base):
    """One (provider, kind, timeframe, symbol, chunk) whose rows are all stored.

    A re-run of the same backfill skips these chunks; a chunk interrupted half-way has no
    row here and is fetched again (the store ignores rows it already holds).
    """

    __tablename__ = "backfill_checkpoints"
    __table_args__ = (
        Index(
            "ix_backfill_checkpoints_chunk",
            "provider",
            "kind",
            "timeframe",
            "symbol",
            "chunk_start",
            "chunk_end",
            unique=True,
        ),
        CheckConstraint("chunk_end > chunk_start", name="chunk_not_empty"),
        CheckConstraint("rows >= 0", name="rows_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))
    timeframe: Mapped[str] = mapped_column(String(20), default="")
    symbol: Mapped[str] = mapped_column(String(64))
    chunk_start: Mapped[datetime] = mapped_column(UTCDateTime())
    chunk_end: Mapped[datetime] = mapped_column(UTCDateTime())
    rows: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
