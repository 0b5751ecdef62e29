"""balance alerts: per-account settings and flags; an index for the runway's window

Revision ID: 0014
Revises: 0011
Create Date: 2027-03-01

Runs on PostgreSQL and SQLite. New table and index only.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SPENT = sa.text("kind IN ('usage_debit', 'hold_capture')")


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


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_entries_user_id_created_at"), table_name="ledger_entries")
    op.drop_table("account_alerts")
