"""balance alerts and auto top-up: settings, flags, requests; an index for the runway

Revision ID: 0014
Revises: 0015
Create Date: 2027-03-01

Runs on PostgreSQL and SQLite. New table and index only.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SPENT = sa.text("kind IN ('usage_debit', 'hold_capture')")
IN_FLIGHT = sa.text("status = 'requested'")


def upgrade() -> None:
    op.create_table(
        "account_alerts",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("low_balance_threshold", sa.BigInteger(), nullable=True),
        sa.Column("runway_alert_days", sa.Integer(), nullable=True),
        sa.Column("low_balance_armed", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("depleted_armed", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("runway_low_armed", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_account_alerts")),
    )
    op.create_index(
        op.f("ix_ledger_entries_user_id_created_at"),
        "ledger_entries",
        ["user_id", "created_at"],
        postgresql_where=SPENT,
        sqlite_where=SPENT,
    )


    _auto_top_up()


def _auto_top_up() -> None:
    op.create_table(
        "auto_top_up_settings",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("threshold_credits", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=True),
        sa.Column("monthly_limit", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_auto_top_up_settings")),
    )
    op.create_table(
        "auto_top_ups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auto_top_ups")),
    )
    op.create_index(
        op.f("ix_auto_top_ups_user_id"),
        "auto_top_ups",
        ["user_id"],
        unique=True,
        postgresql_where=IN_FLIGHT,
        sqlite_where=IN_FLIGHT,
    )
    op.create_index(
        op.f("ix_auto_top_ups_user_id_created_at"), "auto_top_ups", ["user_id", "created_at"]
    )
    op.create_index(
        op.f("ix_auto_top_ups_status_next_attempt_at"),
        "auto_top_ups",
        ["status", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_table("auto_top_ups")
    op.drop_table("auto_top_up_settings")
    op.drop_index(op.f("ix_ledger_entries_user_id_created_at"), table_name="ledger_entries")
    op.drop_table("account_alerts")
