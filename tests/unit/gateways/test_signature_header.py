"""The ``Stripe-Signature`` header, read exactly as Stripe's own library reads it.

One reading serves both gateways: the age is measured on the very ``t=`` the HMAC
covers (the first one), whatever else the header repeats. The Stripe adapter measures
it on the wall clock, the sandbox on its own clock; both must agree with the SDK on
which headers are valid.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import stripe

from adapters.sandbox.webhooks import parse_signed_event
from adapters.stripe.events import parse_event
from application.webhooks.events import GatewayEvent
from application.webhooks.gateway import InvalidSignature

SECRET = "whsec_current"
OTHER = "whsec_other"
BODY = json.dumps(
    {"id": "evt_sig", "object": "event", "type": "ping", "data": {"object": {}}}
).encode()
SANDBOX_NOW = 1_767_225_600

Verify = Callable[[bytes, str], GatewayEvent]


def sig(at: int | str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{at}.".encode() + BODY, hashlib.sha256).hexdigest()


def stripe_adapter(payload: bytes, header: str) -> GatewayEvent:
    return parse_event(payload, header, [SECRET])


def sandbox(payload: bytes, header: str) -> GatewayEvent:
    return parse_signed_event(payload, header, [SECRET], datetime.fromtimestamp(SANDBOX_NOW, UTC))


@pytest.fixture(params=["stripe", "sandbox"])
def verifier(request: pytest.FixtureRequest) -> tuple[Verify, int]:
    """A verification path, and what "now" is on its clock."""
    if request.param == "stripe":
        return stripe_adapter, int(time.time())
    return sandbox, SANDBOX_NOW


def headers(now: int) -> dict[str, tuple[str, bool]]:
    """Header forms, and whether Stripe's library accepts each (1,000 s old is stale)."""
    old = now - 1000
    return {
        "plain": (f"t={now},v1={sig(now)}", True),
        "plus sign": (f"t=+{now},v1={sig(now)}", True),
        "+old then now, signed old": (f"t=+{old},t={now},v1={sig(old)}", False),
        "old then future, signed old": (f"t={old},t={now + 1000},v1={sig(old)}", False),
        "old then now, signed now": (f"t={old},t={now},v1={sig(now)}", False),
        "now then old, signed now": (f"t={now},t={old},v1={sig(now)}", True),
        "duplicate t": (f"t={now},t={now},v1={sig(now)}", True),
        "not an integer": (f"t=abc,v1={sig('abc')}", False),
        "empty t": (f"t=,v1={sig('')}", False),
        "t without a value": (f"t,v1={sig(now)}", False),
        "a later t without a value": (f"t={now},v1={sig(now)},t", False),
        "v1 without a value": (f"t={now},v1={sig(now)},v1", False),
        "no t": (f"v1={sig(now)}", False),
        "no v1": (f"t={now},v0={sig(now)}", False),
        "rotation, right one second": (f"t={now},v1={sig(now, OTHER)},v1={sig(now)}", True),
        "rotation, none right": (f"t={now},v1={sig(now, OTHER)},v1=00ff", False),
        "space inside t's value": (f"t= {now} ,v1={sig(now)}", True),
        "space before v1": (f"t={now}, v1={sig(now)}", False),
        "space before t": (f" t={now},v1={sig(now)}", False),
        "trailing text after the signature": (f"t={now},v1={sig(now)}=x", True),
        "underscore digits": (f"t={str(now)[:4]}_{str(now)[4:]},v1={sig(now)}", True),
    }


FORMS = list(headers(0))


@pytest.mark.parametrize("form", FORMS)
def test_each_header_form_is_judged_as_stripe_judges_it(
    verifier: tuple[Verify, int], form: str
) -> None:
    verify, now = verifier
    header, accepted = headers(now)[form]
    if accepted:
        assert verify(BODY, header).event_id == "evt_sig"
    else:
        with pytest.raises(InvalidSignature):
            verify(BODY, header)


@pytest.mark.parametrize("form", FORMS)
def test_the_expected_verdicts_are_the_sdks_own(form: str) -> None:
    """The table above is Stripe's library's verdict, so the code follows the SDK."""
    now = int(time.time())
    header, accepted = headers(now)[form]
    try:
        stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=300)
    except stripe.SignatureVerificationError:
        assert not accepted
    else:
        assert accepted


def test_a_thousand_second_old_event_is_refused_by_the_sandbox_whatever_t_follows() -> None:
    old = SANDBOX_NOW - 1000
    for later in (SANDBOX_NOW, SANDBOX_NOW + 1000):
        with pytest.raises(InvalidSignature, match="tolerance"):
            sandbox(BODY, f"t=+{old},t={later},v1={sig(old)}")
