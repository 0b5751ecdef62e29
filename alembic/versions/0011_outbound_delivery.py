"""outbound delivery of the outbox: last error, retry window, delivery time, lease

Revision ID: 0011
Revises: 0010
Create Date: 2027-02-01

Runs on PostgreSQL and SQLite. New nullable columns only, so existing rows stay
pending and never tried; two indexes serve the admin list (by status, by user).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        op.f("ix_outbox_status_occurred_at_event_id"),
        "outbox",
        ["status", "occurred_at", "event_id"],
    )
    op.create_index(
        op.f("ix_outbox_user_id_occurred_at_event_id"),
        "outbox",
        ["user_id", "occurred_at", "event_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_user_id_occurred_at_event_id"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_status_occurred_at_event_id"), table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("leased_until")
        batch.drop_column("delivered_at")
        batch.drop_column("first_attempt_at")
        batch.drop_column("last_error")
