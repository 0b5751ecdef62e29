"""Balance reads trust a key checked moments ago; a revoked key stops within a bound."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from application.accounts.users import Principal
from domain.user import User
from entrypoints.http.auth import KEY_TRUST_SECONDS, RecentCallers

ALICE = Principal(User(id="usr_a", email="a@example.com", created_at=datetime.now(UTC)), False)


def test_a_checked_key_is_trusted_for_a_bounded_time() -> None:
    recent = RecentCallers(trust_seconds=0.05)
    recent.remember("cl_key", ALICE)
    assert recent.trusted("cl_key") == ALICE
    time.sleep(0.1)
    assert recent.trusted("cl_key") is None
    assert recent.principal_for("cl_key") == "user:usr_a"  # the rate limiter's hour
    assert KEY_TRUST_SECONDS <= 5


def test_revoking_any_key_of_a_user_stops_trusting_all_of_theirs() -> None:
    recent = RecentCallers()
    recent.remember("cl_one", ALICE)
    recent.remember("cl_two", ALICE)
    recent.forget_user("usr_a")
    assert recent.trusted("cl_one") is None and recent.trusted("cl_two") is None
