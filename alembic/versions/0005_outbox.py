"""the outbox of domain events

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-11

Runs on PostgreSQL and SQLite. A new table only: nothing existing changes, and no
event is invented for the past, so the outbox starts empty. The delivery columns
(``status``, ``attempts``, ``next_attempt_at``, ``last_status``) default to a pending,
never-tried row; the partial index covers pending rows only.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_outbox")),
    )
    op.create_index(
        op.f("ix_outbox_occurred_at_event_id"),
        "outbox",
        ["occurred_at", "event_id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_occurred_at_event_id"), table_name="outbox")
    op.drop_table("outbox")
