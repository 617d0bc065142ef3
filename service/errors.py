"""Domain errors and their one mapping to ``application/problem+json`` (RFC 9457).

Routers raise these; ``install_error_handlers`` turns them — and FastAPI's own validation
errors and any unexpected exception — into a problem document. Nothing a client sees carries
a traceback or a server path.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("meent")


class MeentError(Exception):
    """An error with an HTTP status and a message a person can act on."""

    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(MeentError):
    status, title = 400, "Bad request"


class Forbidden(MeentError):
    status, title = 403, "Forbidden"


class NotFound(MeentError):
    status, title = 404, "Not found"


class NotAcceptable(MeentError):
    status, title = 406, "Not acceptable"

    def __init__(self, supported: list[str]) -> None:
        super().__init__(
            "None of the media types in the Accept header can be produced here. "
            "Supported: " + ", ".join(supported),
            supported=supported,
        )


class PayloadTooLarge(MeentError):
    status, title = 413, "Payload too large"


class UnsupportedMediaType(MeentError):
    status, title = 415, "Unsupported media type"


class Unavailable(MeentError):
    status, title = 503, "Service unavailable"


class Unauthorized(MeentError):
    """No or no valid bearer token (RFC 6750 §3: the answer names the scheme)."""

    status, title = 401, "Unauthorized"

    def __init__(self, detail: str, *, invalid: bool = False) -> None:
        challenge = 'Bearer realm="meent"'
        if invalid:
            challenge += ', error="invalid_token"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Conflict(MeentError):
    status, title = 409, "Conflict"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _meent_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MeentError)
    response = problem(error.status, error.title, error.detail, **error.extra)
    response.headers.update(error.headers)
    return response


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "Error")
    response = problem(error.status_code, title, str(error.detail))
    response.headers.update(error.headers or {})
    return response


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()))
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return problem(400, "Bad request", "; ".join(parts) or "invalid request")


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # Logged with its traceback for the operator; the client learns only that it failed.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "Internal server error", "The server failed to answer this request.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MeentError, _meent_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
