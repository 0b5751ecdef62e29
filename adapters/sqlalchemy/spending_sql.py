"""The PostgreSQL statements of spending: a debit is two statements under the lock.

``OPEN`` claims the request keys (sorted, so two batches never wait on each other's
keys in opposite orders) and only then locks the account (``FOR UPDATE``); the
scalar subquery on ``req`` makes the lock wait for the claim, so a transaction never
holds the account while waiting for a key. ``DEBIT`` then runs with the account
held, so its snapshot is current for every row the account guards (lots, holds):
in one statement it moves the balance only if the available balance covers the
total (domain.lots.covers), inserts one entry per debit with its running
``balance_after``, consumes lots in ``domain.lots.consumption_order`` (each debit
takes its own span of the total: soonest expiry first, non-expiring last, then
oldest), records the allocations and stores each key's answer.
"""

from __future__ import annotations

from sqlalchemy import text

OPEN = text(
    """
WITH req AS (
    INSERT INTO spend_requests (user_id, idempotency_key, fingerprint, created_at)
    SELECT :user_id, t.k, t.f, :now
    FROM unnest(CAST(:keys AS text[]), CAST(:fingerprints AS text[])) AS t(k, f)
    ORDER BY t.k
    ON CONFLICT DO NOTHING
    RETURNING idempotency_key
), acct AS (
    SELECT balance, held, has_alerts, has_auto_top_up FROM accounts
    WHERE user_id = :user_id AND (SELECT count(*) FROM req) >= 0
    FOR UPDATE
)
SELECT acct.balance, acct.held, acct.has_alerts, acct.has_auto_top_up,
    (SELECT coalesce(array_agg(idempotency_key), '{}') FROM req) AS claimed,
    (SELECT count(*) FROM holds h
     WHERE h.user_id = :user_id AND h.status = 'active' AND h.expires_at <= :now) AS expired
FROM acct
"""
)

DEBIT = text(
    """
WITH d AS (
    SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:ledger_keys AS text[]),
                         CAST(:credits AS bigint[])) WITH ORDINALITY AS d(k, lk, credits, n)
), run AS (
    SELECT d.*, sum(d.credits) OVER (ORDER BY d.n) AS hi FROM d
), tot AS (
    SELECT sum(credits) AS total FROM d
), acct AS (
    UPDATE accounts a SET balance = a.balance - tot.total, updated_at = :now
    FROM tot
    WHERE a.user_id = :user_id AND a.balance - a.held >= tot.total
    RETURNING a.balance + tot.total AS before, a.held
), ent AS (
    INSERT INTO ledger_entries (user_id, credits, kind, reference_type, reference_id,
                                idempotency_key, balance_after, created_at)
    SELECT :user_id, -run.credits, 'usage_debit', 'request', run.k, run.lk,
           acct.before - run.hi, :now
    FROM run CROSS JOIN acct
    ORDER BY run.n
    RETURNING id, idempotency_key, balance_after
), lots AS (
    SELECT id, lot_remaining,
        coalesce(sum(lot_remaining) OVER (
            ORDER BY expires_at ASC NULLS LAST, id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS lo
    FROM ledger_entries
    WHERE user_id = :user_id AND lot_remaining > 0 AND EXISTS (SELECT 1 FROM acct)
), alloc AS (
    SELECT ent.id AS entry_id, lots.id AS lot_id, lots.lo,
        least(run.hi, lots.lo + lots.lot_remaining)
            - greatest(run.hi - run.credits, lots.lo) AS taken
    FROM run
    JOIN ent ON ent.idempotency_key = run.lk
    JOIN lots ON lots.lo < run.hi AND lots.lo + lots.lot_remaining > run.hi - run.credits
), spent AS (
    UPDATE ledger_entries e SET lot_remaining = e.lot_remaining - t.taken
    FROM (SELECT lot_id, sum(taken) AS taken FROM alloc GROUP BY lot_id) t
    WHERE e.id = t.lot_id
), rec AS (
    INSERT INTO ledger_allocations (user_id, entry_id, lot_entry_id, credits)
    SELECT :user_id, entry_id, lot_id, taken FROM alloc ORDER BY entry_id, lo
), ans AS (
    UPDATE spend_requests r
    SET result_id = ent.id::text, balance = ent.balance_after,
        available = ent.balance_after - acct.held
    FROM run JOIN ent ON ent.idempotency_key = run.lk CROSS JOIN acct
    WHERE r.user_id = :user_id AND r.idempotency_key = run.k
)
SELECT ent.id, ent.idempotency_key, ent.balance_after, acct.held FROM ent CROSS JOIN acct
"""
)
