"""operators: admin keys and the reasons of credit adjustments

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-20

``admin_keys`` holds one row per admin key that adjusted credits (its lock keeps the
key's 24-hour grant total exact); ``admin_adjustments`` records who made each
``admin_adjustment`` ledger entry and why.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_admin_keys"),
    )
    op.create_table(
        "admin_adjustments",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("admin_key_id", sa.String(64), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_admin_adjustments"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name="fk_admin_adjustments_entry_id_ledger_entries",
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_admin_adjustments_idempotency_key"),
    )
    op.create_index(
        "ix_admin_adjustments_admin_key_id_created_at",
        "admin_adjustments",
        ["admin_key_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_admin_adjustments_admin_key_id_created_at", "admin_adjustments")
    op.drop_table("admin_adjustments")
    op.drop_table("admin_keys")
