"""Bearer tokens for contributors and curators, kept in the service's private state.

A token is 32 random bytes (``secrets.token_urlsafe``), shown once when it is created and
stored only as its SHA-256: with that much entropy a plain hash cannot be brute-forced, and a
lookup by hash needs no slow key derivation per request. The hash found is compared again with
``hmac.compare_digest``. No token is built in: the first one is made with
``meent token create --name N --role curator``.

The tokens table lives in the same SQLite file as ``service.store.state`` (beside the store), never
in a named graph: every named graph is public.

Guessing is pointless with 256 bits, but a client that keeps failing to authenticate is
abusing the service or broken; ``AuthFailures`` counts failures per client and tells the
caller to refuse it (429) for a while. Failures are logged by the caller with the reason and
the token's id when one is known — never the secret, nor its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import unicodedata
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

PREFIX = "meent_"


class Role(StrEnum):
    contributor = "contributor"
    curator = "curator"


@dataclass(frozen=True)
class Token:
    """A token's public facts (never its secret)."""

    id: str
    name: str
    role: Role
    created: str
    expires: str | None = None
    revoked: str | None = None

    @property
    def is_curator(self) -> bool:
        return self.role is Role.curator

    @property
    def slug(self) -> str:
        return slugify(self.name)


@dataclass(frozen=True)
class Verdict:
    """What checking a secret found: the live token, or the reason there is none and the id
    of the token it was (revoked, expired), for the log."""

    token: Token | None
    reason: str
    token_id: str | None = None


def slugify(name: str) -> str:
    """Lowercase ASCII with hyphens (docs/architecture.md, "IRIs"), for the contributor's IRI."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TokenStore:
    """Create, check and revoke tokens. Safe to use from worker threads."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock | None = None) -> None:
        self._db = db
        self._lock = lock or threading.Lock()

    def create(self, name: str, role: Role, *, expires: str | None = None) -> tuple[Token, str]:
        """A new token and its secret (shown once; only its hash is kept)."""
        name = name.strip()
        if not name or len(name) > 100 or not slugify(name):
            raise ValueError("a token's name must be 1–100 characters with a letter or digit")
        with self._lock:
            taken = {
                other
                for (other,) in self._db.execute("SELECT DISTINCT name FROM tokens")
                if slugify(other) == slugify(name) and other != name
            }
            if taken:
                raise ValueError(
                    f"the name {name!r} is too close to the existing {sorted(taken)[0]!r}: "
                    "contributions are attributed by name, so pick another or reuse that one"
                )
            secret = PREFIX + secrets.token_urlsafe(32)
            token = Token(secrets.token_hex(6), name, Role(role), _now(), expires)
            self._db.execute(
                "INSERT INTO tokens (id, name, role, hash, created, expires) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token.id, name, token.role.value, _hash(secret), token.created, expires),
            )
        return token, secret

    def check(self, secret: str) -> Token | None:
        """The live token with this secret, or None (unknown, revoked or expired)."""
        return self.verify(secret).token

    def verify(self, secret: str) -> Verdict:
        """The live token with this secret, or why there is none."""
        digest = _hash(secret)
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, role, created, expires, revoked, hash FROM tokens WHERE hash = ?",
                (digest,),
            ).fetchone()
        if row is None or not hmac.compare_digest(row[6], digest):
            return Verdict(None, "unknown token")
        token = Token(row[0], row[1], Role(row[2]), row[3], row[4], row[5])
        if token.revoked is not None:
            return Verdict(None, "revoked token", token.id)
        if token.expires is not None and token.expires <= _now():
            return Verdict(None, "expired token", token.id)
        return Verdict(token, "ok", token.id)

    def revoke(self, token_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL",
                (_now(), token_id),
            )
        return cursor.rowcount == 1

    def list(self) -> list[Token]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, role, created, expires, revoked FROM tokens ORDER BY created"
            ).fetchall()
        return [Token(r[0], r[1], Role(r[2]), r[3], r[4], r[5]) for r in rows]


#: Clients whose failures are remembered at most; the least recently failing are forgotten.
MAX_CLIENTS = 10_000


class AuthFailures:
    """Failed authentications per client in a sliding window of ``window`` seconds. A client
    with ``limit`` failures in the window is refused until the oldest of them leaves it.
    ``limit`` 0 turns this off. In memory, per process (like ``service.web.ratelimit``)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.get(client) or deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait(self, client: str, now: float) -> float:
        """0 if ``client`` may try to authenticate, else the seconds until it may."""
        if self.limit <= 0:
            return 0.0
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.limit:
                return 0.0
            return times[-self.limit] + self.window - now

    def fail(self, client: str, now: float) -> int:
        """Record a failure; the client's failures now in the window."""
        if self.limit <= 0:
            return 0
        with self._lock:
            times = self._recent(client, now)
            times.append(now)
            self._failures.pop(client, None)
            self._failures[client] = times  # re-inserted: the dict keeps recency order
            if len(self._failures) > MAX_CLIENTS:
                self._failures.pop(next(iter(self._failures)))
            return len(times)
