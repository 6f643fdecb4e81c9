"""The error model: every error body is `{"error": message}`; a 500 never shows internals."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from actors.hosting.client import ActorUnavailable
from api.server.request_context import current_request_id

log = logging.getLogger("peerprep.errors")


class ApiError(Exception):
    """A handled failure with its status code and the message the client sees."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def unauthorized(message: str = "Not authenticated") -> ApiError:
    return ApiError(401, message)


def forbidden(message: str = "Forbidden") -> ApiError:
    return ApiError(403, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def error_response(status: int, message: str, headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def _describe(item: dict) -> dict:
    location = [str(part) for part in item.get("loc", ()) if part not in ("body",)]
    return {"field": ".".join(location), "message": item.get("msg", "invalid")}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.message, error.headers)

    @app.exception_handler(ActorUnavailable)
    async def _actor_unavailable(_request: Request, error: ActorUnavailable) -> JSONResponse:
        return error_response(503, f"Service temporarily unavailable: {error}", {"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = [_describe(item) for item in error.errors()]
        if any(item.get("type") == "json_invalid" for item in error.errors()):
            message = "Malformed JSON body"
        else:
            first = details[0] if details else {"field": "", "message": "invalid"}
            message = f"Invalid request: {first['field'] or 'body'}: {first['message']}"
        return error_response(400, message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else "Request failed"
        if error.status_code == 404 and message == "Not Found":
            message = "Not found"
        return error_response(error.status_code, message, getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None) or current_request_id()
        log.exception(
            "unhandled error on %s %s (request id %s)",
            request.method,
            request.url.path,
            request_id,
            extra={"request_id": request_id},
        )
        return error_response(500, "Something went wrong", {"X-Request-ID": request_id}, requestId=request_id)
