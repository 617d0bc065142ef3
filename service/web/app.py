"""The application factory: ``create_app(settings)`` builds the whole service.

The lifespan opens the store named by the settings, syncs the project's ontology, shapes and
curated data into it (idempotent: unchanged files are skipped), and closes it at shutdown.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from service import __version__
from service.config import Settings, get_settings
from service.store import Store
from service.store.loader import sync_project
from service.web.errors import install_error_handlers
from service.web.ratelimit import Limit, RateLimit
from service.web.response_cache import ResponseCache
from service.web.routes import ROUTERS
from service.web.security import SecurityHeaders
from service.web.services import Services

log = logging.getLogger("meent")
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
#: How long a cached answer may be served on a remote store, which others may write.
REMOTE_CACHE_SECONDS = 2.0


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    templates = Jinja2Templates(directory=TEMPLATES)

    async def prepare(store: Store) -> None:
        if settings.sync_on_start:
            summary = await sync_project(store, settings.project_root, settings.base_iri)
            log.info("sync: %s", summary)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything the routes share is opened here, and closed here (service.web.services).
        services = await Services.open(settings, templates, prepare)
        app.state.services = services
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(
        title="Meent",
        version=__version__,
        summary="A linked-data knowledge graph of public–collective collaboration.",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry hooks look up the global providers on every request;
        # Meent sets none up, and the lookup was a tenth of a cached answer's CPU.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    # Middleware added last runs first: CORS outermost (a browser client can read even a 429),
    # then the security headers, then the rate limit, before any route does work; then the
    # response cache, so that rate limits count cached answers too.
    app.add_middleware(
        ResponseCache,
        writes=lambda: written(app),
        max_bytes=int(settings.response_cache_mb * 1024 * 1024),
        # Others may write to a remote store; only this process writes to the embedded one.
        ttl=REMOTE_CACHE_SECONDS if settings.remote else None,
        # A query POSTed to /sparql is a read (updates are refused there).
        post_reads=frozenset({"/sparql"}),
        max_post_bytes=min(settings.max_query_bytes, 64 * 1024),
    )
    app.add_middleware(
        RateLimit,
        limits={
            group: Limit(rate, settings.rate_limit_burst) if rate else None
            for group, rate in (
                ("sparql", settings.rate_limit_sparql),
                ("contributions", settings.rate_limit_contributions),
            )
        },
    )
    app.add_middleware(SecurityHeaders)
    # Any origin may read from a browser; writes need a bearer token, not cookies, so
    # allowing the methods lets a web client contribute without exposing anyone's session.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Accept", "Content-Type", "Authorization"],
        expose_headers=["Content-Type", "Link", "ETag", "Location", "Retry-After"],
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
    app.openapi = _without_head(app)  # type: ignore[method-assign]
    return app


def written(app: FastAPI) -> int:
    """What keys the response cache: the store's count of writes, and of the background
    builds finished (a new build of the dumps changes the catalogue without a write); -1
    before the lifespan has opened the store, when nothing is answered and so nothing kept."""
    services: Services | None = getattr(app.state, "services", None)
    if services is None:
        return -1
    return services.store.writes + services.background.finished


def _without_head(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document without HEAD operations. Every GET route answers HEAD too
    (``service.web.routing``), and FastAPI would list each HEAD as an operation with its GET's
    operationId: a duplicate, which OpenAPI forbids. HEAD is implied by GET, as in most
    published APIs."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Duplicate Operation ID .*_head ", UserWarning)
                schema = FastAPI.openapi(app)
            for operations in schema.get("paths", {}).values():
                operations.pop("head", None)
        return app.openapi_schema  # type: ignore[return-value]

    return openapi
