"""accounts: has_alerts flag

Revision ID: 0017
Revises: 0016
Create Date: 2027-02-01

A grant reads the flag back with the balance, so re-arming alerts after a grant costs
nothing for a user without an account_alerts row. Existing rows are set from that table.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("has_alerts", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE accounts SET has_alerts = TRUE WHERE user_id IN (SELECT user_id FROM account_alerts)"
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("has_alerts")
