"""API docs that work offline, and an OpenAPI document that tells the whole contract.

Swagger UI (`/docs`) and ReDoc (`/redoc`) load their scripts from the app itself, out of the
`fastapi-offline` package, never from a CDN: the server often runs where there is no internet.
The OpenAPI document is completed here, after FastAPI writes it: the key each route wants (the
scoring routes check theirs without a FastAPI dependency, so FastAPI cannot know), and every
error each route can answer, in the one shape of `serving.errors`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from scoring import Scope, Settings
from serving.bodies import document_bodies
from serving.errors import (
    REQUEST_ID_HEADER,
    BatchTooLarge,
    Forbidden,
    InvalidParameter,
    ModelUnavailable,
    NoReport,
    PredictionLogFull,
    PredictionLogOff,
    PredictionLogUnreachable,
    TooManyActivities,
    Unauthorized,
    UnsupportedMediaType,
    UnusedInput,
    body_too_large,
    error_body,
)
from serving.routes.score import MAX_REASONS

STATIC = "/docs-static"
# The pages may load from the app alone: ReDoc's bundle, for one, shows a logo from its CDN.
DOCS_POLICY = "default-src 'self' 'unsafe-inline' data: blob:"
SECURITY_SCHEMES = {
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A key of LEADSCORE_API_KEYS. A `score` key scores and reads the model; "
        "an `admin` key reaches every route. A server without keys asks for none.",
    },
    "Bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The same key as `Authorization: Bearer <key>`.",
    },
}
DESCRIPTIONS = {
    401: "No API key, or an unknown one.",
    403: "A key of another scope than the route wants (`score`, `feedback` or `admin`).",
    404: "The serving model was logged without a report.",
    413: "The body, or the number of leads, is over the server's limit.",
    415: "The body is not declared as JSON.",
    422: "Invalid input: `field` names the first problem.",
    500: f"An unexpected error; the server's log has it under the answer's {REQUEST_ID_HEADER}.",
    503: "Not for now: no model is loaded yet, or the prediction log cannot keep scores (or is "
    "off, or its database does not answer a read).",
}


class ErrorDetail(BaseModel):
    """What went wrong, for programs (`code`) and for people (`message`)."""

    code: str = Field(description="Stable and machine-readable.", examples=["invalid_request"])
    message: str = Field(description="What was expected and what came, for people.")
    field: str | None = Field(
        description="The input at fault, or null.", examples=["leads[1].company_size"]
    )


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx answer of the API."""

    error: ErrorDetail


@dataclass(frozen=True)
class Contract:
    """What a route checks before it answers, and so which errors it can answer."""

    scope: Scope | None = None  # the key scope it authorizes; None: it wants no key
    model: bool = False  # it needs a loaded model
    body: bool = False  # it reads a JSON lead body and the query parameters of scoring
    batch: bool = False  # it reads many leads at once
    log: bool = False  # it needs the prediction log to keep up
    report: bool = False  # it serves the model's report
    outcomes: bool = False  # it reads a JSON body of outcomes
    reads_log: bool = False  # it reads the prediction log's database


