"""ledger lots: lot_remaining on grants, ledger_allocations, lot indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Runs on PostgreSQL and SQLite (3.33+, for ``UPDATE ... FROM``; column changes go
through a batch on SQLite). Existing grants get ``lot_remaining`` backfilled so that
each user's lots hold exactly ``max(balance, 0)``: the unspent credits are put in the
lots a debit would consume last (non-expiring, newest first), which is where they are
under the consumption rule when no debit ever recorded its lots. Earlier debits have
no allocations, since nothing recorded which grants they spent.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)
ENTRY_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN_LOT = sa.text("lot_remaining > 0")
EXPIRING = sa.text("lot_remaining > 0 AND expires_at IS NOT NULL")

# Credits each grant keeps: max(balance, 0) minus what the grants consumed after it
# (in consumption order) keep, clamped to [0, credits].
BACKFILL = """
UPDATE ledger_entries
SET lot_remaining = CASE
    WHEN later.keep <= 0 THEN 0
    WHEN later.keep >= ledger_entries.credits THEN ledger_entries.credits
    ELSE later.keep
END
FROM (
    SELECT e.id AS id,
           CASE WHEN a.balance > 0 THEN a.balance ELSE 0 END
           - COALESCE(SUM(e.credits) OVER (
                 PARTITION BY e.user_id
                 ORDER BY (e.expires_at IS NULL) DESC, e.expires_at DESC, e.id DESC
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
             ), 0) AS keep
    FROM ledger_entries AS e
    LEFT JOIN accounts AS a ON a.user_id = e.user_id
    WHERE e.credits > 0
) AS later
WHERE ledger_entries.id = later.id
"""


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("lot_remaining", sa.BigInteger(), nullable=True))
    op.execute(BACKFILL)
    op.create_index(
        op.f("ix_ledger_entries_user_id_expires_at_id"),
        "ledger_entries",
        ["user_id", "expires_at", "id"],
        postgresql_where=OPEN_LOT,
        sqlite_where=OPEN_LOT,
    )
    op.create_index(
        op.f("ix_ledger_entries_expires_at_id"),
        "ledger_entries",
        ["expires_at", "id"],
        postgresql_where=EXPIRING,
        sqlite_where=EXPIRING,
    )
    op.create_table(
        "ledger_allocations",
        sa.Column("id", ENTRY_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("entry_id", ENTRY_ID, nullable=False),
        sa.Column("lot_entry_id", ENTRY_ID, nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_allocations_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_allocations_lot_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_allocations")),
    )
    op.create_index(
        op.f("ix_ledger_allocations_entry_id"), "ledger_allocations", ["entry_id"]
    )


def downgrade() -> None:
    op.drop_table("ledger_allocations")
    op.drop_index(op.f("ix_ledger_entries_expires_at_id"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_user_id_expires_at_id"), table_name="ledger_entries")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("lot_remaining")
