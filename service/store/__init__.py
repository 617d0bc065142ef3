"""The store: one interface, two implementations, and everything that persists beside them.

Why: docs/architecture.md, "The pieces and how data flows". May import ``service.rdf``,
``service.process``, ``service.config`` and ``service.vocab``; nothing above.

``base`` holds the interface (the ``Store`` protocol), its result types and its errors;
``oxigraph`` (embedded pyoxigraph) and ``remote`` (any SPARQL 1.1 server) implement it, with
what they share in ``common``. This module opens the one the settings describe and re-exports
what the rest of the service uses, so nothing outside this package imports an implementation
module or a private name of one. The implementations import ``base`` and ``common`` only, never
this module: there is no import cycle to hold together.

Beside them: the private state, SQLite, whose schema and connections only ``state`` knows;
the query-worker pool (``worker_pool``, which runs ``service.process.query_worker``, and its
schedule of long queries: ``schedule``);
``snapshot``, the embedded store's files for ``backup`` and restore; and ``loader``, the sync
of the project's files.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from service.config import Settings
from service.store.base import (
    BytesProgress,
    DataError,
    QueryError,
    QueryResult,
    QueryTimeout,
    RdfData,
    ResultStream,
    Solutions,
    Store,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
    Term,
)
from service.store.oxigraph import OxigraphStore
from service.store.remote import RemoteSparqlStore
from service.store.state import StateDB

__all__ = [
    "BytesProgress",
    "DataError",
    "OxigraphStore",
    "QueryError",
    "QueryResult",
    "QueryTimeout",
    "RdfData",
    "RemoteSparqlStore",
    "ResultStream",
    "Solutions",
    "Store",
    "StoreError",
    "StoreTimeout",
    "StoreUnavailable",
    "Term",
    "open_store",
]


def open_store(settings: Settings) -> Store:
    """The store the settings describe: a remote server if ``remote`` is set, else embedded.
    Raises StoreError, with a message for people, when it cannot be opened."""
    endpoints = settings.remote_endpoints
    if endpoints is not None:
        return RemoteSparqlStore(
            endpoints.query,
            endpoints.update,
            endpoints.gsp,
            state=_open_state(settings.state_path),
            timeout=settings.remote_timeout,
            connect_timeout=settings.remote_connect_timeout,
        )
    path = settings.store_path
    if path is not None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"cannot create the store directory {path}: {error.strerror or error}"
            ) from None
    return OxigraphStore(
        path,
        state=_open_state(settings.state_path),
        query_workers=settings.query_workers,
        long_queries=settings.long_queries,
    )


def _open_state(path: Path | None) -> StateDB:
    try:
        return StateDB(path)
    except (OSError, sqlite3.Error) as error:
        reason = str(error)
        if path is not None and _read_only(path.parent):
            reason += " (Read-only file system)"
        raise StoreError(f"cannot open the service's private state {path}: {reason}") from None


def _read_only(directory: Path) -> bool:
    """Whether the file system holding ``directory`` (or its nearest existing parent) is
    mounted read-only."""
    for folder in (directory, *directory.parents):
        if folder.exists():
            return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    return False
