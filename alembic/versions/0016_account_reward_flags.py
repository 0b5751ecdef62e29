"""accounts: has_trial and has_referral flags

Revision ID: 0016
Revises: 0014
Create Date: 2027-02-01

A grant reads the flags back with the balance, so a purchase by a user with no trial
and no referral skips both follow-up lookups. Existing rows are set from the trials and
referrals tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("has_trial", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("has_referral", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE accounts SET has_trial = TRUE WHERE user_id IN (SELECT user_id FROM trials)"
    )
    op.execute(
        "UPDATE accounts SET has_referral = TRUE "
        "WHERE user_id IN (SELECT user_id FROM referrals)"
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("has_referral")
        batch.drop_column("has_trial")
