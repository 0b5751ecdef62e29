"""The sandbox's test checkout page: self-contained HTML, every value escaped.

Description and redirect URLs come from the merchant's request, so they are escaped
for HTML and a redirect that is not http(s) is never made a link. The page's one
inline script and style run under a per-response nonce (see ``content_security_policy``).
"""

from __future__ import annotations

import html
from importlib import resources
from string import Template
from urllib.parse import quote, urlsplit

from adapters.sandbox.cards import TEST_CARDS
from adapters.sandbox.records import CheckoutDetails
from application.purchases.gateway import CheckoutStatus
from domain.money import format_minor, minor_unit_exponent

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}
_CHECKOUT = Template(resources.files(__package__).joinpath("checkout.html").read_text("utf-8"))
_NOT_FOUND = Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Checkout not found</title>
<style nonce="$nonce">body { font: 16px/1.5 system-ui, sans-serif; margin: 0; }
.banner { background: #ffd33d; text-align: center; padding: .5rem; font-weight: 700; }
main { max-width: 28rem; margin: 2rem auto; }</style></head>
<body><div class="banner">TEST MODE &middot; sandbox gateway</div>
<main><h1>Checkout not found</h1>
<p>This checkout session does not exist in this sandbox. Sandbox sessions live in
the service's database: one made against another database is unknown here.</p></main></body></html>
"""
)


def format_amount(amount: int, currency: str) -> str:
    """'$10.00' from 1000 usd, '¥500' from 500 jpy: minor units, zero-decimal aware."""
    value = format_minor(amount, minor_unit_exponent(currency))
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


def render_checkout(details: CheckoutDetails, nonce: str) -> str:
    e = html.escape
    amount = format_amount(details.amount, details.currency)
    segment = quote(details.session_id, safe="")
    return _CHECKOUT.substitute(
        nonce=e(nonce),
        amount=e(amount),
        description=e(details.description),
        pay_url=e(f"{segment}/pay"),
        auth_url=e(f"../authenticate/{segment}"),
        success_url=e(_safe_href(details.success_url)),
        cancel_url=e(_safe_href(details.cancel_url)),
        notice=_notice(details),
        form_hidden="" if details.status is CheckoutStatus.OPEN else " hidden",
        cards="\n".join(
            f'      <li><button type="button" data-card="{e(c.display)}">{e(c.display)}'
            f"</button> {e(c.label)}</li>"
            for c in TEST_CARDS
        ),
    )


def render_not_found(nonce: str) -> str:
    return _NOT_FOUND.substitute(nonce=html.escape(nonce))


def content_security_policy(nonce: str) -> str:
    """Only this page's own script and style run, and it only talks to this server."""
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _notice(details: CheckoutDetails) -> str:
    if details.status is CheckoutStatus.COMPLETE:
        text, href = "This checkout session is already paid.", details.success_url
    elif details.status is CheckoutStatus.EXPIRED:
        text, href = "This checkout session has expired.", details.cancel_url
    else:
        return ""
    link = f'<a href="{html.escape(_safe_href(href))}">Return to the merchant</a>'
    return f'<p class="notice" id="closed">{text} {link}</p>'


def _safe_href(url: str) -> str:
    """A ``javascript:`` (or any non-web) redirect must not become a clickable link."""
    scheme = urlsplit(url.strip()).scheme.lower()
    return url if scheme in ("", "http", "https") else "#"