# Every route in the OpenAPI document, by method and path: a new route must say what it needs.
ROUTES = {
    "POST /v1/score": Contract("score", model=True, body=True, log=True),
    "POST /v1/score/batch": Contract("score", model=True, body=True, batch=True, log=True),
    "POST /v1/accounts/score": Contract("score", model=True, body=True, batch=True, log=True),
    "GET /v1/model": Contract("score", model=True),
    "POST /v1/outcomes": Contract("feedback", outcomes=True, log=True),
    "GET /v1/leads/{lead_id}/scores": Contract("score", reads_log=True),
    "GET /v1/performance": Contract("score", reads_log=True),
    "GET /healthz": Contract(),
    "GET /readyz": Contract(model=True, log=True),
    "GET /report": Contract("admin", model=True, report=True),
    "GET /metrics": Contract("admin"),
}


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` and `/redoc` from the app's own files, with no key (like the OpenAPI
    document, they are public), and complete the document; call after `document_bodies`."""
    app.mount(STATIC, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC}/favicon.png",
            # Its default would fetch a badge from validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = DOCS_POLICY
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_POLICY
        return page

    document_bodies(app, [ErrorResponse])
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        document["components"]["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                key = f"{method.upper()} {path}"
                if key not in ROUTES:
                    raise LookupError(f"{key} is missing from serving.docs.ROUTES")
                _complete(operation, ROUTES[key], app.state.settings)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(operation: dict[str, Any], contract: Contract, settings: Settings) -> None:
    """Give `operation` its security and exactly the errors `contract` can answer, replacing
    those FastAPI(responses=...) declares for every route alike."""
    if contract.scope is not None:
        # OpenAPI 3.1 lets non-OAuth schemes list roles: here, the key's scope.
        operation["security"] = [{name: [contract.scope]} for name in SECURITY_SCHEMES]
    responses = {
        code: answer
        for code, answer in operation["responses"].items()
        if not code.startswith(("4", "5"))
    }
    for status, examples in sorted(_errors(contract, settings).items()):
        responses[str(status)] = {
            "description": DESCRIPTIONS[status],
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ErrorResponse"},
                    "examples": {name: {"value": body} for name, body in examples.items()},
                }
            },
        }
    responses["500"]["headers"] = {
        REQUEST_ID_HEADER: {
            "description": "Finds the error in the server's log.",
            "schema": {"type": "string"},
        }
    }
    operation["responses"] = responses


def _errors(contract: Contract, settings: Settings) -> dict[int, dict[str, Any]]:
    """Example answers by status, then by name, worded as the routes word them."""
    errors: dict[int, dict[str, Any]] = defaultdict(dict)
    if contract.scope is not None:
        errors[401]["missing_key"] = error_body(
            Unauthorized.code, "expected an API key in the X-API-Key header, got none"
        )
        errors[401]["unknown_key"] = error_body(
            Unauthorized.code, "expected a valid API key, got an unknown one"
        )
    if contract.scope == "admin":
        errors[403]["score_key"] = error_body(
            Forbidden.code, "expected a key with the admin scope, got a score key"
        )
    elif contract.scope is not None:
        other = "feedback" if contract.scope == "score" else "score"
        errors[403][f"{other}_key"] = error_body(
            Forbidden.code,
            f"expected a key with the {contract.scope} scope (or admin), got a {other} key",
        )
    if contract.outcomes:
        errors[413]["body_too_large"] = body_too_large(settings.max_body_bytes)
        errors[415]["unsupported_media_type"] = error_body(
            UnsupportedMediaType.code, "expected Content-Type application/json, got text/plain"
        )
        errors[422]["invalid_outcome"] = error_body(
            InvalidParameter.code,
            "closed_at: expected the time the lead was won, got none",
            "closed_at",
        )
        errors[503]["prediction_log_off"] = error_body(
            PredictionLogOff.code,
            "the prediction log is off (LEADSCORE_PREDICTION_DB is empty), so outcomes cannot "
            "be kept; set it and restart",
        )
    if contract.reads_log:
        errors[422]["invalid_parameter"] = error_body(
            InvalidParameter.code, "limit: Input should be less than or equal to 1000", "limit"
        )
        errors[503]["prediction_log_off"] = error_body(
            PredictionLogOff.code,
            "the prediction log is off (LEADSCORE_PREDICTION_DB is empty), so nothing can be "
            "measured; set it and restart",
        )
        errors[503]["prediction_log_unreachable"] = error_body(
            PredictionLogUnreachable.code,
            "the prediction log's database did not answer (OperationalError: connection "
            "refused); try again",
        )
    if contract.report:
        errors[404]["no_report"] = error_body(
            NoReport.code,
            "expected a report logged with lead-scoring v3, found none; retrain the model with "
            "this version of leadscore",
        )
    if contract.body:
        errors[413]["body_too_large"] = body_too_large(settings.max_body_bytes)
        errors[415]["unsupported_media_type"] = error_body(
            UnsupportedMediaType.code, "expected Content-Type application/json, got text/plain"
        )
        errors[422]["invalid_request"] = error_body(
            InvalidParameter.code,
            "company_size: Input should be a valid number",
            "company_size",
        )
        errors[422]["invalid_parameter"] = error_body(
            InvalidParameter.code,
            f"reasons: expected a whole number from 0 to {MAX_REASONS}, got '-1'",
            "reasons",
        )
        errors[422]["invalid_value"] = error_body(
            InvalidParameter.code,
            "annual_revenue: expected a finite number, got 'n/a'",
            "annual_revenue",
        )
        limit = settings.max_activities_per_lead
        errors[422]["too_many_activities"] = error_body(
            TooManyActivities.code,
            f"expected at most {limit} activities per lead, got {limit + 1}; send the most "
            "recent ones",
            "activities",
        )
        errors[422]["unused_input"] = error_body(
            UnusedInput.code,
            "the model could not use all of this lead: compnay_size is not a field the model "
            "reads: not used; did you mean 'company_size'?",
        )
    if contract.batch:
        limit = settings.max_batch_leads
        errors[413]["batch_too_large"] = error_body(
            BatchTooLarge.code,
            f"expected at most {limit} leads, got {limit + 1}; split the batch",
            "leads",
        )
    errors[500]["internal_error"] = error_body(
        "internal_error",
        "unexpected error while answering (request id 3f9c2a71d04e5b86); the server log has "
        "the details under this id: please report it",
    )
    if contract.model:
        errors[503]["model_unavailable"] = error_body(
            ModelUnavailable.code,
            f"expected a model at {settings.model_uri}, got none (the model is loading); the "
            "server keeps trying; without a model yet, train one with `leadscore train` (or run "
            "`make demo`)",
        )
    if contract.log:
        errors[503]["prediction_log_full"] = error_body(
            PredictionLogFull.code,
            "the prediction log cannot keep these scores (its spool is full or its disk is), so "
            "they are not answered; try again later",
        )
    return errors
