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

Workers are forked by a *zygote* (``service.process.query_worker``), a fresh interpreter started
once with ``subprocess`` (as multiprocessing's "forkserver" would give, without re-importing the
parent's main module), which has imported pyoxigraph and nothing else: a worker is ready in a few
milliseconds. Its end of a socket pair is a worker's only link to the pool. A worker exits when its
socket closes or the zygote dies; the zygote exits when the pool's process does.

Wire format, both ways: frames of ``kind`` (one byte) + length (4 bytes, big-endian) + payload.
The parent sends ``J`` (a job, JSON); a worker answers ``F`` (the media type it serialises
in) with the first data, any number of ``D`` (data), then ``Z`` (end) — or, at any point,
``E`` (the query failed: the client's error) or ``X`` (the store failed; the worker re-opens
it for the next job). Until ``F`` a worker may retry quietly: a read-only store can miss
table files the writer has just compacted away, and opening it again fixes that.
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn

import anyio
import anyio.to_thread

from service.process.memory import ARENAS
from service.process.query_worker import (
    CHUNK_SIZE,
    DATA,
    END,
    ERROR,
    FAILURE,
    FORMAT,
    HEADER,
    JOB,
    PID,
)
from service.store.schedule import Changes, LongQueries

#: Jobs that may wait for a worker, per worker, before the pool answers "busy" (a waiting
#: job costs only a coroutine; its deadline still bounds the wait).
WAITING_PER_WORKER = 16
#: Seconds the zygote may take to fork a worker before it is thought broken.
ZYGOTE_TIMEOUT = 5.0
#: Seconds after which a job's worker runs at DEMOTED_NICENESS (nice 19: about 1/70 the CPU
#: share of a normal process when they compete).
DEMOTE_AFTER = 0.02
DEMOTED_NICENESS = 19
#: A job is *long* once its worker has spent LONG_CPU seconds of CPU on it after it was
#: demoted, or LONG_AFTER seconds have passed: it runs only in one of the pool's long slots,
#: and waits while they are taken (``service.store.schedule``). CPU time, not the clock, is
#: what tells a heavy query from a lookup on a busy machine: a lookup takes milliseconds of
#: CPU however long it waits for one. LONG_CPU is low because every job that runs past it
#: at once holds its own working set and RocksDB block cache (~60 MB at a million triples);
#: one sent back then loses only that much work. LONG_AFTER catches jobs that wait without
#: using CPU (on the disk, or starved at DEMOTED_NICENESS).
LONG_CPU = 0.1
LONG_AFTER = 0.5
#: How often a demoted job's reader reads its worker's CPU time (/proc), until it is long.
CPU_POLL = 0.02
#: Bytes of an answer the pool holds back, until the job ends or is long and has a slot:
#: while nothing has gone to the client a job can still be sent back and run again. Past
#: this the answer streams (the first byte of a large result still comes long before the
#: end), and the job, if it must wait, waits paused.
HOLD_BYTES = 512 * 1024
_TICKS = os.sysconf("SC_CLK_TCK")
#: Seconds a long job may keep its slot while others wait, before it gives the slot up to
#: the one with the least claim (``service.store.schedule``) and waits in turn.
LONG_QUANTUM = 10.0
#: How often a running long job's reader asks whether a slot should change hands.
LONG_TICK = 0.5
#: A worker holding more private memory than this after a job is replaced by a fresh fork.
#: Each worker's read-only store has its own RocksDB block cache, which grows to ~65 MB at a
#: million triples once a few large questions have read their blocks; ``oxigraph serve``, one
#: process, has one. Here the cache buys no speed: the table files are in the system's page
#: cache, and the benchmark's heavy questions took as long on a warm cache as on a cold one.
#: So a worker whose cache has grown is replaced: a fork and a read-only open take ~15 ms.
MAX_WORKER_BYTES = 32 * 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")

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


class _SentBack(Exception):
    """The job became long while every long slot was taken, before it had answered anything:
    its worker is killed and the job waits, holding no memory, to be run again."""


@dataclass(eq=False)
class _Ticket:
    """A job's place in the schedule of long jobs, kept across the workers it runs in."""

    worker: _Worker | None = None
    answering: bool = False  # part of its answer has gone to the caller: it cannot be sent back
    given_slot: anyio.Event = field(default_factory=anyio.Event)


def default_long_slots() -> int:
    """Long queries that run at once when the settings do not say: one per CPU (see
    ``service.store.schedule`` for why no more)."""
    return os.cpu_count() or 1


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


class _Forked:
    """A worker forked by the zygote: not this process's child, so it is watched by its pid
    (the zygote has the kernel reap it, so a dead worker's pid is gone at once)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return -signal.SIGKILL
        except PermissionError:  # the pid was reused by someone else's process
            return -signal.SIGKILL
        return None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        while (code := self.poll()) is None:
            time.sleep(0.01)
        return code


class _Zygote:
    """The process that forks workers (``service.process.query_worker.zygote``)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [*_worker_command(), "--zygote", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=_worker_env(),
            )
        except OSError as error:
            ours.close()
            raise WorkerError("unavailable", f"cannot start the query workers: {error}") from None
        finally:
            theirs.close()
        ours.settimeout(ZYGOTE_TIMEOUT)
        self.sock = ours

    def fork(self, path: Path, generation: int) -> tuple[_Forked, socket.socket]:
        """A new worker and the pool's end of its socket; WorkerError if the zygote fails."""
        ours, theirs = socket.socketpair()
        try:
            message = f"{path}\0{generation}".encode()
            socket.send_fds(self.sock, [message], [theirs.fileno()])
            answer = b""
            while len(answer) < PID.size:
                chunk = self.sock.recv(PID.size - len(answer))
                if not chunk:
                    raise OSError("the zygote closed its socket")
                answer += chunk
        except OSError as error:  # timeouts included
            ours.close()
            raise WorkerError("unavailable", f"cannot start a query worker: {error}") from None
        finally:
            theirs.close()
        (pid,) = PID.unpack(answer)
        return _Forked(pid), ours

    def close(self) -> None:
        self.sock.close()  # the zygote exits on EOF; the kill is for one that hangs
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()


def _worker_command() -> list[str]:
    return [sys.executable, "-m", "service.process.query_worker"]


def _worker_env() -> dict[str, str]:
    # The zygote must import this package even when it is not installed.
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    # Two malloc arenas, as for the server (service/process/memory.py), unless the operator chose.
    env.setdefault("MALLOC_ARENA_MAX", str(ARENAS))
    return env


@dataclass(eq=False)
class _Worker:
    """One worker process and the parent's end of its socket (non-blocking)."""

    process: _Forked
    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)
    job_started: float = 0.0
    demoted: bool = False
    cpu_at_demotion: float = 0.0
    long: bool = False  # the job is long (LONG_CPU, LONG_AFTER): the pool schedules it
    paused: bool = False
    sent_back: bool = False  # the pool sends the job back (``_SentBack``)
    ticket: _Ticket | None = None
    on_demote: Callable[[], None] = lambda: None
    on_long: Callable[[_Worker], None] = lambda worker: None
    on_tick: Callable[[], None] = lambda: None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def private_bytes(self) -> int:
        """Resident memory not backed by a file (from /proc, cheap enough to read after every
        job); 0 where /proc is not there."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                _, resident, shared, *_ = statm.read().split()
        except (OSError, ValueError):
            return 0
        return (int(resident) - int(shared)) * _PAGE

    def cpu_seconds(self) -> float:
        """CPU time the process has used, user and system (from /proc); 0 where /proc is
        not there, so that only LONG_AFTER applies."""
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as stat:
                # The name (field 2) is in parentheses and may hold spaces: split after it.
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15)

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
        """The next frame; TimeoutError at ``deadline``. While it waits, a job running
        longer than DEMOTE_AFTER loses CPU priority, one past LONG_CPU or LONG_AFTER is
        handed to the pool's schedule of long jobs, and a long one asks every LONG_TICK
        whether its slot should change hands (receive() can be cancelled and resumed)."""
        while True:
            # Checked here too: when data is waiting, receive() never suspends, and a cancel
            # scope only acts where its task suspends.
            now = anyio.current_time()
            if now >= deadline:
                raise TimeoutError
            if not self.demoted and now >= self.job_started + DEMOTE_AFTER:
                self.demote()
            if not self.long and self.demoted and self._past_long(now):
                self.long = True
                self.on_long(self)
                if self.sent_back:
                    raise _SentBack
            elif self.long:
                self.on_tick()
            if not self.demoted:
                step = self.job_started + DEMOTE_AFTER
            elif not self.long:
                step = min(now + CPU_POLL, self.job_started + LONG_AFTER)
            else:
                step = now + LONG_TICK
            if step >= deadline:
                with anyio.fail_after(_remaining(deadline)):
                    return await self.receive()
            with anyio.move_on_after(max(0.0, step - now)):
                return await self.receive()

    def _past_long(self, now: float) -> bool:
        if now >= self.job_started + LONG_AFTER:
            return True
        return self.cpu_seconds() - self.cpu_at_demotion >= LONG_CPU

    def demote(self) -> None:
        """Give the process the lowest CPU priority, so that short queries keep the CPUs while
        long ones run (after the job it gets its priority back where that is allowed, and is
        replaced where not)."""
        self.demoted = True
        self.cpu_at_demotion = self.cpu_seconds()
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self.pid, DEMOTED_NICENESS)
        self.on_demote()

    def pause(self) -> None:
        """Stop the process where it is (SIGSTOP): it uses no CPU and allocates nothing until
        ``resume``; SIGKILL still ends it."""
        self.paused = True
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        self.paused = False
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGCONT)

    def promote(self) -> bool:
        """Give a demoted process its normal priority back; False where that is not allowed
        (an unprivileged process may raise its niceness, not lower it)."""
        try:
            os.setpriority(os.PRIO_PROCESS, self.pid, 0)
        except OSError:
            return False
        self.demoted = False
        return True

    def kill(self) -> None:
        """SIGKILL and close the socket."""
        self.process.kill()  # the zygote has the kernel reap it
        self.sock.close()


def _deadline_after(timeout: float | None) -> float:
    return math.inf if timeout is None else anyio.current_time() + timeout


def _remaining(deadline: float) -> float | None:
    if deadline == math.inf:
        return None
    return max(0.0, deadline - anyio.current_time())


class QueryWorkerPool:
    """Worker processes that evaluate queries on the on-disk store at ``path``.

    ``size`` workers are started on first use. A worker whose job runs past DEMOTE_AFTER is
    demoted and no longer counts: when no other is free the pool starts another (up to
    ``limit`` in all), so long queries — eight clients sending runaways, say — hold only the
    workers they run in, and short ones still find ``size`` workers for them. The extra
    workers stop once the long queries are done. A job that
    finds none free waits (at most ``WAITING_PER_WORKER * size`` jobs wait; the wait counts
    against the job's deadline). Use from one event loop; ``close()`` kills every
    worker. ``errors`` turns a WorkerError into the exception callers should see.

    At most ``long_slots`` long jobs (past LONG_CPU or LONG_AFTER) run at once;
    ``service.store.schedule`` says which. Until a job ends, is long with a slot, or has sent
    HOLD_BYTES, the pool holds its answer back. A job that must wait while nothing of its
    answer has gone on is *sent back*: its worker is killed, so that it holds no memory while
    it waits, and it runs again from the start in another worker when it is given a slot (it
    loses the work it had done, ~LONG_CPU). One whose answer has begun to go to the client,
    or that gives its slot up after its quantum, is paused where it is (SIGSTOP) instead.
    Deadlines run meanwhile.
    """

    def __init__(
        self,
        path: Path,
        size: int,
        errors: Callable[[WorkerError], Exception] = lambda error: error,
        *,
        limit: int | None = None,
        long_slots: int | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a query worker pool needs at least one worker")
        self.path = path
        self.size = size
        self.sent_back = 0  # jobs sent back so far (for monitoring and tests)
        self._long: LongQueries[_Ticket] = LongQueries(
            long_slots if long_slots is not None else default_long_slots(), LONG_QUANTUM
        )
        # Each worker is a process of ~30–60 MB; past the limit, long queries do hold workers
        # that short ones then wait for.
        self.limit = max(size, limit if limit is not None else 3 * size)
        self._errors = errors
        self.generation = 0
        self._workers: set[_Worker] = set()
        # A stack: a released worker (warm: store open, pages cached) goes on top and is taken
        # first; a fresh one goes to the bottom, to be used once it has started up.
        self._idle: list[_Worker] = []
        self._free = anyio.Semaphore(0)  # counts the idle workers
        self._started = False
        self._zygote: _Zygote | None = None
        self._waiting = 0
        self._closed = False

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (for monitoring and tests)."""
        return sorted(worker.pid for worker in self._workers)

    def _spawn(self) -> _Worker:
        """Start one worker: the zygote forks it (it opens its store in the background)."""
        if self._zygote is None or self._zygote.process.poll() is not None:
            if self._zygote is not None:
                self._zygote.close()  # it died: its workers exit with it
            self._zygote = None
            self._zygote = _Zygote()
        try:
            process, ours = self._zygote.fork(self.path, self.generation)
        except WorkerError:
            self._zygote.close()
            self._zygote = None
            raise
        ours.setblocking(False)
        worker = _Worker(
            process, ours, on_demote=self._demoted, on_long=self._became_long, on_tick=self._tick
        )
        self._workers.add(worker)
        self._idle.insert(0, worker)
        self._free.release()
        return worker

    def _short_capacity(self) -> int:
        """Workers that can take a short job: all but the demoted ones."""
        return sum(not worker.demoted for worker in self._workers)

    def _top_up(self) -> None:
        """Start workers while fewer than ``size`` can take short jobs (within ``limit``).
        A failed start leaves the pool smaller; the next top-up tries again."""
        while len(self._workers) < self.limit and self._short_capacity() < self.size:
            try:
                self._spawn()
            except WorkerError:
                return

    def _demoted(self) -> None:
        """A worker was demoted: if no other is free, start one for the short jobs to come
        (if one is free, the next job that finds none starts one)."""
        if not self._idle:
            self._top_up()

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
                self._top_up()  # when long queries hold the workers
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

    def _became_long(self, worker: _Worker) -> None:
        ticket = worker.ticket
        assert ticket is not None
        changes = self._long.start(ticket, anyio.current_time())
        if ticket in changes.pause and not ticket.answering:
            changes.pause.remove(ticket)
            worker.sent_back = True
            self.sent_back += 1
        self._apply(changes)

    def _tick(self) -> None:
        self._apply(self._long.tick(anyio.current_time()))

    def _apply(self, changes: Changes[_Ticket]) -> None:
        for ticket in changes.pause:
            if ticket.worker is not None:
                ticket.worker.pause()
        for ticket in changes.resume:
            if ticket.worker is not None:
                ticket.worker.resume()
            else:
                ticket.given_slot.set()  # a job sent back: it runs again

    def _forget(self, ticket: _Ticket) -> None:
        """The job leaves the schedule (answered, failed, stopped; or, sent back, it ended
        before it ran again): its slot, or its place in the queue, goes to another."""
        if ticket in self._long:
            self._apply(self._long.end(ticket, anyio.current_time()))

    def _end_long(self, worker: _Worker) -> None:
        """A job ended (answered, failed, killed): its long slot, or its place in the queue,
        goes to another — unless it was sent back, and keeps its place. A worker paused
        after its last frame had gone is resumed, so that it can take the next job."""
        ticket, worker.ticket = worker.ticket, None
        if ticket is not None:
            if ticket.worker is worker:
                ticket.worker = None
            if not worker.sent_back:
                self._forget(ticket)
        worker.long = worker.sent_back = False
        if worker.paused and worker.alive():
            worker.resume()
        worker.paused = False

    def _release(self, worker: _Worker) -> None:
        """Give a worker that finished its job back to the pool — unless the pool is closing,
        it was demoted and cannot get its priority back, it holds more than MAX_WORKER_BYTES,
        or the pool has more than it needs (it grew while long queries ran)."""
        self._end_long(worker)
        if (
            self._closed
            or (worker.demoted and not worker.promote())
            or worker.private_bytes() > MAX_WORKER_BYTES
        ):
            self._retire(worker)
        elif len(self._workers) > self.size and self._short_capacity() > self.size:
            self._workers.discard(worker)
            worker.kill()
        else:
            self._idle.append(worker)
            self._free.release()

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker (mid-job, or dead already); start others if the pool needs them."""
        worker.kill()
        self._end_long(worker)
        self._workers.discard(worker)
        if not self._closed:
            # When none can be started the pool shrinks; a pool with none left says so.
            self._top_up()

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
        ticket = _Ticket()
        died = False
        while True:
            try:
                worker = await self._acquire(deadline, timeout)
            except BaseException:
                self._forget(ticket)  # a job sent back, given a slot again
                raise
            worker.ticket, ticket.worker = ticket, worker
            worker.job_started = anyio.current_time()
            worker.long = ticket in self._long  # sent back before: it has its slot again
            try:
                with anyio.fail_after(_remaining(deadline)):
                    await worker.send(JOB, payload)
                kind, body = await worker.receive_before(deadline)
                held = await self._hold(worker, deadline) if kind == FORMAT else []
            except _SentBack:
                self._retire(worker)
                await self._wait_for_slot(ticket, deadline, timeout)
                continue
            except TimeoutError:
                self._retire(worker)
                raise WorkerError("timeout", "the query ran past its deadline", timeout) from None
            except _WorkerGone:
                self._retire(worker)
                if not died:
                    died = True
                    continue  # died before taking the job (killed while idle): try another
                raise WorkerError("unavailable", "the query worker died") from None
            except BaseException:
                self._retire(worker)  # cancelled: the job may be running
                raise
            ticket.answering = True
            if kind != FORMAT:
                self._refuse(worker, kind, body)
            ended = held.pop() if held and held[-1][0] != DATA else None
            if ended is not None and ended[0] != END:
                self._refuse(worker, *ended)
            if ended is not None:  # the whole answer is held: the worker is free already
                self._release(worker)
            output = _Output(self, None if ended else worker, deadline, timeout, self._errors)
            output.held.extend(data for _, data in held)
            return body.decode(), output

    def _refuse(self, worker: _Worker, kind: bytes, body: bytes) -> NoReturn:
        """A frame in place of an answer: the query's error or the store's failure (the
        worker is free again), or one out of turn (the worker is replaced)."""
        if kind in (ERROR, FAILURE):
            self._release(worker)
            reason: Reason = "query" if kind == ERROR else "unavailable"
            raise WorkerError(reason, body.decode(errors="replace"))
        self._retire(worker)
        raise WorkerError("unavailable", f"the query worker sent {kind!r} out of turn")

    async def _hold(self, worker: _Worker, deadline: float) -> list[tuple[bytes, bytes]]:
        """After the format frame, the frames that follow while the job may still be sent
        back: until it ends or fails (that frame last), sends HOLD_BYTES, or is long and has
        a slot. Raises what ``receive_before`` raises (``_SentBack`` among them)."""
        held: list[tuple[bytes, bytes]] = []
        size = 0
        while size < HOLD_BYTES and not worker.long:
            kind, body = await worker.receive_before(deadline)
            held.append((kind, body))
            if kind != DATA:
                break
            size += len(body)
        return held

    async def _wait_for_slot(self, ticket: _Ticket, deadline: float, timeout: float | None) -> None:
        """Wait, without a worker, until the schedule gives a job sent back a slot."""
        try:
            with anyio.fail_after(_remaining(deadline)):
                await ticket.given_slot.wait()
        except TimeoutError:
            self._forget(ticket)
            raise WorkerError("timeout", "the query ran past its deadline", timeout) from None
        except BaseException:
            self._forget(ticket)
            raise

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

        zygote, self._zygote = self._zygote, None

        def reap() -> None:
            for worker in workers:
                worker.process.wait()
            if zygote is not None:
                zygote.close()

        await anyio.to_thread.run_sync(reap)


class _Output:
    """A worker's answer as an async iterator of chunks.

    A class rather than an async generator: ``aclose()`` must kill the worker even when
    iteration never started (a generator's ``finally`` would not run then).
    """

    def __init__(
        self,
        pool: QueryWorkerPool,
        worker: _Worker | None,
        deadline: float,
        timeout: float | None,
        errors: Callable[[WorkerError], Exception],
    ) -> None:
        self._pool = pool
        self._worker: _Worker | None = worker
        self.held: collections.deque[bytes] = collections.deque()  # chunks to give first
        self._deadline = deadline
        self._timeout = timeout
        self._errors = errors

    def __aiter__(self) -> _Output:
        return self

    async def __anext__(self) -> bytes:
        if self.held:
            return self.held.popleft()
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
