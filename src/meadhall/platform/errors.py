"""Domain errors and the one JSON envelope every 4xx/5xx answer uses.

Services raise these; they carry their HTTP status. The handlers in :func:`install_handlers`
render every error, including FastAPI's validation errors and unexpected crashes, as::

    {"error": {"code": "not_found", "message": "...", "request_id": "...", "details": ...}}
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("meadhall.errors")


class MeadhallError(Exception):
    """Base of every error a service may raise toward a client."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    headers: dict[str, str] | None = None

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(MeadhallError):
    status_code = 400
    code = "bad_request"


class NotAuthenticated(MeadhallError):
    status_code = 401
    code = "not_authenticated"
    headers = {"WWW-Authenticate": "Bearer"}


class NotAllowed(MeadhallError):
    status_code = 403
    code = "forbidden"


class NotFound(MeadhallError):
    status_code = 404
    code = "not_found"


class Conflict(MeadhallError):
    status_code = 409
    code = "conflict"


class Gone(MeadhallError):
    status_code = 410
    code = "gone"


class PayloadTooLarge(MeadhallError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(MeadhallError):
    status_code = 415
    code = "unsupported_media_type"


class Unprocessable(MeadhallError):
    status_code = 422
    code = "validation_error"


class TooManyRequests(MeadhallError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.headers = {"Retry-After": str(retry_after)}


class ServiceUnavailable(MeadhallError):
    status_code = 503
    code = "unavailable"


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str | None = None
    details: Any = None


class ErrorEnvelope(BaseModel):
    """The body of every error response."""

    error: ErrorBody


def error_responses(*errors: type[MeadhallError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the errors a route may raise."""
    return {err.status_code: {"model": ErrorEnvelope, "description": err.code} for err in errors}


_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorEnvelope(
        error=ErrorBody(
            code=code,
            message=message,
            request_id=getattr(request.state, "request_id", None),
            details=details,
        )
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def _clean_validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for err in errors:
        item = {"loc": list(err.get("loc", ())), "msg": err.get("msg"), "type": err.get("type")}
        cleaned.append(item)
    return cleaned


def install_handlers(app: FastAPI) -> None:
    """Render every error as an :class:`ErrorEnvelope`."""

    @app.exception_handler(MeadhallError)
    async def _domain_error(request: Request, exc: MeadhallError) -> JSONResponse:
        return error_response(
            request,
            exc.status_code,
            exc.code,
            exc.message,
            details=exc.details,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _clean_validation_errors(list(exc.errors()))
        json_invalid = any(e["type"] == "json_invalid" for e in errors)
        message = "the body is not valid JSON" if json_invalid else "the request is invalid"
        return error_response(request, 422, "validation_error", message, details=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        return error_response(
            request,
            exc.status_code,
            code,
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error_response(request, 500, "internal_error", "an unexpected error occurred")
