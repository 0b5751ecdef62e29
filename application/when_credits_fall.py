"""After a change that lowered a user's available credits, in its transaction: decide
the balance alerts (``alerts.check``), then request an auto top-up
(``auto_top_up.request``).

Every change that lowers available credits is told by an event, and each of those
events has this follow-up (``application.bootstrap``): a usage debit or a hold's
capture (``CreditsDebited``), an expiry (``CreditsExpired``), a reversal of a refund,
a lost dispute or a referral bonus (``CreditsReversed``), a hold placed, for spending
or for a dispute (``HoldPlaced``), and an operator's negative adjustment
(``CreditsAdjusted``). The change holds the account row until commit, so two changes
of one account decide one after the other, each on the balance the other left.

Every fall decides the alerts; only spending and expiry charge the saved card
(``charges_card``). A reversal gives money back to the customer or to their bank (a
refund, a lost dispute, a bonus whose purchase was refunded), a dispute's hold means
the customer is contesting a charge, and an operator's debit is a correction: charging
the card again at once would undo a refund just made, or charge a customer who is
disputing. A dispute opened also turns auto top-up off (``auto_top_up.pause``).
"""

from __future__ import annotations

from datetime import datetime

from application.alerts.check import check_alerts, rearm_alerts
from application.auto_top_up.request import request_auto_top_up
from application.messagebus import Handler
from application.ports import UnitOfWork
from domain.credits import PricingPolicy
from domain.events import CreditsAdjusted, CreditsDebited, CreditsExpired, DomainEvent, HoldPlaced
from domain.holds import HoldKind


def when_credits_fall(pricing: PricingPolicy | None) -> Handler[DomainEvent]:
    """The follow-up, with the catalogue that prices a package's top-up."""

    async def follow(uow: UnitOfWork, event: DomainEvent, now: datetime) -> None:
        await check_alerts(uow, event, now)
        if charges_card(event):
            await request_auto_top_up(uow, event, now, pricing)

    return follow


def charges_card(event: DomainEvent) -> bool:
    """Whether this fall may request an auto top-up: spending, a spending hold, expiry."""
    if isinstance(event, HoldPlaced):
        return event.hold_kind != HoldKind.DISPUTE.value
    return isinstance(event, CreditsDebited | CreditsExpired)


def when_adjusted(fell: Handler[DomainEvent]) -> Handler[CreditsAdjusted]:
    """An operator's adjustment: a debit is a fall, a grant re-arms the alerts."""

    async def follow(uow: UnitOfWork, event: CreditsAdjusted, now: datetime) -> None:
        if event.credits < 0:
            await fell(uow, event, now)
        else:
            await rearm_alerts(uow, event, now)

    return follow
