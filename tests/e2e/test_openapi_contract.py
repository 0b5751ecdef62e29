"""Schemathesis against the app's own OpenAPI schema, with every check it has.

Schemathesis's engine (what ``schemathesis run`` drives) runs in-process against the
app on the sandbox gateway and a SQLite file, once with a user's key, once with an
admin user's key and once with an operator (service) key from ADMIN_API_KEYS. Every
response must be documented (status, body, Content-Type, headers), schema-valid
requests accepted, invalid ones refused, and no 5xx.

Budget: ``FUZZ_EXAMPLES`` cases per operation in the fuzzing phase (2 in the normal
test run) plus the coverage phase (the boundary and missing-value cases the schema
implies); ``FUZZ_STATEFUL=1`` adds the stateful phase. ``just fuzz`` raises both.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from litestar.testing import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.engine import Status, events
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from adapters.sqlalchemy.migrate import upgrade_sync
from tests.e2e.conftest import ADMIN, AppUnderTest, make_app

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
FUZZ_STATEFUL = os.environ.get("FUZZ_STATEFUL", "") == "1"
PRINCIPALS = ["user", "admin", "service"]

RULES_BEYOND_THE_SCHEMA = frozenset(
    {
        "invalid_cursor",  # cursors are opaque: only one the server issued is valid
        "redirect_not_allowed",  # success/cancel URLs must be on FRONTEND_URL's origin
        "unknown_package",  # package ids come from configuration
        "unknown_plan",  # subscription plan ids come from configuration
        "package_amount_mismatch",  # a package id and an amount that disagree
        "amount_out_of_range",  # per-currency bounds from configuration
        "unsupported_currency",  # currencies from configuration
        "user_key_required",  # a user's endpoint called with an operator key
        "unknown_referral_code",  # a well-formed code nobody owns
        "invalid_signature",  # only Stripe can sign a webhook
        "invalid_email",  # an address's syntax, beyond its declared length
        "unknown_user",  # a coupon assigned to a user id nobody has
        "duplicate_idempotency_key",  # one key twice for one user in a debit batch
    }
)
"""400s that a schema-valid request still gets: rules that depend on configuration,
on state or on another field, which JSON Schema cannot state. Only these codes pass
``positive_data_acceptance``; any other 400 to a schema-valid request fails it."""
RULES_BEYOND_THE_SCHEMA_MESSAGES = (
    "valid_until must be after valid_from",
    "amount and currency are required without a package_id",
    # JSON Schema counts 5.0 as an integer; the API refuses a decimal point where it
    # wants an integer, on purpose (cents versus dollars, docs/failure-modes.md #13).
    "got `float`",
)
"""The same, for ``validation_error`` answers recognised by their message."""


@schemathesis.check
def positive_data_acceptance_beyond_the_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    """``positive_data_acceptance``, except for the codes in ``RULES_BEYOND_THE_SCHEMA``."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        if response.status_code == 400 and _beyond_the_schema(response):
            return None
        raise


def _beyond_the_schema(response: Any) -> bool:
    if _code(response) in RULES_BEYOND_THE_SCHEMA:
        return True
    text = response.content.decode("utf-8", "replace")
    return any(fragment in text for fragment in RULES_BEYOND_THE_SCHEMA_MESSAGES)


@schemathesis.check
def negative_data_rejection_but_null_text(ctx: Any, response: Any, case: Any) -> bool | None:
    """``negative_data_rejection``, waiving an optional query parameter sent as the
    text ``null``: Litestar reads it as the parameter's absence, which is harmless."""
    try:
        return negative_data_rejection(ctx, response, case)
    except Failure:
        if any(_is_null(value) for value in (case.query or {}).values()):
            return None
        raise


