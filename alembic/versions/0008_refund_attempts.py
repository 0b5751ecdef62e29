"""refund attempts: admin refund requests recorded before the gateway is called

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

One row per admin refund request (payment, number): the number makes the gateway
idempotency key, so a new request is a new refund even after a failed one, and the
client's Idempotency-Key (unique) keeps the first answer for retries at any time.
A new table: nothing to backfill (earlier refunds keep their gateway keys).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refund_attempts",
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(255), nullable=True),
        sa.Column("requested", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("refund_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("credits_reversed", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("payment_id", "number", name="pk_refund_attempts"),
        sa.UniqueConstraint("client_key", name="uq_refund_attempts_client_key"),
    )


def downgrade() -> None:
    op.drop_table("refund_attempts")
