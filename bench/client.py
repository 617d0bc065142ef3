"""A small, fast HTTP/1.1 load client: keep-alive connections over asyncio streams.

Why not httpx: on the benchmark's 2-core machine the client shares the CPUs with the server
it measures, and httpx spends about a millisecond of CPU per request — as much as a lookup
costs ``oxigraph serve``. The client would then be the bottleneck and every server would look
alike. This client parses only what it needs (status line, ``Content-Length`` or
``Transfer-Encoding: chunked``, ``Connection: close``), so it drives several thousand requests
per second on one core. It speaks to 127.0.0.1 only and is not a general HTTP client.

``drive()`` runs a fixed number of workers (the concurrency), each on its own connection, for
a fixed duration or number of requests, and records every request's latency and outcome.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    """One HTTP request and the statuses that count as success for it."""

    method: str
    target: str  # path and query
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    ok: frozenset[int] = frozenset({200})


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes  # empty unless kept
    size: int  # body bytes received
    first_byte: float  # seconds from sending to the first body byte (or the head, if none)
    total: float  # seconds from sending to the end of the body


class Connection:
    """One keep-alive HTTP/1.1 connection to ``host:port``; re-opened when the server closes."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, limit=1 << 20
        )

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def send(
        self,
        request: Request,
        *,
        keep_body: bool = False,
        on_chunk: Callable[[bytes], None] | None = None,
    ) -> Response:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        head = [f"{request.method} {request.target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in request.headers]
        if request.body or request.method in ("POST", "PUT"):
            head.append(f"Content-Length: {len(request.body)}")
        began = time.perf_counter()
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + request.body)
        try:
            return await self._receive(request, began, keep_body, on_chunk)
        except BaseException:
            self.close()  # a half-read response leaves the connection unusable
            raise

    async def _receive(
        self,
        request: Request,
        began: float,
        keep_body: bool,
        on_chunk: Callable[[bytes], None] | None,
    ) -> Response:
        reader = self.reader
        assert reader is not None
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        first_byte: float | None = None
        parts: list[bytes] = []
        size = 0

        def take(data: bytes) -> None:
            nonlocal first_byte, size
            if first_byte is None:
                first_byte = time.perf_counter() - began
            size += len(data)
            if keep_body:
                parts.append(data)
            if on_chunk is not None:
                on_chunk(data)

        no_body = request.method == "HEAD" or status in (204, 304) or 100 <= status < 200
        if no_body:
            pass
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                line = await reader.readuntil(b"\r\n")
                length = int(line.split(b";", 1)[0].strip(), 16)
                if length == 0:
                    await reader.readuntil(b"\r\n")  # no trailers are expected
                    break
                take(await reader.readexactly(length))
                await reader.readexactly(2)
        elif "content-length" in headers:
            remaining = int(headers["content-length"])
            while remaining:
                data = await reader.read(min(remaining, 1 << 20))
                if not data:
                    raise ConnectionError("the server closed the connection mid-body")
                remaining -= len(data)
                take(data)
        else:  # the body ends when the connection does
            while data := await reader.read(1 << 20):
                take(data)
            self.close()
        total = time.perf_counter() - began
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(
            status,
            headers,
            b"".join(parts),
            size,
            first_byte if first_byte is not None else total,
            total,
        )


@dataclass
class Stats:
    """What one ``drive()`` saw."""

    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0  # unexpected status or transport failure
    timeouts: int = 0  # no answer within the per-request timeout
    elapsed: float = 0.0
    bytes: int = 0
    error_samples: list[str] = field(default_factory=list)
    by_label: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q)

    def note_error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (``q`` in 0–100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def drive(
    host: str,
    port: int,
    requests: Callable[[int], tuple[str, Request]],
    *,
    concurrency: int,
    duration: float,
    max_requests: int | None = None,
    min_requests: int = 1,
    timeout: float = 60.0,
) -> Stats:
    """Send ``requests(i)`` (a label and a request) for i = 0, 1, … from ``concurrency``
    workers until ``duration`` seconds have passed (and at least ``min_requests`` were sent)
    or ``max_requests`` were sent. A request past ``timeout`` counts as a timeout and its
    connection is dropped."""
    stats = Stats()
    counter = itertools.count()
    began = time.perf_counter()
    deadline = began + duration

    async def worker() -> None:
        connection = Connection(host, port)
        try:
            while True:
                i = next(counter)
                if max_requests is not None and i >= max_requests:
                    return
                if i >= min_requests and time.perf_counter() >= deadline:
                    return
                label, request = requests(i)
                try:
                    response = await asyncio.wait_for(connection.send(request), timeout)
                except TimeoutError:
                    connection.close()
                    stats.timeouts += 1
                    continue
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    connection.close()
                    stats.note_error(f"{label}: {type(error).__name__}: {error}")
                    continue
                stats.bytes += response.size
                if response.status == 503 and response.total >= 0.9 * timeout:
                    # The server stopped the query at its own deadline (Meent's 503): a timeout,
                    # as when oxigraph serve cuts the body short or the client gives up.
                    stats.timeouts += 1
                    continue
                if response.status not in request.ok:
                    stats.note_error(f"{label}: HTTP {response.status} for {request.target[:80]}")
                    continue
                stats.latencies.append(response.total)
                stats.by_label.setdefault(label, []).append(response.total)
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    stats.elapsed = time.perf_counter() - began
    return stats


async def fetch(
    host: str,
    port: int,
    request: Request,
    *,
    keep_body: bool = True,
    on_chunk: Callable[[bytes], None] | None = None,
    timeout: float = 600.0,
) -> Response:
    """One request on a fresh connection."""
    connection = Connection(host, port)
    try:
        return await asyncio.wait_for(
            connection.send(request, keep_body=keep_body, on_chunk=on_chunk), timeout
        )
    finally:
        connection.close()
