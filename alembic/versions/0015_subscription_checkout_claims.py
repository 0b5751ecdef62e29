"""one subscription Checkout at a time per user: its claim

Revision ID: 0015
Revises: 0013
Create Date: 2027-03-01

Runs on PostgreSQL and SQLite. A new table only; nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscription_checkout_claims",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("claim_key", sa.String(length=255), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_subscription_checkout_claims")),
    )


def downgrade() -> None:
    op.drop_table("subscription_checkout_claims")
