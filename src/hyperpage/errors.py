"""Application errors carry their HTTP status; one handler renders them all in one JSON shape.

Exceptions nobody handled are answered by UnhandledErrorMiddleware, which sits inside the security-header and
metrics middleware (main.py), so a 500 or 503 carries every header, its request id and its route label. It does
not re-raise: Starlette's ServerErrorMiddleware would (so uvicorn closes the keep-alive connection) and, with
debug on, would answer with the traceback.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

from hyperpage.db.outage import RETRY_AFTER_SECONDS, database_unavailable, outage_reason
from hyperpage.logging import get_logger
from hyperpage.middleware import HttpMiddleware

log = get_logger(__name__)


# The code each HTTP status is answered with, for AppError's subclasses and for Starlette's own HTTP errors.
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "service_unavailable",
}


class AppError(Exception):
    """Base error: `status` and `code` are class attributes, the message is per instance. A subclass names them
    in its bases (`class TargetNotEmpty(BackupError, status=409, code="restore_target_not_empty")`); with the
    status alone (`class NotFound(AppError, status=404)`) the code is that status's own from the table."""

    status = 500
    code = "internal_error"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status, cls.code = status, code or _STATUS_CODES[status]

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(AppError, status=400): ...


class Unauthorized(AppError, status=401): ...


class Forbidden(AppError, status=403): ...


class NotFound(AppError, status=404): ...


class Conflict(AppError, status=409): ...


class ServiceUnavailable(AppError, status=503): ...


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The one error shape of the whole API."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body", "header")]
        where = ".".join(loc) or "request"
        details.append({"field": where, "message": str(err.get("msg", "invalid"))})
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return f"invalid request: {summary}", details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = _validation_message(exc)
        return JSONResponse(error_body("invalid_request", message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # last resort, for an exception raised by the middleware outside UnhandledErrorMiddleware
        return unhandled_error_response(exc, getattr(request.state, "request_id", "-"), request.url.path)


def unhandled_error_response(exc: BaseException, request_id: str, path: str) -> JSONResponse:
    """503 with Retry-After when the database is down, else 500; the details go to the log, never the body."""
    if database_unavailable(exc):
        log.warning(
            "database_unavailable",
            path=path,
            request_id=request_id,
            error=type(exc).__name__,
            reason=outage_reason(exc),
        )
        message = f"the database is unavailable; retry in {RETRY_AFTER_SECONDS} s (request id {request_id})"
        return JSONResponse(
            error_body("database_unavailable", message),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )
    log.error("unhandled_error", path=path, request_id=request_id, exc_info=exc)
    message = f"internal error; quote request id {request_id} to the operator"
    return JSONResponse(error_body("internal_error", message), status_code=500, headers={"Cache-Control": "no-store"})


class UnhandledErrorMiddleware(HttpMiddleware):
    """Answer an unhandled exception in the error shape, unless the response had already started."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if started:  # half a response is out: only closing the connection tells the client
                raise
            request_id = scope.get("state", {}).get("request_id", "-")
            response = unhandled_error_response(exc, request_id, scope.get("path", ""))
            await response(scope, receive, send)
