"""What a unit of work learned about a user's rewards and alerts from their account row.

A grant's balance statement returns the account's ``has_trial``, ``has_referral`` and
``has_alerts`` flags (set in the transaction that adds the row, never cleared).
The row stays locked until commit, and adding either row takes that lock first, so
"no such row" is true for the rest of the transaction: the purchase's follow-ups
(trial conversion, referral decision, re-arming alerts) skip their lookups for a user
with none.
"""

from __future__ import annotations


class RewardHints:
    def __init__(self) -> None:
        self._flags: dict[str, tuple[bool, bool, bool]] = {}

    def learn(self, user_id: str, has_trial: bool, has_referral: bool, has_alerts: bool) -> None:
        self._flags[user_id] = (has_trial, has_referral, has_alerts)

    def forget(self, user_id: str) -> None:
        """This transaction added a trial, referral or alerts row: ask the database again."""
        self._flags.pop(user_id, None)

    def no_trial(self, user_id: str) -> bool:
        flags = self._flags.get(user_id)
        return flags is not None and not flags[0]

    def no_referral(self, user_id: str) -> bool:
        flags = self._flags.get(user_id)
        return flags is not None and not flags[1]

    def no_alerts(self, user_id: str) -> bool:
        flags = self._flags.get(user_id)
        return flags is not None and not flags[2]
