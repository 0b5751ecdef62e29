"""initial schema: users, api keys, accounts, ledger, payments, events, refunds

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Hand-checked on PostgreSQL and SQLite. Timestamps are ``timestamptz`` on PostgreSQL
(the app's ``UtcDateTime`` stores UTC in them); ledger ids are BIGSERIAL on
PostgreSQL and an INTEGER rowid alias on SQLite. Constraint names follow the naming
convention of ``adapters.sqlalchemy.tables.metadata``.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)
KEY = sa.String(length=255)


def timestamp(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("referral_code", sa.String(length=32), nullable=True),
        sa.Column("referred_by", ID, nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("referral_code", name=op.f("uq_users_referral_code")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        timestamp("created_at"),
        timestamp("revoked_at", nullable=True),
        timestamp("last_used_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"])
    op.create_table(
        "accounts",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        timestamp("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference_type", sa.String(length=32), nullable=False),
        sa.Column("reference_id", KEY, nullable=False),
        sa.Column("idempotency_key", KEY, nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        timestamp("created_at"),
        timestamp("expires_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entries_idempotency_key")),
    )
    op.create_index(op.f("ix_ledger_entries_user_id_id"), "ledger_entries", ["user_id", "id"])
    op.create_table(
        "payments",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        timestamp("created_at"),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("package_id", sa.String(length=64), nullable=True),
        sa.Column("stripe_session_id", KEY, nullable=True),
        sa.Column("stripe_payment_intent_id", KEY, nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        timestamp("expires_at", nullable=True),
        timestamp("completed_at", nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("amount_refunded", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_reversed", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("client_key", KEY, nullable=True),
        sa.Column("client_fingerprint", sa.String(length=128), nullable=True),
        timestamp("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("stripe_session_id", name=op.f("uq_payments_stripe_session_id")),
        sa.UniqueConstraint(
            "stripe_payment_intent_id", name=op.f("uq_payments_stripe_payment_intent_id")
        ),
        sa.UniqueConstraint("user_id", "client_key", name=op.f("uq_payments_user_id_client_key")),
    )
    op.create_index(
        op.f("ix_payments_user_id_created_at_id"), "payments", ["user_id", "created_at", "id"]
    )
    op.create_index(op.f("ix_payments_status_expires_at"), "payments", ["status", "expires_at"])
    op.create_table(
        "processed_events",
        sa.Column("event_id", KEY, nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        timestamp("received_at"),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("livemode", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
    )
    op.create_table(
        "refunds",
        sa.Column("refund_id", KEY, nullable=False),
        sa.Column("payment_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("credits_reversed", sa.BigInteger(), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("refund_id", name=op.f("pk_refunds")),
    )
    op.create_index(op.f("ix_refunds_payment_id"), "refunds", ["payment_id"])


def downgrade() -> None:
    for table in (
        "refunds",
        "processed_events",
        "payments",
        "ledger_entries",
        "accounts",
        "api_keys",
        "users",
    ):
        op.drop_table(table)
