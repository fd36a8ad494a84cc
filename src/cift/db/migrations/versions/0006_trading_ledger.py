"""Trading ledger: orders, order events, fills, positions, cash movements, trading halts,
account days, trading runs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cift.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_days",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opening_equity", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_account_days_account_id_trading_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_account_days")),
    )
    op.create_table(
        "positions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("quantity", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("average_price", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("realized_pnl", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("last_price", cift.db.types.Money(precision=28, scale=10), nullable=True),
        sa.Column("updated_at", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_positions_account_id_trading_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "symbol", name=op.f("pk_positions")),
    )
    op.create_table(
        "trading_halts",
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("engaged_by", sa.String(length=200), nullable=False),
        sa.Column("engaged_at", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reset_by", sa.String(length=200), nullable=True),
        sa.Column("reset_at", cift.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_trading_halts_account_id_trading_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trading_halts")),
    )
    with op.batch_alter_table("trading_halts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_trading_halts_account_id_reset_at", ["account_id", "reset_at"], unique=False
        )

    op.create_table(
        "trading_runs",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("strategy", sa.String(length=100), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "symbols",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("timeframe", sa.String(length=20), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("code_version", sa.String(length=100), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "stopped",
                "failed",
                name="state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("bars_seen", sa.Integer(), nullable=False),
        sa.Column(
            "checkpoint",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "lineage",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", cift.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            cift.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            cift.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("bars_seen >= 0", name=op.f("ck_trading_runs_bars_seen_non_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_trading_runs_account_id_trading_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_trading_runs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trading_runs")),
    )
    with op.batch_alter_table("trading_runs", schema=None) as batch_op:
        batch_op.create_index("ix_trading_runs_account_id", ["account_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("broker_order_id", sa.String(length=100), nullable=True),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("signal_id", sa.String(length=200), nullable=True),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.SmallInteger(), nullable=False),
        sa.Column(
            "order_type",
            sa.Enum(
                "market",
                "limit",
                "stop",
                "stop_limit",
                name="order_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "time_in_force",
            sa.Enum(
                "day",
                "gtc",
                "ioc",
                "fok",
                name="time_in_force",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("quantity", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("limit_price", cift.db.types.Money(precision=28, scale=10), nullable=True),
        sa.Column("stop_price", cift.db.types.Money(precision=28, scale=10), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "new",
                "submitted",
                "accepted",
                "partially_filled",
                "pending_cancel",
                "pending_replace",
                "filled",
                "canceled",
                "rejected",
                "expired",
                "replaced",
                name="state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("filled_quantity", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("average_price", cift.db.types.Money(precision=28, scale=10), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("tag", sa.String(length=100), nullable=True),
        sa.Column("submitted_at", cift.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", cift.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            cift.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            cift.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "CAST(filled_quantity AS NUMERIC) <= CAST(quantity AS NUMERIC)",
            name=op.f("ck_orders_filled_within_quantity"),
        ),
        sa.CheckConstraint(
            "CAST(quantity AS NUMERIC) > 0", name=op.f("ck_orders_quantity_positive")
        ),
        sa.CheckConstraint("side IN (1, -1)", name=op.f("ck_orders_side_sign")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_orders_account_id_trading_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["orders.id"],
            name=op.f("fk_orders_replaces_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["trading_runs.id"],
            name=op.f("fk_orders_run_id_trading_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "account_id", "broker_order_id", name=op.f("uq_orders_account_id_broker_order_id")
        ),
        sa.UniqueConstraint("client_order_id", name=op.f("uq_orders_client_order_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_account_id_state", ["account_id", "state"], unique=False)
        batch_op.create_index("ix_orders_run_id", ["run_id"], unique=False)

    op.create_table(
        "fills",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("broker_fill_id", sa.String(length=100), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.SmallInteger(), nullable=False),
        sa.Column("quantity", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("price", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("commission", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("realized_pnl", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("filled_at", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("booked_at", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "CAST(quantity AS NUMERIC) > 0", name=op.f("ck_fills_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_fills_account_id_trading_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fills_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint(
            "account_id", "broker_fill_id", name=op.f("uq_fills_account_id_broker_fill_id")
        ),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fills_account_id_filled_at", ["account_id", "filled_at"], unique=False
        )
        batch_op.create_index("ix_fills_order_id", ["order_id"], unique=False)

    op.create_table(
        "order_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column(
            "state_before",
            sa.Enum(
                "new",
                "submitted",
                "accepted",
                "partially_filled",
                "pending_cancel",
                "pending_replace",
                "filled",
                "canceled",
                "rejected",
                "expired",
                "replaced",
                name="state_before",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "state_after",
            sa.Enum(
                "new",
                "submitted",
                "accepted",
                "partially_filled",
                "pending_cancel",
                "pending_replace",
                "filled",
                "canceled",
                "rejected",
                "expired",
                "replaced",
                name="state_after",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("quantity", cift.db.types.Money(precision=28, scale=10), nullable=True),
        sa.Column("price", cift.db.types.Money(precision=28, scale=10), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_events_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index("ix_order_events_order_id_id", ["order_id", "id"], unique=False)

    op.create_table(
        "cash_movements",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "deposit",
                "withdrawal",
                "trade",
                "commission",
                name="kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("amount", cift.db.types.Money(precision=28, scale=10), nullable=False),
        sa.Column("fill_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", cift.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["trading_accounts.id"],
            name=op.f("fk_cash_movements_account_id_trading_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fill_id"],
            ["fills.id"],
            name=op.f("fk_cash_movements_fill_id_fills"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_movements")),
    )
    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cash_movements_account_id_occurred_at", ["account_id", "occurred_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_cash_movements_account_id_occurred_at")

    op.drop_table("cash_movements")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_events_order_id_id")

    op.drop_table("order_events")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index("ix_fills_order_id")
        batch_op.drop_index("ix_fills_account_id_filled_at")

    op.drop_table("fills")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_run_id")
        batch_op.drop_index("ix_orders_account_id_state")

    op.drop_table("orders")
    with op.batch_alter_table("trading_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_trading_runs_account_id")

    op.drop_table("trading_runs")
    with op.batch_alter_table("trading_halts", schema=None) as batch_op:
        batch_op.drop_index("ix_trading_halts_account_id_reset_at")

    op.drop_table("trading_halts")
    op.drop_table("positions")
    op.drop_table("account_days")
