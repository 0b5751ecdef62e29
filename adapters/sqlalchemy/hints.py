"""What a unit of work learned about a user's optional rows from their account row.

A grant's balance statement returns the account's ``has_trial``, ``has_referral`` and
``has_alerts`` flags, and a spend's opening statement ``has_alerts`` and
``has_auto_top_up`` (each set in the transaction that adds its row, never cleared).
The row stays locked until commit, and adding any of those rows takes that lock first,
so "no such row" is true for the rest of the transaction: the follow-ups (trial
conversion, referral decision, the alerts, the auto top-up request) skip their lookups
for a user with none.
"""

from __future__ import annotations


class RewardHints:
    def __init__(self) -> None:
        self._flags: dict[str, dict[str, bool]] = {}

    def learn(self, user_id: str, **flags: bool) -> None:
        """``has_trial``, ``has_referral``, ``has_alerts``, ``has_auto_top_up``: as read."""
        self._flags.setdefault(user_id, {}).update(flags)

    def forget(self, user_id: str) -> None:
        """This transaction added one of those rows: ask the database again."""
        self._flags.pop(user_id, None)

    def _known_absent(self, user_id: str, flag: str) -> bool:
        return self._flags.get(user_id, {}).get(flag) is False

    def no_trial(self, user_id: str) -> bool:
        return self._known_absent(user_id, "has_trial")

    def no_referral(self, user_id: str) -> bool:
        return self._known_absent(user_id, "has_referral")

    def no_alerts(self, user_id: str) -> bool:
        return self._known_absent(user_id, "has_alerts")

    def no_auto_top_up(self, user_id: str) -> bool:
        return self._known_absent(user_id, "has_auto_top_up")
