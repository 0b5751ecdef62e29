"""What a unit of work learned about a user's account row: which optional rows exist.

A grant's balance statement returns the account's ``has_trial``, ``has_referral`` and
``has_alerts`` flags, and a spend's opening statement ``has_alerts`` and
``has_auto_top_up`` (each set in the transaction that adds its row, never cleared).
The row stays locked until commit, and adding any of those rows takes that lock first,
so "no such row" is true for the rest of the transaction: the follow-ups (trial
conversion, referral decision, the alerts, the auto top-up request) skip their lookups
for a user with none.

It also keeps the account (balance, held) a spend's statements returned last: every
statement that changes an account's balance or held goes through the ledger or the
spending repository, which record what it returned or forget it, and the row is locked,
so the follow-ups' read of the available balance needs no round trip.
"""

from __future__ import annotations

from domain.ledger import Account


class AccountHints:
    def __init__(self) -> None:
        self._flags: dict[str, dict[str, bool]] = {}
        self._accounts: dict[str, Account] = {}

    def know_account(self, account: Account) -> None:
        """What a statement that changed or locked this account returned."""
        self._accounts[account.user_id] = account

    def known_account(self, user_id: str) -> Account | None:
        return self._accounts.get(user_id)

    def forget_account(self, user_id: str) -> None:
        """A statement changed the account without telling what it left: read it again."""
        self._accounts.pop(user_id, None)

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
