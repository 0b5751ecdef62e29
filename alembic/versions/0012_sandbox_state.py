"""the sandbox gateway's state

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12

Runs on PostgreSQL and SQLite. New tables only, used by the sandbox gateway alone
(never by the Stripe gateway): its Checkout Sessions and PaymentIntents
(``sandbox_objects``), the idempotency keys they were created with, and every event it
produced, in order (``sandbox_events``). They start empty: the sandbox kept nothing
before, so there is nothing to carry over.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sandbox_objects",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_objects")),
    )
    op.create_table(
        "sandbox_idempotency_keys",
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_sandbox_idempotency_keys")),
    )
    op.create_table(
        "sandbox_events",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sandbox_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_sandbox_events_event_id")),
    )
    op.create_index(op.f("ix_sandbox_events_created_seq"), "sandbox_events", ["created", "seq"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sandbox_events_created_seq"), table_name="sandbox_events")
    op.drop_table("sandbox_events")
    op.drop_table("sandbox_idempotency_keys")
    op.drop_table("sandbox_objects")
