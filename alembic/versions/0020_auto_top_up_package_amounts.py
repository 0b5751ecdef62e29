"""auto top-ups of a package: the amount is what the payment charged

Revision ID: 0020
Revises: 0019
Create Date: 2027-03-21

A top-up of a credit package once stored the settings' ``amount``, not the package's
price, and the monthly limit sums these amounts. Each such top-up that has opened its
payment gets that payment's amount, so this month's sum counts what was charged.
Top-ups without a payment never charged anything; they keep theirs. Runs on
PostgreSQL and SQLite.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE auto_top_ups SET amount ="
        " (SELECT p.amount FROM payments p WHERE p.id = auto_top_ups.payment_id)"
        " WHERE package_id IS NOT NULL AND payment_id IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM payments p WHERE p.id = auto_top_ups.payment_id)"
    )


def downgrade() -> None:
    """Nothing to undo: the amounts were wrong before."""
