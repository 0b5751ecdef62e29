"""A grant in one statement on PostgreSQL: move the balance, append the entry with its lot.

``WITH moved AS (UPDATE accounts ... RETURNING ...), entry AS (INSERT INTO
ledger_entries ... SELECT ... FROM moved ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id) SELECT ... FROM moved LEFT JOIN entry``: no row means no account; a row
without an entry id means the key was used before, and the caller moves the balance
back (the same outcome as the two-statement form in ``ledger.py``). The lot is
``domain.lots.grant_remaining`` in SQL; the account's reward flags come back with the
balance (``hints.py``). Grants that refill lots keep the two-statement form.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, bindparam, func, select, true, update
from sqlalchemy.dialects import postgresql

from adapters.sqlalchemy.tables import accounts, ledger_entries

_credits = bindparam("credits", type_=BigInteger)
_moved = (
    update(accounts)
    .where(accounts.c.user_id == bindparam("where_user_id"))
    .values(balance=accounts.c.balance + _credits, updated_at=bindparam("new_updated_at"))
    .returning(
        accounts.c.user_id,
        accounts.c.balance,
        accounts.c.has_trial,
        accounts.c.has_referral,
        accounts.c.has_alerts,
    )
    .cte("moved")
)
_VALUES = {
    "user_id": _moved.c.user_id,
    "credits": _credits,
    "kind": bindparam("new_kind", type_=ledger_entries.c.kind.type),
    "reference_type": bindparam("new_reference_type", type_=ledger_entries.c.reference_type.type),
    "reference_id": bindparam("new_reference_id", type_=ledger_entries.c.reference_id.type),
    "idempotency_key": bindparam(
        "new_idempotency_key", type_=ledger_entries.c.idempotency_key.type
    ),
    "balance_after": _moved.c.balance,
    "created_at": bindparam("new_created_at", type_=ledger_entries.c.created_at.type),
    "expires_at": bindparam("new_expires_at", type_=ledger_entries.c.expires_at.type),
    "lot_remaining": func.greatest(0, func.least(_credits, _moved.c.balance)),
}
_entry = (
    postgresql.insert(ledger_entries)
    .from_select(list(_VALUES), select(*_VALUES.values()))
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(ledger_entries.c.id)
    .cte("entry")
)
GRANT = select(
    _moved.c.balance,
    _moved.c.has_trial,
    _moved.c.has_referral,
    _moved.c.has_alerts,
    _entry.c.id.label("entry_id"),
).select_from(_moved.outerjoin(_entry, true()))

# The two-statement form's balance move for a grant, with the flags.
MOVE_FOR_GRANT = (
    update(accounts)
    .where(accounts.c.user_id == bindparam("where_user_id"))
    .values(balance=accounts.c.balance + _credits, updated_at=bindparam("new_updated_at"))
    .returning(
        accounts.c.balance, accounts.c.has_trial, accounts.c.has_referral, accounts.c.has_alerts
    )
)
