"""/sandbox: rehearse a subscription's lifecycle without a Stripe account.

Mounted with the sandbox only. Each call answers ``{status, events}`` like the other
sandbox calls; ``deliver`` is ``now`` (default) or ``never`` (the events are kept, so
``batch reconcile`` can find them, but their webhooks are lost).

- ``POST /sandbox/subscriptions/{id}/renew``: the period ends now; the subscription
  renews and its invoice is charged (``invoice.paid``), or ends if it was canceled at
  period end (``customer.subscription.deleted``).
- ``POST /sandbox/subscriptions/{id}/fail-next-renewal``: the next charge (a renewal, a
  retry or an upgrade) is declined; a declined renewal makes the subscription
  ``past_due`` (``invoice.payment_failed``).
- ``POST /sandbox/subscriptions/{id}/retry``: charge the open invoice again (Stripe's
  retry, or the customer updating their card).
- ``POST /sandbox/invoices/{invoice_id}/refund {amount?}``: refund a paid invoice, as
  from the Stripe dashboard (``charge.refunded``, ``refund.created``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import FromPath, JSONBody

from adapters.sandbox.records import Outcome
from entrypoints.http.params import strict_body
from entrypoints.http.sandbox import Deliver, ExpireIn, Sandbox, SandboxOut


class RefundInvoiceIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(ge=1)] | None = None
    deliver: Deliver = "now"


def _out(outcome: Outcome) -> SandboxOut:
    return SandboxOut(outcome.status, outcome.payloads(), outcome.message)


async def _deliver(request: Request[Any, Any, Any]) -> Deliver:
    if not (await request.body()).strip():
        return "now"
    return (await strict_body(request, ExpireIn)).deliver


class SandboxSubscriptionsController(Controller):
    path = "/sandbox"
    include_in_schema = False

    @post("/subscriptions/{subscription_id:str}/renew", status_code=200)
    async def renew(
        self,
        subscription_id: FromPath[str],
        request: Request[Any, Any, Any],
        sandbox: Sandbox,
        data: JSONBody[ExpireIn | None] = None,
    ) -> SandboxOut:
        deliver = await _deliver(request)
        return _out(await sandbox.renew_subscription(subscription_id, deliver))

    @post("/subscriptions/{subscription_id:str}/retry", status_code=200)
    async def retry(
        self,
        subscription_id: FromPath[str],
        request: Request[Any, Any, Any],
        sandbox: Sandbox,
        data: JSONBody[ExpireIn | None] = None,
    ) -> SandboxOut:
        deliver = await _deliver(request)
        return _out(await sandbox.retry_subscription_payment(subscription_id, deliver))

    @post("/subscriptions/{subscription_id:str}/fail-next-renewal", status_code=200)
    async def fail_next_renewal(
        self, subscription_id: FromPath[str], sandbox: Sandbox
    ) -> SandboxOut:
        return _out(await sandbox.fail_next_renewal(subscription_id))

    @post("/invoices/{invoice_id:str}/refund", status_code=200)
    async def refund_invoice(
        self,
        invoice_id: FromPath[str],
        request: Request[Any, Any, Any],
        sandbox: Sandbox,
        data: JSONBody[RefundInvoiceIn | None] = None,
    ) -> SandboxOut:
        body = RefundInvoiceIn()
        if (await request.body()).strip():
            body = await strict_body(request, RefundInvoiceIn)
        return _out(await sandbox.refund_invoice(invoice_id, body.amount, body.deliver))
