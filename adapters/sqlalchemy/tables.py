"""The schema, as SQLAlchemy Core tables: the single source for alembic and queries.

Every table a user's write touches carries ``user_id`` so the ledger can later be
sharded by user. Idempotency keys, gateway ids and event ids are UNIQUE in the
database: a uniqueness violation is how "already done" is decided (docs/failure-modes.md #4).
Constraint names follow ``metadata.naming_convention`` so migrations can name them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (UTC).

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so the value is stored
    as naive UTC text and the zone is re-attached on the way out. A naive datetime is
    refused: guessing its zone is how balances end up expiring an hour early.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


ID = String(64)
KEY = String(255)  # idempotency keys and gateway ids: Stripe allows up to 255 characters
# SQLite aliases the rowid only for a column declared exactly INTEGER PRIMARY KEY.
ENTRY_ID = BigInteger().with_variant(Integer, "sqlite")
OPEN_LOT = text("lot_remaining > 0")
EXPIRING = text("lot_remaining > 0 AND expires_at IS NOT NULL")
PENDING = text("status = 'pending'")
ACTIVE = text("status = 'active'")
SPENT = text("kind IN ('usage_debit', 'hold_capture')")

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("referral_code", String(32), unique=True),
    Column("referred_by", ID),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False, index=True),
    Column("prefix", String(32), nullable=False),
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("name", String(100)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
)

accounts = Table(
    "accounts",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("balance", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False, server_default=text("0")),
    # The last balance move; NULL until the first (opening an account takes no clock).
    Column("updated_at", UtcDateTime),
    # Whether a trial or a referral row exists for the user: set with that row, never
    # cleared. A grant reads them back with the balance, so a purchase by a user with
    # neither skips the lookups of its follow-ups (``adapters.sqlalchemy.hints``).
    Column("has_trial", Boolean, nullable=False, server_default=false()),
    Column("has_referral", Boolean, nullable=False, server_default=false()),
    # The user has an account_alerts row (settings, or an alert that fired).
    Column("has_alerts", Boolean, nullable=False, server_default=false()),
    Column("has_auto_top_up", Boolean, nullable=False, server_default=false()),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", ENTRY_ID, primary_key=True, autoincrement=True),
    Column("user_id", ID, nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("reference_type", String(32), nullable=False),
    Column("reference_id", KEY, nullable=False),
    Column("idempotency_key", KEY, nullable=False, unique=True),
    Column("balance_after", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    # The unspent part of a grant (its lot); NULL for debits. Debits and expiries
    # lower it; nothing raises it.
    Column("lot_remaining", BigInteger),
    Index(None, "user_id", "id"),
    # A debit's lot scan; partial, so spent lots and debits cost the index nothing.
    Index(None, "user_id", "expires_at", "id", postgresql_where=OPEN_LOT, sqlite_where=OPEN_LOT),
    # The expiry job's scan over every user's expiring lots.
    Index(None, "expires_at", "id", postgresql_where=EXPIRING, sqlite_where=EXPIRING),
    # The runway's window of recent spending (``alerts.spent_since``).
    Index(None, "user_id", "created_at", postgresql_where=SPENT, sqlite_where=SPENT),
)

# Which lots each debit consumed (docs/ledger.md), so an expiry removes only unspent credits.
ledger_allocations = Table(
    "ledger_allocations",
    metadata,
    Column("id", ENTRY_ID, primary_key=True, autoincrement=True),
    Column("user_id", ID, nullable=False),
    Column("entry_id", ENTRY_ID, ForeignKey("ledger_entries.id"), nullable=False, index=True),
    Column("lot_entry_id", ENTRY_ID, ForeignKey("ledger_entries.id"), nullable=False),
    Column("credits", BigInteger, nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("description", Text),
    Column("package_id", String(64)),
    Column("stripe_session_id", KEY, unique=True),
    Column("stripe_payment_intent_id", KEY, unique=True),
    Column("checkout_url", Text),
    Column("expires_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    Column("failure_reason", Text),
    Column("amount_refunded", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_reversed", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_disputed", BigInteger, nullable=False, server_default=text("0")),
    Column("client_key", KEY),
    Column("client_fingerprint", String(128)),
    Column("updated_at", UtcDateTime),
    # Until when a `batch expire-sessions` worker owns the row; not part of Payment.
    Column("sweep_lease_until", UtcDateTime),
    UniqueConstraint("user_id", "client_key"),
    Index(None, "user_id", "created_at", "id"),
    Index(None, "status", "expires_at"),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", KEY, primary_key=True),
    Column("type", String(100), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("outcome", String(32)),
    Column("detail", Text),
    Column("livemode", Boolean, nullable=False, server_default=false()),
)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", KEY, primary_key=True),
    Column("payment_id", ID, nullable=False, index=True),
    Column("user_id", ID, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(32), nullable=False),
    Column("credits_reversed", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# One row per admin refund request, written before the gateway is called: its number
# makes the gateway idempotency key, and the client's Idempotency-Key (unique) finds
# the first answer again long after the gateway forgot the key.
refund_attempts = Table(
    "refund_attempts",
    metadata,
    Column("payment_id", ID, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("client_key", KEY, unique=True),
    Column("requested", BigInteger),
    Column("amount", BigInteger, nullable=False),
    Column("reason", Text),
    Column("started_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("refund_id", KEY),
    Column("status", String(32)),
    Column("credits_reversed", BigInteger),
)

# ---- referrals, coupons, trials (the three ways credits are given away) ----------------

# One row per referred user (``user_id``): it cannot be applied twice or changed. The
# terms in force when it was applied are copied here, so whichever path completes the
# first purchase decides with them.
referrals = Table(
    "referrals",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("referrer_id", ID, nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("min_purchase", BigInteger, nullable=False),
    Column("bonus_credits", BigInteger, nullable=False),
    Column("max_uses", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("payment_id", ID),
    Column("decided_at", UtcDateTime),
    Column("reversed_at", UtcDateTime),
    # How many times the bonuses were taken back: it keys the next reversal or grant.
    Column("bonus_reversals", Integer, nullable=False, server_default=text("0")),
)

# Bonuses paid per referrer; raised only by a conditional upsert below the cap.
referral_uses = Table(
    "referral_uses",
    metadata,
    Column("referrer_id", ID, primary_key=True),
    Column("uses", Integer, nullable=False),
)

coupons = Table(
    "coupons",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(50), nullable=False, unique=True),  # canonical: upper-case
    Column("credits", BigInteger, nullable=False),
    Column("valid_from", UtcDateTime),
    Column("valid_until", UtcDateTime),
    Column("max_redemptions", Integer),
    Column("assigned_user_id", ID),
    Column("credit_expiry_days", Integer),
    Column("active", Boolean, nullable=False),
    # Raised only by a conditional UPDATE below max_redemptions.
    Column("redemptions", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),
    Index(None, "created_at", "id"),
)

coupon_redemptions = Table(
    "coupon_redemptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("coupon_id", ID, ForeignKey("coupons.id"), nullable=False),
    Column("user_id", ID, nullable=False),
    Column("code", String(50), nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("redeemed_at", UtcDateTime, nullable=False),
    Column("credits_expire_at", UtcDateTime),
    UniqueConstraint("coupon_id", "user_id"),  # once per user (docs/failure-modes.md #4)
    Index(None, "user_id", "redeemed_at", "id"),
    Index(None, "coupon_id", "redeemed_at", "id"),
)

# One trial per normalised email (``domain.trial.trial_email_key``).
trials = Table(
    "trials",
    metadata,
    Column("email_key", String(254), primary_key=True),
    Column("user_id", ID, nullable=False, unique=True),
    Column("credits", BigInteger, nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("converted_at", UtcDateTime),
)

# ---- the outbox: domain events, written in the transaction of their change ------------

# One row per event id (derived from the fact, so a fact recorded twice is one row).
# The delivery columns are moved by whatever delivers the rows; until then every row
# stays pending.
outbox = Table(
    "outbox",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("type", String(64), nullable=False),
    Column("user_id", ID, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime),
    Column("last_status", Integer),
    Column("last_error", String(500)),
    Column("first_attempt_at", UtcDateTime),  # the retry window starts here
    Column("delivered_at", UtcDateTime),
    Column("leased_until", UtcDateTime),  # a worker is posting it until then
    # Delivery's scan; partial, so delivered rows cost the index nothing.
    Index(None, "occurred_at", "event_id", postgresql_where=PENDING, sqlite_where=PENDING),
    # The admin list, newest first, by status (failed events) or by user.
    Index(None, "status", "occurred_at", "event_id"),
    Index(None, "user_id", "occurred_at", "event_id"),
)

# ---- spending: the first answer of each client key, holds, disputes ----------------------

# One row per (user, client key), claimed before the debit or hold it names and
# answered in the same transaction; a replay reads the answer (docs/failure-modes.md #4).
spend_requests = Table(
    "spend_requests",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("idempotency_key", KEY, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("result_id", ID),  # the debit's entry id or the hold's id; NULL while claimed
    Column("balance", BigInteger),
    Column("available", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
)

holds = Table(
    "holds",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("idempotency_key", KEY, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("captured", BigInteger, nullable=False, server_default=text("0")),
    Column("settled_at", UtcDateTime),
    Column("reference_id", KEY),  # a dispute hold: the dispute id
    # Active holds only: the per-user expiry check on every debit, and the expiry job.
    Index(None, "user_id", "expires_at", postgresql_where=ACTIVE, sqlite_where=ACTIVE),
    Index(None, "expires_at", "id", postgresql_where=ACTIVE, sqlite_where=ACTIVE),
    Index(None, "reference_id"),
)

# One row per gateway dispute id; its status only moves forward (domain.disputes).
disputes = Table(
    "disputes",
    metadata,
    Column("id", KEY, primary_key=True),
    Column("payment_id", ID, nullable=False, index=True),
    Column("user_id", ID, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("credits_held", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_reversed", BigInteger, nullable=False, server_default=text("0")),
    Column("funds_withdrawn", Boolean, nullable=False, server_default=false()),
    Column("funds_reinstated", Boolean, nullable=False, server_default=false()),
)

# ---- subscriptions -------------------------------------------------------------------

# One row per gateway subscription; written only forward (``Subscription.observe``).
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", KEY, primary_key=True),
    Column("user_id", ID, nullable=False),
    Column("customer_id", KEY),
    Column("price_id", KEY),
    Column("plan_id", String(64)),
    Column("status", String(32), nullable=False),
    Column("current_period_start", UtcDateTime, nullable=False),
    Column("current_period_end", UtcDateTime, nullable=False),
    Column("cancel_at_period_end", Boolean, nullable=False, server_default=false()),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("canceled_at", UtcDateTime),
    Index(None, "user_id", "created_at"),
)

# One row per paid invoice, written with its grant (``invoice:<invoice id>``).
subscription_invoices = Table(
    "subscription_invoices",
    metadata,
    Column("invoice_id", KEY, primary_key=True),
    Column("subscription_id", KEY, nullable=False),
    Column("user_id", ID, nullable=False),
    Column("billing_reason", String(64), nullable=False),
    Column("period_start", UtcDateTime, nullable=False),
    Column("period_end", UtcDateTime, nullable=False),
    Column("amount_paid", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("paid_at", UtcDateTime, nullable=False),
    Column("payment_intent_id", KEY, unique=True),
    Column("price_id", KEY),
    Column("amount_refunded", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_reversed", BigInteger, nullable=False, server_default=text("0")),
    # What rolled into this invoice's period, and in how many grants (``rollover_key``).
    Column("rolled_in", BigInteger, nullable=False, server_default=text("0")),
    Column("rollovers", Integer, nullable=False, server_default=text("0")),
    Index(None, "subscription_id", "period_end"),
    Index(None, "subscription_id", "period_start"),
)

# The terms invoices are granted with, by gateway price (a shared catalogue).
subscription_plans = Table(
    "subscription_plans",
    metadata,
    Column("price_id", KEY, primary_key=True),
    Column("plan_id", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("interval", String(8), nullable=False),
    Column("credits_per_period", BigInteger, nullable=False),
    Column("rollover_cap", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# At most one subscription Checkout being opened or open per user: claimed with
# INSERT ... ON CONFLICT, taken over only once it has lapsed (or by the same key).
subscription_checkout_claims = Table(
    "subscription_checkout_claims",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("claim_key", KEY, nullable=False),
    Column("held_until", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
)

# One gateway customer per user, created once and reused.
gateway_customers = Table(
    "gateway_customers",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("customer_id", KEY, nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# Alert settings and flags (domain.alerts); a row appears when either is first stored.
account_alerts = Table(
    "account_alerts",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("low_balance_threshold", BigInteger),
    Column("runway_alert_days", Integer),
    Column("low_balance_armed", Boolean, nullable=False, server_default=text("true")),
    Column("depleted_armed", Boolean, nullable=False, server_default=text("true")),
    Column("runway_low_armed", Boolean, nullable=False, server_default=text("true")),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Auto top-up (domain.auto_top_up): one row of settings per user, one row per request.
auto_top_up_settings = Table(
    "auto_top_up_settings",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("threshold_credits", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("package_id", String(64)),
    Column("monthly_limit", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("updated_at", UtcDateTime, nullable=False),
)

IN_FLIGHT = text("status IN ('requested', 'action_required')")  # domain.auto_top_up.IN_FLIGHT
auto_top_ups = Table(
    "auto_top_ups",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, nullable=False),
    Column("status", String(32), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("package_id", String(64)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("payment_id", ID),
    Column("last_error", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    # The Checkout opened when the bank asked for authentication, and its page.
    Column("checkout_payment_id", ID),
    Column("action_url", Text),
    # At most one top-up in flight per user: the database, not the code, decides.
    Index(None, "user_id", unique=True, postgresql_where=IN_FLIGHT, sqlite_where=IN_FLIGHT),
    Index(None, "user_id", "created_at"),
    Index(None, "status", "next_attempt_at"),
    # Found from its Checkout's payment when that is paid or closes.
    Index(None, "checkout_payment_id", unique=True),
)

# ---- operators: credit adjustments ---------------------------------------------------

# One row per admin key that adjusted credits; its row lock serialises that key's
# adjustments so the 24-hour grant total cannot be passed by concurrent requests.
admin_keys = Table(
    "admin_keys",
    metadata,
    Column("key_id", ID, primary_key=True),
    Column("first_used_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=False),
)

# Why each admin_adjustment ledger entry was made, and by which admin key.
admin_adjustments = Table(
    "admin_adjustments",
    metadata,
    Column("entry_id", ENTRY_ID, ForeignKey("ledger_entries.id"), primary_key=True),
    Column("idempotency_key", KEY, nullable=False, unique=True),
    Column("user_id", ID, nullable=False),
    Column("admin_key_id", ID, nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "admin_key_id", "created_at"),
)

# ---- the sandbox gateway's own state (adapters/sandbox/sql_store.py) ------------------

# What the sandbox (a fake Stripe) keeps, shared by every process on this database.
# Only the sandbox reads or writes these tables; the Stripe gateway never does.
sandbox_objects = Table(
    "sandbox_objects",
    metadata,
    Column("id", KEY, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("body", Text, nullable=False),  # the record as JSON (adapters/sandbox/codec.py)
)

sandbox_idempotency_keys = Table(
    "sandbox_idempotency_keys",
    metadata,
    Column("idempotency_key", KEY, primary_key=True),
    Column("request", Text, nullable=False),
    Column("object_id", KEY, nullable=False),
)

sandbox_events = Table(
    "sandbox_events",
    metadata,
    Column("seq", ENTRY_ID, primary_key=True, autoincrement=True),
    Column("event_id", KEY, nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("body", Text, nullable=False),  # the exact bytes delivered, as UTF-8 JSON
    Index(None, "created", "seq"),
)
