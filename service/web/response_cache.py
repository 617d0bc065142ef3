"""A response cache in front of the routes, keyed to the graph's version.

Harvesters and browsers ask for the same documents again and again: a resource page, its
Turtle, a DESCRIBE, the catalogue. Computing one takes store reads, a template or a
serialiser and the framework's routing — milliseconds that a cache answers in microseconds.

The cache is a pure ASGI middleware (inside the rate limit, so limits still count every
request). It keeps complete ``GET``/``HEAD`` answers, keyed by method, host, path, query
string and the headers that select a representation (``Accept``, ``Accept-Language``), and
``POST`` answers on the paths it is told are reads (``/sparql``: SPARQL 1.1 Protocol
§2.1.2–2.1.3, where a query may be sent as the body): these are keyed by the body and its
``Content-Type`` too, for bodies up to ``max_post_bytes`` (larger ones are passed on whole).

It is only correct as long as nothing changes the graph behind its back, so:

* an entry remembers the store's write count (``Store.writes``) and is served only while the
  count is the same, and an answer computed while the count changed is not kept;
* every request that can write (any method but ``GET``, ``HEAD``, ``OPTIONS`` and a ``POST``
  to ``/sparql``, where updates are refused) also moves the cache to a new *epoch*, at its
  start and again at its end, and the same rules hold for epochs: a write that has begun but
  not yet reached the store still makes answers computed meanwhile not kept;
* on a remote store, which other programs may write, entries also expire after ``ttl``
  seconds.

A large answer is kept only when it is asked for a second time. Answers up to
``admit_bytes`` are kept at once: lookups, DESCRIBE, resource pages, which harvesters and
browsers ask for again and again, cost little to hold. A researcher's query is most often
asked once, and its answer can be large: keeping every one would fill the cache with answers
nobody asks for again (in the benchmark's research questions, tens of MB of them). So the
cache remembers the keys of the last ``SEEN_KEYS`` large answers it did not keep, and keeps
one the next time it is asked for.

Not kept: requests with credentials (``Authorization``, ``Cookie``); answers marked
``no-store`` or ``private``, setting a cookie, larger than ``max_entry_bytes``, with a status
other than 200 or a redirect, or whose body the route marked incomplete (a query result cut
at the timeout sets ``scope["state"]["response_incomplete"]``). A conditional request
(``If-None-Match``) on a kept answer with an ``ETag`` gets its 304 from the cache; one by date
only (``If-Modified-Since``) goes to the routes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHEABLE_STATUS = frozenset({200, 203, 300, 301, 302, 303, 307, 308})
#: Headers a 304 repeats from the answer it stands for (RFC 9110 §15.4.5).
NOT_MODIFIED_HEADERS = frozenset(
    {b"cache-control", b"content-location", b"etag", b"expires", b"vary", b"last-modified"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Large answers asked for once whose keys are remembered (as hashes: ~100 bytes each).
SEEN_KEYS = 4096

Key = tuple[str, str, str, bytes, bytes, bytes, bytes, bytes, bytes]


@dataclass(frozen=True)
class _Entry:
    epoch: tuple[int, int]
    expires: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes | None


def _writes(scope: Scope) -> bool:
    method = scope["method"]
    return method not in SAFE_METHODS and not (method == "POST" and scope["path"] == "/sparql")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _date_conditional(scope: Scope) -> bool:
    """``If-Modified-Since`` without ``If-None-Match`` (which takes precedence)."""
    names = {name for name, _ in scope["headers"]}
    return b"if-modified-since" in names and b"if-none-match" not in names


def _etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): ``W/"x"`` matches ``"x"``."""
    if if_none_match.strip() == b"*":
        return True
    wanted = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == wanted for tag in if_none_match.split(b","))