def _is_null(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(v is None or v == "null" for v in values)


def _code(response: Any) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def _config(api_key: str) -> SchemathesisConfig:
    phases = {"stateful": {"enabled": FUZZ_STATEFUL}}
    return SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Bearer {api_key}"},
            "workers": 1,
            "seed": 20261130,
            "phases": phases,
            "generation": {"max-examples": FUZZ_EXAMPLES, "database": "none"},
            "checks": {
                # Replaced by positive_data_acceptance_beyond_the_schema, which reads
                # this configuration. A business rule refusing a well-formed request (422, or
                # 402 for credits it does not have) is not a rejected schema-valid request.
                "positive_data_acceptance": {
                    "enabled": False,
                    "expected-statuses": ["2xx", "3xx", 401, 402, 403, 404, 409, 422, 429, "5xx"],
                },
                "negative_data_rejection": {"enabled": False},
            },
        }
    )


SERVICE_KEY = "fuzz-service-key-0123456789"


@pytest.fixture(scope="module")
def under_test(tmp_path_factory: pytest.TempPathFactory) -> AppUnderTest:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    upgrade_sync(url)
    return make_app(url, RATE_LIMIT_PER_MINUTE="0", SERVICE_API_KEYS=SERVICE_KEY)


@pytest.fixture(scope="module")
def keys(under_test: AppUnderTest) -> dict[str, str]:
    made = {"service": SERVICE_KEY}
    with TestClient(under_test.app) as client:
        for name in ("user", "admin"):
            body = {"email": f"fuzz-{name}@example.com", "is_admin": name == "admin"}
            response = client.post("/api/users", json=body, headers=ADMIN)
            assert response.status_code == 201, response.text
            made[name] = response.json()["api_key"]
    return made


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_schemathesis_finds_nothing(
    under_test: AppUnderTest, keys: dict[str, str], principal: str
) -> None:
    schema = schemathesis.openapi.from_asgi(
        "/schema/openapi.json", under_test.app, config=_config(keys[principal])
    )
    cases, failures, errors = _run(schema)
    print(f"\nschemathesis [{principal}]: {cases} cases, {len(failures)} failures")
    assert not errors, errors
    assert not failures, "\n\n".join(failures)


def _run(schema: Any) -> tuple[int, list[str], list[str]]:
    cases = 0
    failures: list[str] = []
    errors: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            failures += _failures(event.recorder)
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return cases, sorted(Counter(failures)), errors


def _failures(recorder: Any) -> list[str]:
    found = []
    for case_id, checks in recorder.checks.items():
        interaction = recorder.interactions.get(case_id)
        response = interaction.response if interaction is not None else None
        answer = f"{response.status_code} {response.content[:300]!r}" if response else ""
        for check in checks:
            if check.status == Status.FAILURE and check.failure_info is not None:
                failure = check.failure_info.failure
                found.append(
                    f"{recorder.label} {check.name}: {failure.title}\n{failure.message}\n"
                    f"{check.failure_info.code_sample}\n-> {answer}"
                )
    return found


def test_options_lists_every_method_of_the_path(under_test: AppUnderTest) -> None:
    with TestClient(under_test.app) as client:
        response = client.options("/api/users/me/api-keys")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS, POST"


def test_the_schema_states_errors_security_signature_and_page_bounds(
    under_test: AppUnderTest,
) -> None:
    with TestClient(under_test.app) as client:
        doc = client.get("/schema/openapi.json").json()
    paths = doc["paths"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    error = {"$ref": "#/components/schemas/Error"}
    refund = paths["/api/stripe/refund"]["post"]
    assert refund["security"] == [{"bearer": []}]
    assert {"400", "401", "403", "404", "409", "413", "422", "429", "503"} <= set(
        refund["responses"]
    )
    assert refund["responses"]["400"]["content"]["application/json"]["schema"] == error
    assert paths["/health"]["get"]["security"] == []
    webhook = paths["/api/stripe/webhook"]["post"]
    signature = [p for p in webhook["parameters"] if p["name"] == "Stripe-Signature"]
    assert signature and signature[0]["required"] and signature[0]["in"] == "header"
    revoke = paths["/api/users/me/api-keys/{key_id}"]["delete"]["responses"]["204"]
    assert "content" not in revoke
    params = {p["name"]: p["schema"] for p in paths["/api/stripe/payments"]["get"]["parameters"]}
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 100)
    assert params["cursor"]["minLength"] == 1
