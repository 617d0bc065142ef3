"""Contributions waiting for review, and the rejected ones — private, never in the store.

In review mode a contribution is held here until a curator accepts it (then it is written to
its named graph, and only then public) or rejects it. The rows live in the service's private
SQLite state (see ``service.store.state``): pending data must not be in the public union, and every
named graph is part of it.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Pending:
    id: str
    contributor: str
    created: str
    media_type: str
    body: bytes
    sha256: str
    licence: str
    status: str = "pending"
    decided_by: str | None = None
    decided: str | None = None


_COLUMNS = (
    "id, contributor, created, media_type, body, sha256, licence, status, decided_by, decided"
)


class PendingStore:
    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db = db
        self._lock = lock

    def add(self, item: Pending) -> None:
        with self._lock:
            self._db.execute(
                f"INSERT INTO pending_contributions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    item.id,
                    item.contributor,
                    item.created,
                    item.media_type,
                    item.body,
                    item.sha256,
                    item.licence,
                    item.status,
                    item.decided_by,
                    item.decided,
                ),
            )

    def get(self, contribution_id: str) -> Pending | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM pending_contributions WHERE id = ?", (contribution_id,)
            ).fetchone()
        return None if row is None else Pending(*row)

    def replace(self, item: Pending) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE pending_contributions SET media_type = ?, body = ?, sha256 = ?, "
                "licence = ? WHERE id = ? AND status = 'pending'",
                (item.media_type, item.body, item.sha256, item.licence, item.id),
            )

    def decide(self, contribution_id: str, status: str, curator: str, when: str) -> None:
        """Mark a pending contribution accepted, rejected or withdrawn (the row stays, so
        the decision is on record; an accepted one's body is dropped: it is public now)."""
        with self._lock:
            self._db.execute(
                "UPDATE pending_contributions SET status = ?, decided_by = ?, decided = ?, "
                "body = CASE WHEN ? = 'accepted' THEN x'' ELSE body END WHERE id = ?",
                (status, curator, when, status, contribution_id),
            )

    def waiting(self, contributor: str | None = None) -> list[Pending]:
        """Pending contributions (of one contributor, or all), newest first."""
        query = f"SELECT {_COLUMNS} FROM pending_contributions WHERE status = 'pending'"
        args: tuple[str, ...] = ()
        if contributor is not None:
            query += " AND contributor = ?"
            args = (contributor,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY created DESC", args).fetchall()
        return [Pending(*row) for row in rows]
