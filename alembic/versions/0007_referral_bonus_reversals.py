"""referrals: how many times the bonuses were taken back

Revision ID: 0007
Revises: 0005
Create Date: 2027-01-10

A referral is settled again when a payment opened earlier is fulfilled later or when a
refund of its first purchase fails after it was applied, so its bonuses may be taken
back and given back more than once. ``bonus_reversals`` counts the reversals; each
reversal and each grant after one is keyed by it. Existing rows: 1 for a reversed
referral (its one reversal has the old key), else 0.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(
            sa.Column("bonus_reversals", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute("UPDATE referrals SET bonus_reversals = 1 WHERE status = 'reversed'")


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("bonus_reversals")
