"""subscriptions, their paid invoices, plan terms and gateway customers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Runs on PostgreSQL and SQLite. New tables only; nothing existing changes. The ledger
needs no change: its ``kind`` is text, so ``subscription_grant`` and
``subscription_rollover`` entries fit as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.String(length=255)
ID = sa.String(length=64)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", KEY, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("customer_id", KEY, nullable=True),
        sa.Column("price_id", KEY, nullable=True),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("current_period_start", WHEN, nullable=False),
        sa.Column("current_period_end", WHEN, nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("canceled_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(
        op.f("ix_subscriptions_user_id_created_at"), "subscriptions", ["user_id", "created_at"]
    )
    op.create_table(
        "subscription_invoices",
        sa.Column("invoice_id", KEY, nullable=False),
        sa.Column("subscription_id", KEY, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("billing_reason", sa.String(length=64), nullable=False),
        sa.Column("period_start", WHEN, nullable=False),
        sa.Column("period_end", WHEN, nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", WHEN, nullable=False),
        sa.Column("payment_intent_id", KEY, nullable=True),
        sa.Column("price_id", KEY, nullable=True),
        sa.Column("amount_refunded", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_reversed", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rolled_in", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rollovers", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_subscription_invoices")),
        sa.UniqueConstraint(
            "payment_intent_id", name=op.f("uq_subscription_invoices_payment_intent_id")
        ),
    )
    for column in ("period_end", "period_start"):
        op.create_index(
            op.f(f"ix_subscription_invoices_subscription_id_{column}"),
            "subscription_invoices",
            ["subscription_id", column],
        )
    op.create_table(
        "subscription_plans",
        sa.Column("price_id", KEY, nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("credits_per_period", sa.BigInteger(), nullable=False),
        sa.Column("rollover_cap", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("price_id", name=op.f("pk_subscription_plans")),
    )
    op.create_table(
        "gateway_customers",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("customer_id", KEY, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_gateway_customers")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_gateway_customers_customer_id")),
    )


def downgrade() -> None:
    op.drop_table("gateway_customers")
    op.drop_table("subscription_plans")
    for column in ("period_start", "period_end"):
        op.drop_index(
            op.f(f"ix_subscription_invoices_subscription_id_{column}"),
            table_name="subscription_invoices",
        )
    op.drop_table("subscription_invoices")
    op.drop_index(op.f("ix_subscriptions_user_id_created_at"), table_name="subscriptions")
    op.drop_table("subscriptions")
