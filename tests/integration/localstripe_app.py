"""Run localstripe for the integration tests: ``python -m tests.integration.localstripe_app``.

localstripe's own ``start()`` listens on every interface of a fixed port and loads and
saves its store in /tmp/localstripe.pickle. This runner binds 127.0.0.1 on a port the
OS picks (printed as the first line on stdout), keeps the store in memory, and teaches
localstripe the few documented Stripe behaviours creditline relies on that it lacks:

- an ``Idempotency-Key`` replays the first result;
- PaymentIntents accept ``description`` and report ``amount_received``;
- refunds accept ``reason`` and emit ``refund.created`` and ``charge.refunded``.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from aiohttp import web
from localstripe import resources, server

from tests.integration.stripe_http import IdempotencyCache


def _accept_parameters(cls: Any, *names: str) -> None:
    """Let ``cls(...)`` take Stripe parameters localstripe refuses, stored as attributes."""
    original = cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        extra = {name: kwargs.pop(name, None) for name in names}
        original(self, *args, **kwargs)
        for name, value in extra.items():
            setattr(self, name, value)

    cls.__init__ = __init__


def _emit_refund_events() -> None:
    original = resources.Refund.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        resources.schedule_webhook(resources.Event("refund.created", self))
        charge = resources.Charge._api_retrieve(self.charge)
        resources.schedule_webhook(resources.Event("charge.refunded", charge))

    resources.Refund.__init__ = __init__


def _amount_received(intent: Any) -> int:
    return int(intent.amount) if intent.status == "succeeded" else 0


def patch_localstripe() -> None:
    resources.Store.dump_to_disk = lambda self: None
    _accept_parameters(resources.Refund, "reason")
    _emit_refund_events()  # after: the events then show the reason
    _accept_parameters(resources.PaymentIntent, "description")
    resources.PaymentIntent.amount_received = property(_amount_received)
    server.app.middlewares.insert(0, IdempotencyCache().middleware)


def main() -> None:
    patch_localstripe()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    # Nothing else may go to the pipe the fixture reads once and then leaves alone.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
