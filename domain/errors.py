"""Business failures, each with a stable code that clients and scripts can rely on.

The HTTP edge maps ``status`` to a response; nothing below the entrypoints knows HTTP,
the status is only the category of failure (validation, conflict, rule, ...).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every business failure."""

    code = "domain_error"
    status = 422

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationFailed(DomainError):
    """Input that breaks a rule of form (bad amount, unknown currency, ...)."""

    code = "validation_error"
    status = 400


class UnsupportedCurrency(ValidationFailed):
    code = "unsupported_currency"


class AmountOutOfRange(ValidationFailed):
    code = "amount_out_of_range"


class UnknownPackage(ValidationFailed):
    code = "unknown_package"


class PackageAmountMismatch(ValidationFailed):
    code = "package_amount_mismatch"


class RedirectNotAllowed(ValidationFailed):
    code = "redirect_not_allowed"


class NotFound(DomainError):
    """Also used for another user's objects, so ids cannot be probed."""

    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401


class Conflict(DomainError):
    code = "conflict"
    status = 409


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    code = "request_in_progress"


class EmailTaken(Conflict):
    code = "email_taken"


class ApiKeyLimitReached(Conflict):
    """A user holds as many active keys as allowed; revoke one to make another."""

    code = "api_key_limit"


class InvalidTransition(DomainError):
    """A payment was asked to move to a status its current status cannot reach."""

    code = "invalid_transition"


class RefundNotAllowed(DomainError):
    code = "refund_not_allowed"


class RefundExceedsRemaining(DomainError):
    code = "refund_exceeds_remaining"


class InsufficientCredits(DomainError):
    """``available`` is what the account could spend when the debit was refused."""

    code = "insufficient_credits"
    status = 402

    def __init__(self, message: str, *, available: int | None = None) -> None:
        super().__init__(message)
        self.available = available

    @property
    def details(self) -> dict[str, int]:
        """Shown beside the code: what the caller could spend instead."""
        return {} if self.available is None else {"available": self.available}


class LotChanged(Conflict):
    """An expiry named a lot whose unspent part is no longer what the posting removes:
    it was read outside the transaction that expires it. Read it again and retry."""

    code = "lot_changed"


class GatewayUnavailable(DomainError):
    """The payment gateway could not be reached or failed; the caller may retry."""

    code = "gateway_unavailable"
    status = 503


class GatewayRejected(DomainError):
    """The payment gateway refused the request (bad parameters, card declined, ...)."""

    code = "gateway_rejected"
    status = 422


# ---- referrals ------------------------------------------------------------------------


class UnknownReferralCode(ValidationFailed):
    code = "unknown_referral_code"


class OwnReferralCode(DomainError):
    code = "own_referral_code"


class ReferralAlreadyApplied(Conflict):
    code = "referral_already_applied"


class ReferralWindowClosed(DomainError):
    """Codes are applied before the first purchase, which decides the referral."""

    code = "referral_window_closed"


class ReferralCycle(DomainError):
    code = "referral_cycle"


class ReferralCodeExhausted(DomainError):
    """The referrer has been paid for as many referrals as it may be."""

    code = "referral_code_exhausted"


# ---- coupons --------------------------------------------------------------------------


class InvalidCouponCode(ValidationFailed):
    code = "invalid_coupon_code"


class CouponCodeTaken(Conflict):
    code = "coupon_code_taken"


class CouponNotFound(NotFound):
    code = "coupon_not_found"


class CouponInactive(DomainError):
    code = "coupon_inactive"


class CouponNotYetValid(DomainError):
    code = "coupon_not_yet_valid"


class CouponExpired(DomainError):
    code = "coupon_expired"


class CouponNotAssigned(Forbidden):
    """The coupon is restricted to another user."""

    code = "coupon_not_assigned"


class OutboundEventNotFound(NotFound):
    code = "outbound_event_not_found"


# ---- subscriptions --------------------------------------------------------------------


class UnknownPlan(ValidationFailed):
    code = "unknown_plan"


class SubscriptionExists(Conflict):
    """One live subscription per user: change its plan instead of subscribing again."""

    code = "subscription_exists"


class SubscriptionNotChangeable(DomainError):
    """The subscription's status does not allow the change asked (e.g. it is canceled)."""

    code = "subscription_not_changeable"


class CouponExhausted(DomainError):
    code = "coupon_exhausted"


class CouponAlreadyRedeemed(Conflict):
    code = "coupon_already_redeemed"


class CouponBlockedByDebt(DomainError):
    """Promotional credits do not pay off debt from refunded, already spent credits."""

    code = "coupon_blocked_by_debt"


# ---- spending and holds -----------------------------------------------------------------


class HoldNotFound(NotFound):
    code = "hold_not_found"


class HoldExpired(DomainError):
    """A hold past its expiry holds nothing any more and cannot be captured."""

    code = "hold_expired"
    status = 409


class HoldNotActive(Conflict):
    """The hold was already captured or released (or expired)."""

    code = "hold_not_active"


class CaptureExceedsHold(DomainError):
    code = "capture_exceeds_hold"


# ---- operators ------------------------------------------------------------------------


class AdminGrantTooLarge(DomainError):
    """One adjustment grants more than ADMIN_MAX_GRANT credits."""

    code = "admin_grant_too_large"


class AdminDailyGrantLimit(DomainError):
    """An admin key's grants of the last 24 hours would pass ADMIN_DAILY_GRANT_LIMIT."""

    code = "admin_daily_grant_limit"
