"""auto top-up: the Checkout that asks the user to authenticate; in flight until it closes

Revision ID: 0018
Revises: 0017
Create Date: 2027-03-15

A top-up whose charge needed authentication now waits, in flight, for the user to pay a
Checkout (``checkout_payment_id``, ``action_url``). Top-ups left ``action_required`` by
the earlier code have no such Checkout, so they end ``failed`` first: nothing would ever
move them on, and two of one user would break the widened unique index. Runs on
PostgreSQL and SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUESTED = sa.text("status = 'requested'")
IN_FLIGHT = sa.text("status IN ('requested', 'action_required')")


def upgrade() -> None:
    with op.batch_alter_table("auto_top_ups") as batch:
        batch.add_column(sa.Column("checkout_payment_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("action_url", sa.Text(), nullable=True))
    op.execute("UPDATE auto_top_ups SET status = 'failed' WHERE status = 'action_required'")
    _in_flight(IN_FLIGHT)
    op.create_index(
        op.f("ix_auto_top_ups_checkout_payment_id"),
        "auto_top_ups",
        ["checkout_payment_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_auto_top_ups_checkout_payment_id"), table_name="auto_top_ups")
    _in_flight(REQUESTED)
    with op.batch_alter_table("auto_top_ups") as batch:
        batch.drop_column("action_url")
        batch.drop_column("checkout_payment_id")


def _in_flight(where: sa.TextClause) -> None:
    op.drop_index(op.f("ix_auto_top_ups_user_id"), table_name="auto_top_ups")
    op.create_index(
        op.f("ix_auto_top_ups_user_id"),
        "auto_top_ups",
        ["user_id"],
        unique=True,
        postgresql_where=where,
        sqlite_where=where,
    )
