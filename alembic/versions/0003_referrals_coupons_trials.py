"""referrals, coupons and trials

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

Runs on PostgreSQL and SQLite. Users referred before this revision (``users.referred_by``)
get a referral row with the default terms (1000 cents, 1000 credits, 10 uses): pending
if they have not bought yet, else ineligible, because the purchase that should have
decided it happened before anything could pay a bonus for it.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)

BACKFILL = """
INSERT INTO referrals (
    user_id, referrer_id, status, min_purchase, bonus_credits, max_uses, created_at
)
SELECT u.id,
       u.referred_by,
       CASE WHEN EXISTS (
           SELECT 1 FROM payments AS p
           WHERE p.user_id = u.id
             AND p.status IN ('completed', 'partially_refunded', 'refunded', 'disputed')
       ) THEN 'ineligible' ELSE 'pending' END,
       1000, 1000, 10, u.created_at
FROM users AS u
WHERE u.referred_by IS NOT NULL
"""


def timestamp(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("referrer_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("min_purchase", sa.BigInteger(), nullable=False),
        sa.Column("bonus_credits", sa.BigInteger(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        timestamp("created_at"),
        sa.Column("payment_id", ID, nullable=True),
        timestamp("decided_at", nullable=True),
        timestamp("reversed_at", nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_referrals")),
    )
    op.create_index(op.f("ix_referrals_referrer_id"), "referrals", ["referrer_id"])
    op.create_table(
        "referral_uses",
        sa.Column("referrer_id", ID, nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("referrer_id", name=op.f("pk_referral_uses")),
    )
    op.create_table(
        "coupons",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        timestamp("valid_from", nullable=True),
        timestamp("valid_until", nullable=True),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("assigned_user_id", ID, nullable=True),
        sa.Column("credit_expiry_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("redemptions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    op.create_index(op.f("ix_coupons_created_at_id"), "coupons", ["created_at", "id"])
    op.create_table(
        "coupon_redemptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("coupon_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        timestamp("redeemed_at"),
        timestamp("credits_expire_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_coupon_redemptions_coupon_id_coupons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_redemptions")),
        sa.UniqueConstraint(
            "coupon_id", "user_id", name=op.f("uq_coupon_redemptions_coupon_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_coupon_redemptions_user_id_redeemed_at_id"),
        "coupon_redemptions",
        ["user_id", "redeemed_at", "id"],
    )
    op.create_index(
        op.f("ix_coupon_redemptions_coupon_id_redeemed_at_id"),
        "coupon_redemptions",
        ["coupon_id", "redeemed_at", "id"],
    )
    op.create_table(
        "trials",
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        timestamp("granted_at"),
        timestamp("expires_at"),
        timestamp("converted_at", nullable=True),
        sa.PrimaryKeyConstraint("email_key", name=op.f("pk_trials")),
        sa.UniqueConstraint("user_id", name=op.f("uq_trials_user_id")),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    for table in ("trials", "coupon_redemptions", "coupons", "referral_uses", "referrals"):
        op.drop_table(table)
