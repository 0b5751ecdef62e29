"""spending: key answers, holds, disputes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-20

Runs on PostgreSQL and SQLite. New tables, and one column with a default
(``payments.credits_disputed``, 0 for every existing payment): nothing existing
changes meaning. ``accounts.held`` exists since 0001 and stays 0 until a hold.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("credits_disputed", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
    op.create_table(
        "spend_requests",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result_id", sa.String(length=64), nullable=True),
        sa.Column("balance", sa.BigInteger(), nullable=True),
        sa.Column("available", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "idempotency_key", name=op.f("pk_spend_requests")),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("captured", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reference_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    op.create_index(
        op.f("ix_holds_user_id_expires_at"),
        "holds",
        ["user_id", "expires_at"],
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    op.create_index(
        op.f("ix_holds_expires_at_id"),
        "holds",
        ["expires_at", "id"],
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    op.create_index(op.f("ix_holds_reference_id"), "holds", ["reference_id"])
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credits_held", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_reversed", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("funds_withdrawn", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("funds_reinstated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    op.create_index(op.f("ix_disputes_payment_id"), "disputes", ["payment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_disputes_payment_id"), table_name="disputes")
    op.drop_table("disputes")
    op.drop_index(op.f("ix_holds_reference_id"), table_name="holds")
    op.drop_index(op.f("ix_holds_expires_at_id"), table_name="holds")
    op.drop_index(op.f("ix_holds_user_id_expires_at"), table_name="holds")
    op.drop_table("holds")
    op.drop_table("spend_requests")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("credits_disputed")
