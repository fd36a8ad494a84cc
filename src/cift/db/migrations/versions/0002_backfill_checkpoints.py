"""Backfill checkpoints: which (provider, kind, timeframe, symbol, chunk) are stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cift.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backfill_checkpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("timeframe", sa.String(length=20), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("chunk_start", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("chunk_end", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("completed_at", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "chunk_end > chunk_start", name=op.f("ck_backfill_checkpoints_chunk_not_empty")
        ),
        sa.CheckConstraint("rows >= 0", name=op.f("ck_backfill_checkpoints_rows_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfill_checkpoints")),
    )
    with op.batch_alter_table("backfill_checkpoints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_backfill_checkpoints_chunk",
            ["provider", "kind", "timeframe", "symbol", "chunk_start", "chunk_end"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("backfill_checkpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_backfill_checkpoints_chunk")

    op.drop_table("backfill_checkpoints")
