"""batch jobs: the stale-session sweep's lease on payments

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

``payments.sweep_lease_until`` is set by the claiming ``UPDATE ... RETURNING`` of
``creditline batch expire-sessions``: other workers skip the row until it passes, so
no transaction stays open across gateway calls. Nullable, no backfill: NULL means
"not leased". The existing ``(status, expires_at)`` index serves the sweep's scan.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("sweep_lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("sweep_lease_until")
