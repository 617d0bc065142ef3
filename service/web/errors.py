"""Domain errors and their one mapping to ``application/problem+json`` (RFC 9457).

Routers raise these; ``install_error_handlers`` turns them — and FastAPI's own validation
errors and any unexpected exception — into a problem document. Nothing a client sees carries
a traceback or a server path.
"""

from __future__ import annotations

import errno
import logging
import re
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from service.store import StoreTimeout, StoreUnavailable

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


class TooManyRequests(MeentError):
    """RFC 6585 §4, with ``Retry-After`` in seconds."""

    status, title = 429, "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


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


async def _store_unavailable(request: Request, error: Exception) -> JSONResponse:
    """503 (504 when a remote server did not answer in time) with ``Retry-After``: the
    request may work later. The operator's log says what failed; the client is not told
    which server or path."""
    assert isinstance(error, StoreUnavailable)
    timed_out = isinstance(error, StoreTimeout)
    log.warning("%s %s: %s", request.method, request.url.path, error.details)
    response = problem(
        504 if timed_out else 503,
        "Gateway timeout" if timed_out else "Service unavailable",
        f"{error} Try again in {error.retry_after} s.",
    )
    response.headers["Retry-After"] = str(error.retry_after)
    return response


#: errno values that mean "the disk cannot take this write now", not a bug.
DISK_TROUBLE = {errno.ENOSPC, errno.EROFS, errno.EDQUOT}
#: How long a client should wait when the disk cannot be written (an operator must act).
DISK_RETRY_AFTER = 60


def _disk_unavailable(request: Request, cause: str) -> JSONResponse:
    log.error("%s %s: cannot write to disk: %s", request.method, request.url.path, cause)
    response = problem(
        503,
        "Service unavailable",
        "The server cannot write to its disk right now (it is full or read-only); reading "
        f"still works. Try again in {DISK_RETRY_AFTER} s.",
    )
    response.headers["Retry-After"] = str(DISK_RETRY_AFTER)
    return response


def os_errno(error: OSError) -> int | None:
    """An OSError's errno. pyoxigraph's (Rust I/O errors, raised while it reads or writes a
    file) carry none; their message ends in "(os error 28)"."""
    if error.errno is not None:
        return error.errno
    found = re.search(r"\(os error (\d+)\)", str(error))
    return int(found.group(1)) if found else None


async def _os_error(request: Request, error: Exception) -> JSONResponse:
    """A full or read-only disk under a write (the dumps, say) is a 503; other OS errors
    are unexpected."""
    assert isinstance(error, OSError)
    if os_errno(error) in DISK_TROUBLE:
        where = f" ({error.filename})" if error.filename else ""
        return _disk_unavailable(request, f"{error.strerror or error}{where}")
    return await _unexpected(request, error)


async def _sqlite_error(request: Request, error: Exception) -> JSONResponse:
    """The private state (SQLite: tokens, pending contributions, change log) on a full or
    read-only disk is a 503, like the store; anything else is unexpected."""
    message = str(error).lower()
    if isinstance(error, sqlite3.OperationalError) and (
        "full" in message or "readonly" in message or "read-only" in message
    ):
        return _disk_unavailable(request, f"private state: {error}")
    return await _unexpected(request, error)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # Logged with its traceback for the operator; the client learns only that it failed.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "Internal server error", "The server failed to answer this request.")


def _client_gone(request: Request, error: Exception) -> Response:
    """The client hung up before its request body was read (uvicorn drops an unread body):
    nothing was done, and there is no one to answer. Handled here so that it is not logged
    as a failure of the service (an unhandled exception, with its traceback)."""
    log.info(
        "%s %s: the client went away before sending its whole request",
        request.method,
        request.url.path,
    )
    return Response(status_code=400)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(MeentError, _meent_error)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(OSError, _os_error)
    app.add_exception_handler(sqlite3.Error, _sqlite_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
