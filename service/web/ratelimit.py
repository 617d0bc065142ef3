"""Per-client rate limits for the expensive and the writing endpoints (``/sparql``,
``/contributions``, ``/contribute``): a token bucket per client address and endpoint group.

Over the limit a request gets ``429 Too Many Requests`` with ``Retry-After`` (RFC 6585 §4) and
a problem document, before any work is done. Limits are per process and in memory: enough for
one server; behind a proxy, run uvicorn with ``--proxy-headers`` so the client address is the
real one.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

#: Path prefixes and the group whose limit applies to them.
GROUPS = (
    ("/sparql", "sparql"),
    ("/contributions", "contributions"),
    ("/contribute", "contributions"),
)
#: Buckets kept at most; the least recently used are forgotten first.
MAX_CLIENTS = 10_000


@dataclass
class Bucket:
    tokens: float
    updated: float


@dataclass
class Limit:
    """``per_minute`` requests on average, ``burst`` at once."""

    per_minute: float
    burst: int
    buckets: dict[str, Bucket] = field(default_factory=dict)

    def take(self, client: str, now: float) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        rate = self.per_minute / 60
        bucket = self.buckets.pop(client, None) or Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        self.buckets[client] = bucket  # re-inserted: the dict keeps recency order
        if len(self.buckets) > MAX_CLIENTS:
            self.buckets.pop(next(iter(self.buckets)))
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate


class RateLimit:
    """Pure ASGI middleware; a group whose limit is None is not limited."""

    def __init__(self, app: ASGIApp, limits: dict[str, Limit | None]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit_for(scope)
        if limit is not None and scope["method"] not in ("OPTIONS", "HEAD"):
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = limit.take(client, time.monotonic())
            if wait > 0:
                await _too_many(send, math.ceil(wait))
                return
        await self.app(scope, receive, send)

    def _limit_for(self, scope: Scope) -> Limit | None:
        if scope["type"] != "http":
            return None
        path: str = scope["path"]
        for prefix, group in GROUPS:
            if path == prefix or path.startswith(prefix + "/"):
                return self.limits.get(group)
        return None


async def _too_many(send: Send, retry_after: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Too many requests",
            "status": 429,
            "detail": f"This client sent more requests than this endpoint allows; "
            f"try again in {retry_after} s.",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"retry-after", str(retry_after).encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
