"""The service's private state: bookkeeping that must never appear in the public graph.

The sync's content hashes (and, later, tokens and the change log) live here rather than in a
named graph, because the public default graph is the union of *all* named graphs: a metadata
graph would show up in every researcher's ``SELECT * { ?s ?p ?o }`` and in every count.

SQLite (stdlib, transactional, one file) beside the store; in memory for an in-memory store.
Writes to the store and to this file are not one transaction, so callers write the graph
first and the record after it: a crash in between leaves a graph whose record is old, which
the next sync simply redoes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StateDB:
    """Key → value records in SQLite; safe to use from worker threads."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path) if path is not None else ":memory:",
            check_same_thread=False,
            isolation_level=None,  # explicit BEGIN/COMMIT below
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)

    def metadata(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT key, value FROM metadata").fetchall())

    def set_metadata(self, values: Mapping[str, str | None]) -> None:
        """Set entries in one transaction; None deletes an entry."""
        if not values:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for key, value in values.items():
                    if value is None:
                        self._db.execute("DELETE FROM metadata WHERE key = ?", (key,))
                    else:
                        self._db.execute(
                            "INSERT INTO metadata (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            (key, value),
                        )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
