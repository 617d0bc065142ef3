"""Query worker processes: public queries on the embedded on-disk store that can be stopped.

pyoxigraph cannot cancel a running query, and a thread cannot be stopped from outside, so a
query evaluated in the service's own process runs to its end however long that takes. For an
on-disk store ``OxigraphStore`` therefore hands the public ``/sparql`` queries to a pool of
worker processes. Each opens the store with ``Store.read_only`` (RocksDB lets any number of
read-only openers sit beside the one writer), evaluates one query at a time, serialises it in
the negotiated format and sends the bytes back over a socket. When a query runs past its
deadline, or its reader goes away, the pool kills the worker (SIGKILL — its store is
read-only, there is nothing to lose) and starts a fresh one: the CPU is really given back.

Freshness: the writer bumps a *generation* after each write and flushes its memtable before a
job of a newer generation goes out (a read-only open replays the write-ahead log, which is slow
when it is long). Every job carries the generation; a worker whose store is older re-opens it.

Workers are started with ``subprocess`` as ``python -m service.query_workers`` (a fresh
interpreter, as multiprocessing's "spawn" would give, without re-importing the parent's main
module), with their end of a socket pair as the only inherited descriptor. A worker exits when
its socket closes or its parent dies.

Wire format, both ways: frames of ``kind`` (one byte) + length (4 bytes, big-endian) + payload.
The parent sends ``J`` (a job, JSON); a worker answers ``F`` (the media type it serialises
in) with the first data, any number of ``D`` (data), then ``Z`` (end) — or, at any point,
``E`` (the query failed: the client's error) or ``X`` (the store failed; the worker re-opens
it for the next job). Until ``F`` a worker may retry quietly: a read-only store can miss
table files the writer has just compacted away, and opening it again fixes that.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread
import pyoxigraph as ox

HEADER = struct.Struct("!cI")
JOB, FORMAT, DATA, END, ERROR, FAILURE = b"J", b"F", b"D", b"Z", b"E", b"X"
CHUNK_SIZE = 64 * 1024
#: Attempts to open the store and evaluate before a worker reports a storage failure.
OPEN_ATTEMPTS = 5
#: Jobs that may wait for a worker, per worker, before the pool answers "busy".
WAITING_PER_WORKER = 4
#: Seconds after which a job's worker runs at DEMOTED_NICENESS (nice 19: about 1/70 the CPU
#: share of a normal process when they compete).
DEMOTE_AFTER = 0.5
DEMOTED_NICENESS = 19

Reason = Literal["query", "timeout", "busy", "unavailable"]


class WorkerError(Exception):
    """A pooled query failed. ``reason``: ``query`` — the engine refused or failed the query
    (the client's error); ``timeout`` — the deadline passed (the worker was killed);
    ``busy`` — too many queries wait already; ``unavailable`` — a worker died or the pool is
    closed. The store turns these into its own exceptions."""

    def __init__(self, reason: Reason, message: str, timeout: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.timeout = timeout  # for "timeout": the one that passed


class _WorkerGone(Exception):
    """The worker's socket closed: it died (or was killed)."""


def default_size() -> int:
    """Workers when the settings do not say: two per CPU, at least four.

    More than one per CPU on purpose. A worker is held for the whole of its query, not only
    for the CPU it uses, so with one per CPU a few runaway queries hold every worker and
    cheap queries queue behind them until the timeout. With more workers than CPUs the kernel
    shares the CPUs out and a lookup still answers in milliseconds. Each idle worker costs
    a Python process (~30–60 MB resident).
    """
    return max(4, 2 * (os.cpu_count() or 1))


# --- the parent's side -------------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    """One worker process and the parent's end of its socket (non-blocking)."""

    process: subprocess.Popen[bytes]
    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)
    job_started: float = 0.0
    demoted: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    async def send(self, kind: bytes, payload: bytes) -> None:
        data = memoryview(HEADER.pack(kind, len(payload)) + payload)
        while data:
            try:
                sent = self.sock.send(data)
            except BlockingIOError:
                await anyio.wait_writable(self.sock)
                continue
            except OSError as error:
                raise _WorkerGone(str(error)) from None
            data = data[sent:]

    async def receive(self) -> tuple[bytes, bytes]:
        buffer = self.buffer
        while True:
            if len(buffer) >= HEADER.size:
                kind, size = HEADER.unpack_from(buffer)
                end = HEADER.size + size
                if len(buffer) >= end:
                    payload = bytes(buffer[HEADER.size : end])
                    del buffer[:end]
                    return kind, payload
            try:
                data = self.sock.recv(4 * CHUNK_SIZE)
            except BlockingIOError:
                await anyio.wait_readable(self.sock)
                continue
            except OSError as error:
                raise _WorkerGone(str(error)) from None
            if not data:
                raise _WorkerGone("the worker closed its socket")
            buffer += data

    async def receive_before(self, deadline: float) -> tuple[bytes, bytes]:
        """The next frame; TimeoutError at ``deadline``. A job running longer than
        DEMOTE_AFTER loses CPU priority first (receive() can be cancelled and resumed)."""
        # Checked here too: when data is waiting, receive() never suspends, and a cancel
        # scope only acts where its task suspends.
        if anyio.current_time() >= deadline:
            raise TimeoutError
        demote_at = self.job_started + DEMOTE_AFTER
        if not self.demoted and demote_at < deadline:
            with anyio.move_on_after(max(0.0, demote_at - anyio.current_time())):
                return await self.receive()
            self.demote()
        with anyio.fail_after(_remaining(deadline)):
            return await self.receive()

    def demote(self) -> None:
        """Give the process the lowest CPU priority (it cannot get it back: the pool replaces
        it after this job), so that short queries keep the CPUs while long ones run."""
        self.demoted = True
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self.pid, DEMOTED_NICENESS)

    def kill(self) -> None:
        """SIGKILL, close the socket, and reap the process in the background."""
        with contextlib.suppress(OSError):
            self.process.kill()
        self.sock.close()
        threading.Thread(target=self.process.wait, name="meent-reap", daemon=True).start()


