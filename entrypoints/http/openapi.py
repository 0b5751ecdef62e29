"""What the API says about itself: the OpenAPI schema at /schema, and ``Allow``.

Litestar documents what a handler returns; ``document`` adds, in one place and for
every route (new ones included), what the app around the handlers answers: the
``{"error": {"code", "message"}}`` body of every 4xx/5xx, the statuses each operation
can answer (from its guards, parameters and body), the bearer scheme on every route
that authenticates and none on public ones. A route declares only what the domain
adds (``responses=errors(404, 409)``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import get_args

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute

from entrypoints.http.auth import has_role_guard, needs_key
from entrypoints.http.docs_assets import local_swagger
from entrypoints.http.limits import EXEMPT
from entrypoints.http.webhook import PATH as WEBHOOK_PATH

BEARER = "bearer"
ERROR_REF = Reference(ref="#/components/schemas/Error")
_REASONS = {
    400: "Malformed or invalid request (bad JSON, parameter, field or cursor)",
    401: "Missing, invalid or revoked API key",
    402: "Not enough available credits; `error.available` says how many there are",
    403: "The key may not call this route (it needs an operator's or a service's)",
    404: "No such resource, or not the caller's",
    409: "Conflicts with the current state (an Idempotency-Key reused, a duplicate)",
    413: "Request body larger than MAX_BODY_BYTES",
    422: "Well formed, but a business rule refuses it",
    429: "Rate limit exceeded",
    503: "The database or the payment gateway is unavailable; retry",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The domain's own failures of one route, for its decorator's ``responses=``;
    ``document`` gives each the error body."""
    return {
        status: ResponseSpec(data_container=None, description=_REASONS[status])
        for status in statuses
    }


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="creditline",
        version="0.1.0",
        path="/schema",
        render_plugins=[JsonRenderPlugin(path="/openapi.json"), local_swagger()],
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="A user's API key, or an operator key from ADMIN_API_KEYS",
                )
            },
        ),
    )


def document(app: Litestar) -> None:
    """Complete every operation of ``app``'s schema, and fix OPTIONS' ``Allow``."""
    schema = app.openapi_schema
    components = schema.components.schemas
    components["Error"] = _error_schema()
    paths = schema.paths or {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        _fix_options(route)
        path_item = paths.get(route.path_format or "/")
        for method, (handler, _) in route.route_handler_map.items():
            operation = getattr(path_item, method.lower(), None)
            if isinstance(operation, Operation):
                _complete(operation, handler, route)
                _strict_body(operation, handler, components)


def _complete(operation: Operation, handler: HTTPRouteHandler, route: HTTPRoute) -> None:
    authenticated = needs_key(handler)
    operation.security = [{BEARER: []}] if authenticated else []
    if route.path == WEBHOOK_PATH:
        _describe_webhook(operation)
    for parameter in operation.parameters or []:
        if isinstance(parameter, Parameter) and not parameter.required:
            parameter.schema = _without_null(parameter.schema)
    responses = operation.responses or {}
    declared = {int(status) for status in responses if int(status) >= 400}
    for status in declared | _statuses(operation, handler, route, authenticated):
        responses[str(status)] = _error_response(status)
    no_content = responses.get("204")
    if isinstance(no_content, OpenAPIResponse):
        no_content.content = None
    operation.responses = dict(sorted(responses.items()))


def _without_null(schema: Schema | Reference | None) -> Schema | Reference | None:
    """An optional parameter is absent, never null: ``oneOf [T, null]`` becomes T."""
    if not isinstance(schema, Schema) or not schema.one_of:
        return schema
    kinds = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
    if len(kinds) != 1 or not isinstance(kinds[0], Schema):
        return schema
    merged = {k: v for k, v in vars(schema).items() if v is not None and k != "one_of"}
    return replace(kinds[0], **merged)


def _strict_body(
    operation: Operation, handler: HTTPRouteHandler, components: dict[str, Schema | Reference]
) -> None:
    """A body struct that refuses unknown fields says so: ``additionalProperties: false``."""
    data = handler.parsed_fn_signature.parameters.get("data")
    kind = getattr(data, "annotation", None)
    kinds = [k for k in get_args(kind) if k is not type(None)]
    kind = kinds[0] if len(kinds) == 1 else kind  # an optional body: ``Struct | None``
    body = operation.request_body
    if not (isinstance(body, RequestBody) and isinstance(kind, type)):
        return
    if not (issubclass(kind, msgspec.Struct) and kind.__struct_config__.forbid_unknown_fields):
        return
    for media in body.content.values():
        ref = media.schema
        if isinstance(ref, Schema) and ref.one_of:
            ref = next((r for r in ref.one_of if isinstance(r, Reference)), ref)
        target = components.get(ref.ref.rsplit("/", 1)[-1]) if isinstance(ref, Reference) else ref
        if isinstance(target, Schema):
            target.additional_properties = False


def _statuses(
    operation: Operation, handler: HTTPRouteHandler, route: HTTPRoute, authenticated: bool
) -> set[int]:
    """What the app answers around the handler: authentication, parameters, body, limits."""
    has_body = operation.request_body is not None
    statuses: set[int] = set()
    if authenticated or has_body or operation.parameters:
        statuses.add(400)
    if authenticated:
        statuses |= {401, 503}
    if has_role_guard(handler):
        statuses.add(403)
    if route.path_parameters:
        statuses.add(404)
    if any(_name(p) == "idempotency-key" for p in operation.parameters or []):
        statuses.add(409)
    if has_body:
        statuses |= {413, 503}
    if not any(re.search(pattern, route.path) for pattern in EXEMPT):
        statuses.add(429)
    return statuses


def _describe_webhook(operation: Operation) -> None:
    """The webhook reads its raw body and header itself: say what Stripe sends."""
    signature = Parameter(
        name="Stripe-Signature",
        param_in="header",
        required=True,
        schema=Schema(type=OpenAPIType.STRING, min_length=1),
        description="Stripe's signature of the raw body (t=...,v1=...)",
    )
    operation.parameters = [
        *[p for p in operation.parameters or [] if _name(p) != "stripe-signature"],
        signature,
    ]
    event = Schema(type=OpenAPIType.OBJECT, description="A Stripe event, exactly as sent")
    operation.request_body = RequestBody(
        content={"application/json": OpenAPIMediaType(schema=event)}, required=True
    )


def _name(parameter: Parameter | Reference) -> str:
    return parameter.name.lower() if isinstance(parameter, Parameter) else ""


def _error_response(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=_REASONS.get(status, "Error"),
        content={"application/json": OpenAPIMediaType(schema=ERROR_REF)},
    )


def _error_schema() -> Schema:
    text = Schema(type=OpenAPIType.STRING)
    detail = Schema(
        type=OpenAPIType.OBJECT,
        properties={
            "code": text,
            "message": text,
            "available": Schema(type=OpenAPIType.INTEGER, description="with 402 only"),
        },
        required=["code", "message"],
    )
    return Schema(type=OpenAPIType.OBJECT, properties={"error": detail}, required=["error"])


def _fix_options(route: HTTPRoute) -> None:
    """Answer OPTIONS with every method of the path.

    Litestar builds a Controller's routes one handler at a time and keeps the first
    automatic OPTIONS handler, which lists only the methods known then (GET missing
    beside POST on the same path). Give it a fresh answer from the finished route.
    """
    entry = route.route_handler_map.get("OPTIONS")
    if entry is None or entry[0].handler_name != "options_handler":
        return
    entry[0]._fn = route.create_options_handler(route.path).fn
