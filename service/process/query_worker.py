"""A query worker process: evaluates public queries on a read-only open of the store.

``service.store.worker_pool.QueryWorkerPool`` starts ``python -m service.process.query_worker
--zygote FD``: a *zygote* that imports what a worker needs once and then forks a worker for each
request on its control socket (a few milliseconds, where starting an interpreter takes ~100 ms of
CPU). The pool kills a worker for every runaway query it stops, so under abuse it starts workers all
the time; cheap starts keep that from eating the CPUs the other queries need. ``python -m
service.process.query_worker FD STORE GENERATION`` runs one worker directly.

Only the standard library, pyoxigraph and ``service.process.memory`` (itself only the standard
library) are imported here, and the zygote opens no store and starts no thread before it
forks: a worker opens its own read-only store afterwards. See ``service.store.worker_pool`` for
why queries run in processes, and for the protocol.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
from typing import Any

import pyoxigraph as ox

from service.process.memory import release_free_memory

HEADER = struct.Struct("!cI")
JOB, FORMAT, DATA, END, ERROR, FAILURE = b"J", b"F", b"D", b"Z", b"E", b"X"
CHUNK_SIZE = 64 * 1024
#: Attempts to open the store and evaluate before a worker reports a storage failure.
OPEN_ATTEMPTS = 5


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


#: prctl's option for "send me this signal when my parent dies" (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def _exit_with_parent() -> None:
    """Exit when the parent dies, even in the middle of a query (which releases the GIL).
    On Linux the kernel kills the worker then, even one the pool has paused (SIGSTOP), whose
    watching thread cannot run; elsewhere the thread is all there is."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before prctl took hold
        os._exit(0)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="meent-parent-watch", daemon=True).start()


def main(argv: list[str]) -> None:
    """``python -m service.process.query_worker FD STORE_PATH GENERATION``: serve jobs until EOF."""
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
            # What the query allocated is free now; without this the worker would keep it
            # (a large join's hundreds of MB) until the pool replaced it.
            release_free_memory()


#: The zygote's answer to a fork request: the new worker's process id.
PID = struct.Struct("!I")


def zygote(control_fd: int) -> None:
    """Fork a worker for each request on the control socket — a message ``STORE\0GENERATION``
    with the worker's end of its job socket attached — and answer its process id. Ends when
    the control socket closes (the pool closed, or its process died). The workers' parent is
    this process: they are reaped by the kernel (SIGCHLD ignored), and they exit when it does
    (``_exit_with_parent``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    release_free_memory()  # finds the C library once, for every worker forked from here
    control = socket.socket(fileno=control_fd)
    while True:
        message, fds, _, _ = socket.recv_fds(control, 4096, 1)
        if not message:
            return
        path, generation = message.decode().split("\0")
        pid = os.fork()
        if pid == 0:  # the worker
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                with contextlib.suppress(ConnectionError):
                    main([str(fds[0]), path, generation])
            finally:
                os._exit(0)
        os.close(fds[0])
        control.sendall(PID.pack(pid))


if __name__ == "__main__":
    with contextlib.suppress(ConnectionError):  # the parent has gone
        if sys.argv[1] == "--zygote":
            zygote(int(sys.argv[2]))
        else:
            main(sys.argv[1:])
