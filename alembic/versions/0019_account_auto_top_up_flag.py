"""accounts: has_auto_top_up flag

Revision ID: 0019
Revises: 0018
Create Date: 2027-03-20

A spend reads the flag back with the balance it locks, so asking for an auto top-up
after a debit costs nothing for a user without auto top-up settings. Existing rows are
set from that table.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("has_auto_top_up", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE accounts SET has_auto_top_up = TRUE"
        " WHERE user_id IN (SELECT user_id FROM auto_top_up_settings)"
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("has_auto_top_up")