def _deadline_after(timeout: float | None) -> float:
    return math.inf if timeout is None else anyio.current_time() + timeout


def _remaining(deadline: float) -> float | None:
    if deadline == math.inf:
        return None
    return max(0.0, deadline - anyio.current_time())


class QueryWorkerPool:
    """Worker processes that evaluate queries on the on-disk store at ``path``.

    ``size`` workers are started on first use; a job waits for a free one (at most
    ``WAITING_PER_WORKER * size`` jobs wait; the wait counts against the job's deadline).
    Use from one event loop; ``close()`` kills every worker. ``errors`` turns a WorkerError
    into the exception callers should see.
    """

    def __init__(
        self,
        path: Path,
        size: int,
        errors: Callable[[WorkerError], Exception] = lambda error: error,
    ) -> None:
        if size < 1:
            raise ValueError("a query worker pool needs at least one worker")
        self.path = path
        self.size = size
        self._errors = errors
        self.generation = 0
        self._workers: set[_Worker] = set()
        # A stack: a released worker (warm: store open, pages cached) goes on top and is taken
        # first; a fresh one goes to the bottom, to be used once it has started up.
        self._idle: list[_Worker] = []
        self._free = anyio.Semaphore(0)  # counts the idle workers
        self._started = False
        self._waiting = 0
        self._closed = False

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (for monitoring and tests)."""
        return sorted(worker.pid for worker in self._workers)

    def _spawn(self) -> _Worker:
        """Start one worker (a few milliseconds: the interpreter starts in the background)."""
        ours, theirs = socket.socketpair()
        # The child must import this package even when it is not installed.
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        try:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "service.query_workers"),
                    *(str(theirs.fileno()), str(self.path), str(self.generation)),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except OSError as error:
            ours.close()
            raise WorkerError("unavailable", f"cannot start a query worker: {error}") from None
        finally:
            theirs.close()
        ours.setblocking(False)
        worker = _Worker(process, ours)
        self._workers.add(worker)
        self._idle.insert(0, worker)
        self._free.release()
        return worker

    async def _acquire(self, deadline: float, timeout: float | None) -> _Worker:
        if self._closed:
            raise WorkerError("unavailable", "the query service is shutting down")
        if not self._started:
            self._started = True
            for _ in range(self.size):
                self._spawn()
        while True:
            try:
                self._free.acquire_nowait()
            except anyio.WouldBlock:
                await self._wait_for_worker(deadline, timeout)
            if self._closed:
                raise WorkerError("unavailable", "the query service is shutting down")
            worker = self._idle.pop()
            if worker.alive():
                return worker
            self._retire(worker)  # killed from outside, or crashed while idle

    async def _wait_for_worker(self, deadline: float, timeout: float | None) -> None:
        if not self._workers:
            raise WorkerError("unavailable", "no query worker could be started")
        if self._waiting >= WAITING_PER_WORKER * self.size:
            raise WorkerError("busy", "too many queries are waiting; try again shortly")
        self._waiting += 1
        try:
            with anyio.fail_after(_remaining(deadline)):
                await self._free.acquire()
        except TimeoutError:
            raise WorkerError("timeout", "no query worker became free in time", timeout) from None
        finally:
            self._waiting -= 1

    def _release(self, worker: _Worker) -> None:
        """Give a worker that finished its job back to the pool."""
        if self._closed or worker.demoted:
            self._retire(worker)
        else:
            self._idle.append(worker)
            self._free.release()

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker (mid-job, or dead already) and put a fresh one in its place."""
        worker.kill()
        self._workers.discard(worker)
        if not self._closed:
            # On failure the pool has one worker fewer; the next spawn (after the next
            # retirement) tries again, and a pool with none left says so at once.
            with contextlib.suppress(WorkerError):
                self._spawn()

    async def run(
        self, job: dict[str, Any], *, timeout: float | None
    ) -> tuple[str, AsyncIterator[bytes]]:
        """Send ``job`` to a free worker; return the media type it answers in and its chunks.

        Raises ``errors(WorkerError)`` before the first chunk (the query failed, the deadline
        passed, no worker); the chunks raise it too, and stop at the deadline. The chunks
        must be read to the end or closed: a worker whose output is abandoned is killed.
        """
        try:
            return await self._run(job, timeout)
        except WorkerError as error:
            raise self._errors(error) from None

    async def _run(
        self, job: dict[str, Any], timeout: float | None
    ) -> tuple[str, AsyncIterator[bytes]]:
        deadline = _deadline_after(timeout)
        payload = json.dumps({**job, "generation": self.generation}).encode()
        for attempt in (1, 2):
            worker = await self._acquire(deadline, timeout)
            worker.job_started = anyio.current_time()
            try:
                with anyio.fail_after(_remaining(deadline)):
                    await worker.send(JOB, payload)
                kind, body = await worker.receive_before(deadline)
            except TimeoutError:
                self._retire(worker)
                raise WorkerError("timeout", "the query ran past its deadline", timeout) from None
            except _WorkerGone:
                self._retire(worker)
                if attempt == 1:
                    continue  # died before taking the job (killed while idle): try another
                raise WorkerError("unavailable", "the query worker died") from None
            except BaseException:
                self._retire(worker)  # cancelled: the job may be running
                raise
            if kind in (ERROR, FAILURE):
                self._release(worker)
                reason: Reason = "query" if kind == ERROR else "unavailable"
                raise WorkerError(reason, body.decode(errors="replace"))
            if kind != FORMAT:
                self._retire(worker)
                raise WorkerError("unavailable", f"the query worker sent {kind!r} first")
            return body.decode(), _Output(self, worker, deadline, timeout, self._errors)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Kill every worker and wait until they are gone."""
        self._closed = True
        for _ in range(self._waiting):
            self._free.release()  # the waiters wake up and see the pool closed
        self._idle.clear()
        workers = list(self._workers)
        self._workers.clear()
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.process.kill()
            worker.sock.close()

        def reap() -> None:
            for worker in workers:
                worker.process.wait()

        await anyio.to_thread.run_sync(reap)


class _Output:
    """A worker's answer as an async iterator of chunks.

    A class rather than an async generator: ``aclose()`` must kill the worker even when
    iteration never started (a generator's ``finally`` would not run then).
    """

    def __init__(
        self,
        pool: QueryWorkerPool,
        worker: _Worker,
        deadline: float,
        timeout: float | None,
        errors: Callable[[WorkerError], Exception],
    ) -> None:
        self._pool = pool
        self._worker: _Worker | None = worker
        self._deadline = deadline
        self._timeout = timeout
        self._errors = errors

    def __aiter__(self) -> _Output:
        return self

    async def __anext__(self) -> bytes:
        if self._worker is None:
            raise StopAsyncIteration
        try:
            kind, body = await self._receive(self._worker)
        except BaseException:
            self._done(finished=False)
            raise
        if kind == DATA:
            return body
        if kind == END:
            self._done(finished=True)
            raise StopAsyncIteration
        if kind in (ERROR, FAILURE):
            self._done(finished=True)
            reason: Reason = "query" if kind == ERROR else "unavailable"
            raise self._errors(WorkerError(reason, body.decode(errors="replace")))
        self._done(finished=False)
        raise self._errors(WorkerError("unavailable", f"the query worker sent {kind!r}"))

    async def _receive(self, worker: _Worker) -> tuple[bytes, bytes]:
        try:
            return await worker.receive_before(self._deadline)
        except TimeoutError:
            timeout = WorkerError("timeout", "the query ran past its deadline", self._timeout)
            raise self._errors(timeout) from None
        except _WorkerGone:
            raise self._errors(WorkerError("unavailable", "the query worker died")) from None

    def _done(self, *, finished: bool) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if finished:
            self._pool._release(worker)
        else:
            self._pool._retire(worker)

    async def aclose(self) -> None:
        self._done(finished=False)

    def __del__(self) -> None:
        # Last resort for an answer nobody closed: never leave a worker running for nobody.
        with contextlib.suppress(Exception):
            self._done(finished=False)


# --- the worker's side -------------------------------------------------------------------------


class _FrameWriter:
    """A binary file-like object for pyoxigraph's serialisers: sends ~64 KiB data frames,
    announcing the format just before the first (so that until then, a failed attempt can be
    retried without the parent noticing)."""

    def __init__(self, sock: socket.socket, media_type: str) -> None:
        self._sock = sock
        self.media_type = media_type
        self._buffer = bytearray()
        self.started = False

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK_SIZE:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._start()
            _send(self._sock, DATA, bytes(self._buffer))
            self._buffer.clear()

    def finish(self) -> None:
        self._start()  # even for an empty result
        self.flush()
        _send(self._sock, END, b"")

    def _start(self) -> None:
        if not self.started:
            self.started = True
            _send(self._sock, FORMAT, self.media_type.encode())


def _send(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    sock.sendall(HEADER.pack(kind, len(payload)))
    if payload:
        sock.sendall(payload)


def _receive(sock: socket.socket) -> tuple[bytes, bytes] | None:
    header = _receive_exactly(sock, HEADER.size)
    if header is None:
        return None
    kind, size = HEADER.unpack(header)
    payload = _receive_exactly(sock, size)
    return None if payload is None else (kind, payload)


def _receive_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _storage_failure(error: Exception) -> bool:
    """Whether pyoxigraph's error is the store's (I/O, a missing file), not the query's.
    RocksDB's own errors come as RuntimeError with its status as the message."""
    if isinstance(error, OSError):
        return True
    return isinstance(error, RuntimeError) and str(error).startswith(("Corruption", "IO error"))


class _Evaluator:
    """The worker process's state: the read-only store and the generation it was opened at."""

    def __init__(self, path: str, generation: int) -> None:
        self.path = path
        self.generation = generation
        self.store: ox.Store | None = None
        with contextlib.suppress(OSError, RuntimeError):  # else the first job opens it
            self.store = ox.Store.read_only(path)

    def answer(self, sock: socket.socket, job: dict[str, Any]) -> None:
        """Evaluate and serialise; a storage failure before the first byte is retried on a
        freshly opened store."""
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            out = _FrameWriter(sock, job["results_format"])
            try:
                self._answer(out, job)
                return
            except ConnectionError:
                raise  # the parent has gone: nothing to tell
            except (SyntaxError, ValueError, OSError, RuntimeError) as error:
                if not _storage_failure(error):
                    _send(sock, ERROR, str(error).encode())
                    return
                # Most likely the writer compacted away table files this read-only store had
                # not opened yet (or did so while it was opening): open it afresh.
                self.store = None
                if out.started or attempt == OPEN_ATTEMPTS:
                    _send(sock, FAILURE, str(error).encode())
                    return
                time.sleep(0.02 * attempt)

    def _answer(self, out: _FrameWriter, job: dict[str, Any]) -> None:
        if self.store is None or job["generation"] != self.generation:
            self.store = None  # release the old one first
            self.store = ox.Store.read_only(self.path)
            self.generation = job["generation"]
        options = {
            key: [ox.NamedNode(iri) for iri in value] if isinstance(value, list) else value
            for key, value in job["options"].items()
        }
        result = self.store.query(job["query"], **options)
        try:
            if isinstance(result, ox.QueryTriples):
                out.media_type = job["graph_format"]
                graph_format = ox.RdfFormat.from_media_type(job["graph_format"])
                assert graph_format is not None
                ox.serialize(result, out, graph_format)
            else:
                results_format = ox.QueryResultsFormat.from_media_type(job["results_format"])
                assert results_format is not None
                result.serialize(out, results_format)
            out.finish()
        finally:
            del result


def _exit_with_parent() -> None:
    """Exit when the parent dies, even in the middle of a query (which releases the GIL)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="meent-parent-watch", daemon=True).start()


def main(argv: list[str]) -> None:
    """``python -m service.query_workers FD STORE_PATH GENERATION``: serve jobs until EOF."""
    fd, path, generation = int(argv[0]), argv[1], int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which kills us
    _exit_with_parent()
    sock = socket.socket(fileno=fd)
    worker = _Evaluator(path, generation)
    while True:
        frame = _receive(sock)
        if frame is None:
            return
        kind, payload = frame
        if kind == JOB:
            worker.answer(sock, json.loads(payload))


if __name__ == "__main__":
    with contextlib.suppress(ConnectionError):  # the parent has gone
        main(sys.argv[1:])
