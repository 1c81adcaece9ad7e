"""Every API error, and the one JSON shape every 4xx and 5xx answer has.

    {"error": {"code": "...", "message": "...", "field": "... or null"}}

    LeadscoreError
    └── ApiError                  400 bad_request
        ├── Unauthorized          401 unauthorized
        ├── Forbidden             403 forbidden
        ├── NoReport              404 no_report
        ├── BatchTooLarge         413 batch_too_large
        ├── UnsupportedMediaType  415 unsupported_media_type
        ├── InvalidParameter      422 invalid_request
        ├── TooManyActivities     422 too_many_activities
        ├── UnusedInput           422 unused_input (?strict=true)
        ├── ModelUnavailable      503 model_unavailable
        └── PredictionLogFull     503 prediction_log_full

Domain exceptions (`features.InvalidLeadError`, pydantic's validation errors) become answers
here, and only here. Anything unexpected answers 500 `internal_error` with a request id that the
server's log repeats beside the traceback.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from features import InvalidLeadError, LeadscoreError

logger = logging.getLogger("leadscore.serving")
REQUEST_ID_HEADER = "X-Request-ID"


class ApiError(LeadscoreError):
    """An answer other than success, with a stable machine-readable code."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


class NoReport(ApiError):
    status_code = 404
    code = "no_report"


class BatchTooLarge(ApiError):
    status_code = 413
    code = "batch_too_large"


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "unsupported_media_type"


class InvalidParameter(ApiError):
    status_code = 422
    code = "invalid_request"


class TooManyActivities(ApiError):
    status_code = 422
    code = "too_many_activities"


class UnusedInput(ApiError):
    """Under `?strict=true`, a lead the model could not fully use is refused, not scored."""

    status_code = 422
    code = "unused_input"


class ModelUnavailable(ApiError):
    status_code = 503
    code = "model_unavailable"


class PredictionLogFull(ApiError):
    """The prediction log could not keep the scores: they are not answered, so not lost."""

    status_code = 503
    code = "prediction_log_full"


def short_error(error: BaseException) -> str:
    """`Type: first line`, at most 300 characters: enough to say why, in a log field or in
    /readyz, without a database's multi-line detail."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300] if lines else ''}"


def error_body(
    code: str, message: str, field: str | None = None
) -> dict[str, dict[str, str | None]]:
    return {"error": {"code": code, "message": message, "field": field}}


def body_too_large(max_bytes: int) -> dict[str, dict[str, str | None]]:
    return error_body(
        "body_too_large",
        f"expected a request body of at most {max_bytes} bytes; send fewer leads or activities "
        "per request",
    )


def describe(
    error: ValidationError, prefix: str = "", tags: frozenset[str] = frozenset()
) -> tuple[str, str]:
    """A validation error as one message and the field it names (the first problem's);
    `tags` are a tagged union's tags, which pydantic puts in the location and a user never
    wrote."""
    problems = error.errors(include_url=False)
    loc = tuple(part for part in problems[0]["loc"] if part not in tags)
    field = _location((prefix, *loc) if prefix else loc)
    message = f"{field}: {str(problems[0]['msg']).removeprefix('Value error, ')}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problems)"
    return message, field


def _location(loc: tuple[int | str, ...]) -> str:
    """('body', 'leads', 0, 'company_size') -> 'leads[0].company_size'."""
    parts = [p for p in loc if p not in ("body", "query", "path")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(error.code, error.message, error.field), status_code=error.status_code
        )

    @app.exception_handler(InvalidLeadError)
    async def _invalid_lead(_request: Request, error: InvalidLeadError) -> JSONResponse:
        return JSONResponse(error_body("invalid_lead", str(error), error.field), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        field = _location(tuple(first.get("loc", ())))
        message = f"{field}: {str(first.get('msg', 'invalid value')).removeprefix('Value error, ')}"
        if len(error.errors()) > 1:
            message += f" (and {len(error.errors()) - 1} more problems)"
        return JSONResponse(error_body("invalid_request", message, field), status_code=422)

    @app.exception_handler(ValidationError)
    async def _body(_request: Request, error: ValidationError) -> JSONResponse:
        message, field = describe(error)
        return JSONResponse(error_body("invalid_request", message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(error.detail)),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:16]
        logger.error(
            "unexpected error",
            exc_info=error,
            extra={"request_id": request_id, "path": request.url.path},
        )
        return JSONResponse(
            error_body(
                "internal_error",
                f"unexpected error while answering (request id {request_id}); the server log "
                "has the details under this id: please report it",
            ),
            status_code=500,
            headers={REQUEST_ID_HEADER: request_id},
        )


class PredictionLogOff(ApiError):
    """A route that reads the prediction log, on a server that keeps none."""

    status_code = 503
    code = "prediction_log_off"


class PredictionLogUnreachable(ApiError):
    """The prediction log's database did not answer a read; its writes wait in the spool."""

    status_code = 503
    code = "prediction_log_unreachable"
