"""API errors: one JSON shape for every 4xx and 5xx answer.

    {"error": {"code": "...", "message": "...", "field": "... or null"}}

Domain exceptions from `features.errors` become HTTP answers here, and only here.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from features.errors import InvalidLeadError


class ApiError(Exception):
    """An answer other than success, with a stable machine-readable code."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


class ModelUnavailable(ApiError):
    status_code = 503
    code = "model_unavailable"


def error_body(
    code: str, message: str, field: str | None = None
) -> dict[str, dict[str, str | None]]:
    return {"error": {"code": code, "message": message, "field": field}}


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
        message = f"{field}: {first.get('msg', 'invalid value')}"
        if len(error.errors()) > 1:
            message += f" (and {len(error.errors()) - 1} more problems)"
        return JSONResponse(error_body("invalid_request", message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(error.detail)),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )
