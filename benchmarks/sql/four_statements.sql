-- The least a first-time grant could cost: four statements (see benchmarks/references.py).
-- Payment p of group "ref" (1000 usd cents, 1000 credits) belongs to usr_bench_<p mod users>.
\set k :client_id * :per_client + :i
\set i :i + 1
\set p :offset + permute(:k, :n, :seed)
\set u :p % :users
BEGIN;
INSERT INTO processed_events (event_id, type, received_at, livemode)
  VALUES ('evt_ref_' || :p::text, 'payment_intent.succeeded', now(), false)
  ON CONFLICT (event_id) DO NOTHING;
UPDATE payments SET status = 'completed', completed_at = now(), updated_at = now()
  WHERE id = 'pay_ref_' || :p::text AND amount = 1000;
UPDATE accounts SET balance = balance + 1000, updated_at = now()
  WHERE user_id = 'usr_bench_' || :u::text RETURNING balance \gset
INSERT INTO ledger_entries (user_id, credits, kind, reference_type, reference_id,
    idempotency_key, balance_after, created_at, lot_remaining)
  VALUES ('usr_bench_' || :u::text, 1000, 'purchase', 'payment', 'pay_ref_' || :p::text,
    'purchase:' || 'pay_ref_' || :p::text, :balance::bigint, now(), 1000);
COMMIT;
