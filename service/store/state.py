"""The service's private state: bookkeeping that must never appear in the public graph.

The sync's content hashes, the change log, contributors' tokens and contributions waiting for
review live here rather than in a named graph, because the public default graph is the union of
*all* named graphs: a metadata graph would show up in every researcher's
``SELECT * { ?s ?p ?o }`` and in every count.

SQLite (stdlib, transactional, one file) beside the store; in memory for an in-memory store.
This module alone knows the file: its schema (every table), how a connection is opened
(``connect``), and how it is copied, checked and counted for a backup. The tokens
(``service.contrib.tokens``) and pending contributions (``service.contrib.pending``) read and
write their tables through a connection from ``connect``.
Writes to the store and to this file are not one transaction, so callers write the graph
first and the record after it: a crash in between leaves a graph whose record is old, which
the next sync simply redoes.
"""

from __future__ import annotations

import gzip
import logging
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("meent")

SCHEMA = """
CREATE TABLE IF NOT EXISTS metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    graph TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('update', 'delete')),
    payload BLOB
);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    expires TEXT,
    revoked TEXT
);
CREATE TABLE IF NOT EXISTS pending_contributions (
    id TEXT PRIMARY KEY,
    contributor TEXT NOT NULL,
    created TEXT NOT NULL,
    media_type TEXT NOT NULL,
    body BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    licence TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    decided TEXT
);
"""
#: The tables, and what a person calls their rows (``meent restore`` names what it replaces).
TABLES = {
    "tokens": "tokens",
    "pending_contributions": "pending contributions",
    "changes": "changes",
    "metadata": "sync records",
}


def connect(path: Path | None) -> sqlite3.Connection:
    """The private state at ``path`` (in memory for None), with every table: autocommit
    (callers ``BEGIN`` where they need a transaction), write-ahead log, durable writes, and a
    wait of up to 5 s for a lock another connection holds."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        str(path) if path is not None else ":memory:",
        check_same_thread=False,
        isolation_level=None,
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=5000")
    db.executescript(SCHEMA)
    return db


def row_counts(db: sqlite3.Connection) -> dict[str, int]:
    """Rows per table of the state (of those it has: an older file may lack some)."""
    present = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {
        table: int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # fixed names
        for table in TABLES
        if table in present
    }


def copy_state(source: Path, target: Path) -> dict[str, int]:
    """Copy the state by SQLite's online backup — a consistent snapshot even while a server
    writes — into one self-contained file (no write-ahead log beside it); its row counts.
    Raises ``sqlite3.Error``."""
    db = sqlite3.connect(str(source))
    try:
        copy = sqlite3.connect(str(target))
        try:
            db.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            counts = row_counts(copy)
        finally:
            copy.close()
    finally:
        db.close()
    target.chmod(0o600)
    return counts


def integrity(path: Path) -> str:
    """SQLite's integrity check of a state file, opened read-only ("ok" when sound). Raises
    ``sqlite3.Error`` when it is no SQLite file."""
    db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def counts_of(path: Path) -> dict[str, int]:
    """``row_counts`` of the state file at ``path``. Raises ``sqlite3.Error``."""
    db = sqlite3.connect(str(path))
    try:
        return row_counts(db)
    finally:
        db.close()


@dataclass(frozen=True)
class _Entry:
    """One commit: metadata to set and, when ``graph`` is given, a change to log."""

    time: str
    values: Mapping[str, str | None]
    graph: str | None
    action: str
    payload: bytes | None


@dataclass(frozen=True)
class Change:
    """One change to a named graph: its new content (gzip N-Triples) or its deletion."""

    seq: int
    time: datetime
    graph: str
    action: str
    payload: bytes | None

    @property
    def ntriples(self) -> bytes:
        return gzip.decompress(self.payload) if self.payload else b""


class StateDB:
    """Key → value records in SQLite; safe to use from worker threads."""

    def __init__(self, path: Path | None) -> None:
        self._db = connect(path)  # autocommit: explicit BEGIN/COMMIT below
        self._lock = threading.Lock()
        self._deferred: list[_Entry] = []
        #: Commits through this object: a cheap "has anything changed" for caches.
        self.writes = 0

    def metadata(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT key, value FROM metadata").fetchall())

    def set_metadata(self, values: Mapping[str, str | None]) -> None:
        """Set entries in one transaction; None deletes an entry."""
        self.commit(values)

    def commit(
        self,
        values: Mapping[str, str | None] | None,
        *,
        graph: str | None = None,
        ntriples: bytes | None = None,
        deleted: bool = False,
        defer: bool = False,
    ) -> None:
        """Set metadata and, when ``graph`` is given, append the graph's change to the log
        (its new content, or its deletion) — in one transaction.

        ``defer``: the graph is written already, so a state that cannot be written now (a
        full or read-only disk) must not turn that into a failure: the record is kept in
        memory and written, in order, before the next one — lost only if the process stops
        first, which is the crash between the two writes the module docstring allows for.
        """
        if not values and graph is None:
            return
        self.writes += 1
        entry = _Entry(
            datetime.now(UTC).isoformat(timespec="microseconds"),
            dict(values or {}),
            graph,
            "delete" if deleted else "update",
            None if deleted else gzip.compress(ntriples or b"", mtime=0),
        )
        with self._lock:
            try:
                self._write([*self._deferred, entry])
            except sqlite3.OperationalError as error:
                if not defer:
                    raise
                self._deferred.append(entry)
                log.error(
                    "the record of %s could not be written (%s); kept in memory until the "
                    "state can be written (%d waiting)",
                    graph,
                    error,
                    len(self._deferred),
                )
                return
            self._deferred.clear()

    def _write(self, entries: list[_Entry]) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for entry in entries:
                if entry.graph is not None:
                    self._db.execute(
                        "INSERT INTO changes (time, graph, action, payload) VALUES (?, ?, ?, ?)",
                        (entry.time, entry.graph, entry.action, entry.payload),
                    )
                for key, value in entry.values.items():
                    if value is None:
                        self._db.execute("DELETE FROM metadata WHERE key = ?", (key,))
                    else:
                        self._db.execute(
                            "INSERT INTO metadata (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            (key, value),
                        )
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        """Changes with a sequence number above ``after``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, time, graph, action, payload FROM changes WHERE seq > ? "
                "ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [Change(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4]) for r in rows]

    def last_change(self) -> Change | None:
        with self._lock:
            row = self._db.execute(
                "SELECT seq, time, graph, action, NULL FROM changes ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        return Change(row[0], datetime.fromisoformat(row[1]), *row[2:]) if row else None

    def close(self) -> None:
        with self._lock:
            if self._deferred:  # a last chance for records the disk refused
                try:
                    self._write(self._deferred)
                except sqlite3.Error as error:
                    log.error("%d records are lost: %s", len(self._deferred), error)
            self._db.close()
