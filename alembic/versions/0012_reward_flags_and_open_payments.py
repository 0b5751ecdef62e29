"""accounts: has_trial and has_referral flags; a partial index on open payments

Revision ID: 0012
Revises: 0007
Create Date: 2027-02-01

A grant reads the flags back with the balance, so a purchase by a user with no trial
and no referral skips both follow-up lookups. Existing rows are set from the trials and
referrals tables. The stale-payment sweep scans only open payments: a partial index on
them stays the size of what is pending however many payments were paid.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('pending', 'failed')")


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
    op.create_index(
        op.f("ix_payments_kind_expires_at_created_at"),
        "payments",
        ["kind", "expires_at", "created_at"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_kind_expires_at_created_at"), table_name="payments")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("has_referral")
        batch.drop_column("has_trial")