def _storable(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if status not in CACHEABLE_STATUS:
        return False
    for name, value in headers:
        name = name.lower()
        if name == b"set-cookie":
            return False
        if name == b"cache-control" and (b"no-store" in value or b"private" in value):
            return False
    return True


class ResponseCache:
    """See the module docstring. ``writes`` gives the store's write count; ``max_bytes``
    bounds the bodies kept (least recently used go first); ``ttl`` (seconds, or None for no
    expiry) bounds their age; answers over ``admit_bytes`` are kept the second time."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        writes: Callable[[], int],
        max_bytes: int,
        ttl: float | None = None,
        max_entry_bytes: int = 1024 * 1024,
        post_reads: frozenset[str] = frozenset(),
        max_post_bytes: int = 16 * 1024,
        admit_bytes: int = 16 * 1024,
    ) -> None:
        self.app = app
        self.post_reads = post_reads
        self.max_post_bytes = max_post_bytes
        self.writes = writes
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self.admit_bytes = admit_bytes
        self._asked_once: OrderedDict[int, None] = OrderedDict()  # hashes of keys
        self.epoch = 0
        self.hits = 0
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._size = 0
        self._seen: tuple[int, int] | None = None  # the epoch and write count last seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        body = b""
        if scope["method"] == "POST" and scope["path"] in self.post_reads:
            body, receive = await _read_body(receive, self.max_post_bytes)
        elif _writes(scope):
            self.epoch += 1
            try:
                await self.app(scope, receive, send)
            finally:
                self.epoch += 1
            return
        key = self._key(scope, body)
        if key is None:
            await self.app(scope, receive, send)
            return
        now = self._now()
        if now != self._seen:
            # The graph has moved on: every entry is stale, so free them all at once rather
            # than holding them until they are asked for or pushed out.
            self._entries.clear()
            self._size = 0
            self._seen = now
        entry = self._entries.get(key)
        if entry is not None:
            if _date_conditional(scope):
                await self.app(scope, receive, send)  # the routes compare the dates
                return
            if entry.epoch == self._now() and time.monotonic() < entry.expires:
                self._entries.move_to_end(key)
                self.hits += 1
                await self._answer(scope, send, entry)
                return
            self._drop(key)
        await self._fill(scope, receive, send, key)

    def _key(self, scope: Scope, body: bytes | None) -> Key | None:
        """None for what is not kept: other methods, credentials, a POST body too large."""
        if scope["method"] == "POST":
            if body is None or scope["path"] not in self.post_reads:
                return None
        elif scope["method"] not in ("GET", "HEAD"):
            return None
        accept = language = host = content_type = b""
        for name, value in scope["headers"]:
            if name in (b"authorization", b"cookie"):
                return None
            if name == b"accept":
                accept = value
            elif name == b"accept-language":
                language = value
            elif name == b"host":
                host = value
            elif name == b"content-type":
                content_type = value
        return (
            scope["method"],
            scope.get("scheme", "http"),
            scope.get("root_path", "") + scope["path"],
            scope.get("query_string", b""),
            host,
            accept,
            language,
            content_type,
            body or b"",
        )

    async def _answer(self, scope: Scope, send: Send, entry: _Entry) -> None:
        if_none_match = _header(scope, b"if-none-match")
        if (
            entry.etag is not None
            and scope["method"] != "POST"  # a POST's precondition fails with 412, not 304
            and if_none_match is not None
            and _etag_matches(if_none_match, entry.etag)
        ):
            headers = [(n, v) for n, v in entry.headers if n.lower() in NOT_MODIFIED_HEADERS]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        start = {"type": "http.response.start", "status": entry.status, "headers": entry.headers}
        await send(start)
        body = b"" if scope["method"] == "HEAD" else entry.body
        await send({"type": "http.response.body", "body": body})

    async def _fill(self, scope: Scope, receive: Receive, send: Send, key: Key) -> None:
        """Pass the request on, forwarding each message as it comes (streams stay streams)
        and keeping a copy of the answer while it stays storable."""
        epoch = self._now()
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0
        keep = True
        complete = False
        # A large answer is kept the second time it is asked for: the first time, it is not
        # even copied (the copies of large answers, made and freed, grew the heap for good).
        limit = self.max_entry_bytes
        if not self._asked_before(key):
            limit = min(limit, self.admit_bytes)

        async def send_and_keep(message: Message) -> None:
            nonlocal status, headers, size, keep, complete
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                keep = _storable(status, headers)
            elif message["type"] == "http.response.body" and keep:
                body = message.get("body", b"")
                size += len(body)
                if size > limit:
                    keep = False
                    chunks.clear()
                    if size <= self.max_entry_bytes:
                        self._remember_asked_once(key)  # it may be kept the next time
                else:
                    chunks.append(body)
                    complete = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, send_and_keep)
        incomplete = scope.get("state", {}).get("response_incomplete", False)
        if keep and complete and not incomplete and epoch == self._now():
            body = b"".join(chunks)
            self._store(key, _Entry(epoch, self._expiry(), status, headers, body, _etag(headers)))

    def _asked_before(self, key: Key) -> bool:
        """Whether a large answer to ``key`` was not kept the last time (it is now)."""
        digest = hash(key)
        if digest in self._asked_once:
            del self._asked_once[digest]
            return True
        return False

    def _remember_asked_once(self, key: Key) -> None:
        self._asked_once[hash(key)] = None
        if len(self._asked_once) > SEEN_KEYS:
            self._asked_once.popitem(last=False)

    def _now(self) -> tuple[int, int]:
        return (self.epoch, self.writes())

    def _expiry(self) -> float:
        return float("inf") if self.ttl is None else time.monotonic() + self.ttl

    def _store(self, key: Key, entry: _Entry) -> None:
        self._drop(key)
        self._entries[key] = entry
        self._size += len(entry.body)
        while self._size > self.max_bytes:
            _, oldest = self._entries.popitem(last=False)
            self._size -= len(oldest.body)

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._size -= len(entry.body)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """Read a request body of up to ``limit`` bytes. Returns it (None if it is larger, or
    the client left first) and a ``receive`` that hands the app the same messages again."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break  # http.disconnect: the app will see it
        size += len(message.get("body", b""))
        if size > limit or not message.get("more_body", False):
            break
    whole = messages[-1]["type"] == "http.request" and not messages[-1].get("more_body", False)
    body = b"".join(m.get("body", b"") for m in messages) if whole and size <= limit else None

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return body, replay


def _etag(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    return next((value for name, value in headers if name.lower() == b"etag"), None)
