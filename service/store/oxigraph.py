"""The embedded store: pyoxigraph on disk (RocksDB) or in memory (see ``OxigraphStore``)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import (
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from pathlib import Path

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import pyoxigraph as ox

from service.store.base import (
    BytesProgress,
    DataError,
    QueryError,
    QueryResult,
    QueryTimeout,
    RdfData,
    ResultStream,
    Solutions,
    StoreError,
    StoreUnavailable,
    Term,
)
from service.store.common import (
    ChunkWriter,
    ProgressReader,
    bare_media_type,
    checked_iri,
    count_query,
    declares_dataset,
    parse_triples,
    record_change,
    replace_update,
    set_state,
    solutions_of,
    stored_ntriples,
    threaded_stream,
    to_ntriples,
    values_clause,
    within_timeout,
)
from service.store.state import Change, StateDB
from service.store.worker_pool import QueryWorkerPool, WorkerError, default_size

log = logging.getLogger("meent")
#: Seconds between attempts to reopen a store whose writes failed, and what clients are told.
REOPEN_INTERVAL = 5.0
#: Seconds between flushes of the memtable done for the query workers (see query_stream).
#: Every flush writes new table files whose blocks the next reads pull into RocksDB's block
#: caches, where the blocks of files compacted away linger until evicted: under a stream of
#: contributions, flushing every second grew the server by ~1 MB/s (the soak test: 61 MB in
#: a minute), every 10 s by a third of that, while lookups waited ~6 ms longer at p50 for the
#: workers to replay the longer log.
FLUSH_INTERVAL = 10.0
WRITE_RETRY_AFTER = 60
#: Seconds a reopen waits for the reads in progress to finish.
REOPEN_WAIT = 10.0

# --- embedded ----------------------------------------------------------------------------------


class OxigraphStore:
    """Embedded pyoxigraph: on disk at ``path`` (RocksDB), or in memory when ``path`` is None.

    Atomicity: pyoxigraph runs each ``Store.update`` call in one transaction, and readers work
    on snapshots, so ``replace_graph`` is a single update (drop, insert) — readers
    see the old graph or the new one. Writes are serialised by a lock so two replacements of
    the same graph never conflict.

    Public queries on disk run in ``query_workers`` processes (``service.store.worker_pool``)
    that open the store read-only, so that one past its timeout can be killed. Each write
    bumps a generation; the next pooled query flushes the writer's memtable first and the
    workers re-open their store, so they see every write that finished before the query.

    A full or read-only disk: the write fails with ``StoreUnavailable`` (503) and changes
    nothing (RocksDB writes its log before anything else); reads go on. RocksDB then refuses
    every later write until the database is reopened, so the next write (at most every
    ``REOPEN_INTERVAL`` s) first waits for the reads in progress, closes the database and
    opens it again — read-only if it cannot be opened for writing, so that reads still go on.
    Once the disk has room again (or is writable), writes work again without a restart.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        state: StateDB | None = None,
        query_workers: int | None = None,
        long_queries: int | None = None,
    ) -> None:
        try:
            self._store = ox.Store(str(path)) if path is not None else ox.Store()
        except OSError as error:
            # RocksDB allows one process per directory: say so rather than "LOCK: No locks".
            hint = (
                " Is another Meent process (meent serve) using it? Stop it, or point --store "
                "at another directory."
                if "lock" in str(error).lower()
                else ""
            )
            raise StoreError(f"cannot open the store at {path}: {error}.{hint}") from None
        self._path = path
        self._state = state or StateDB(None)
        self._write_lock = anyio.Lock()
        # Threads using self._store, and whether it is being reopened (see _reopen).
        self._gate = threading.Condition()
        self._users = 0
        self._swapping = False
        self._write_failure: str | None = None  # why the last write failed, until one works
        self._next_reopen = 0.0
        self._pool = None
        if path is not None:
            self._pool = QueryWorkerPool(
                path, query_workers or default_size(), _pool_error, long_slots=long_queries
            )
        self._generation = 0  # bumped by every write; the workers' stores follow it
        self._flush_lock = anyio.Lock()
        self._last_flush = 0.0

    @property
    def query_worker_pids(self) -> list[int]:
        """The processes public queries run in (none in memory, or before the first)."""
        return self._pool.pids if self._pool is not None else []

    @property
    def queries_sent_back(self) -> int:
        """Long queries sent back to wait for a slot so far (``service.store.worker_pool``)."""
        return self._pool.sent_back if self._pool is not None else 0

    def _dataset_options(
        self, sparql: str, default_graph_uris: Sequence[str], named_graph_uris: Sequence[str]
    ) -> dict[str, object]:
        # SPARQL 1.1 Protocol §2.1.4: a protocol dataset replaces the default one entirely.
        if default_graph_uris or named_graph_uris:
            return {
                "default_graph": [checked_iri(iri) for iri in default_graph_uris],
                "named_graphs": [checked_iri(iri) for iri in named_graph_uris],
            }
        # pyoxigraph's union flag would also override a FROM/FROM NAMED in the query, which
        # SPARQL 1.1 Query §13.2 says defines the dataset; so only union when there is none.
        return {"use_default_graph_as_union": not declares_dataset(sparql)}

    def _run_query(
        self,
        sparql: str,
        default_graph_uris: Sequence[str],
        named_graph_uris: Sequence[str],
        substitutions: Mapping[str, Term] | None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        options = self._dataset_options(sparql, default_graph_uris, named_graph_uris)
        if substitutions:
            # Not pyoxigraph's own substitutions: those (SEP-0007) need the variable in the
            # SELECT projection, and a server cannot do them; a VALUES clause means the same
            # on both stores.
            sparql += values_clause(substitutions)
        try:
            return self._store.query(sparql, **options)  # type: ignore[arg-type]
        except (SyntaxError, OSError, ValueError, RuntimeError) as error:
            raise QueryError(str(error)) from error

    @contextlib.contextmanager
    def _using(self) -> Iterator[None]:
        """Mark a thread's use of ``self._store``, so that a reopen waits for it. Code inside
        reads ``self._store`` each time and never keeps the object (a leftover reference,
        even in a traceback, would keep the database and its lock open)."""
        with self._gate:
            while self._swapping:
                self._gate.wait()
            if self._store is None:
                raise StoreUnavailable(
                    "The store cannot be opened right now.",
                    cause=self._write_failure or "closed",
                    retry_after=WRITE_RETRY_AFTER,
                )
            self._users += 1
        try:
            yield
        finally:
            with self._gate:
                self._users -= 1
                self._gate.notify_all()

    async def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryResult:
        def run() -> QueryResult:
            with self._using():
                result = self._run_query(
                    sparql, default_graph_uris, named_graph_uris, substitutions
                )
                try:
                    if isinstance(result, ox.QueryBoolean):
                        return bool(result)
                    if isinstance(result, ox.QueryTriples):
                        return list(result)
                    return solutions_of(result)
                except (OSError, RuntimeError) as error:  # evaluation errors surface here
                    raise QueryError(str(error)) from None
                finally:
                    # pyoxigraph's iterators must be dropped on the thread that made them; a
                    # traceback keeping this frame alive would drop it later, elsewhere.
                    del result

        return await anyio.to_thread.run_sync(run)

    async def query_stream(
        self,
        sparql: str,
        *,
        results_format: ox.QueryResultsFormat,
        graph_format: ox.RdfFormat,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        substitutions: Mapping[str, Term] | None = None,
        timeout: float | None = None,
    ) -> ResultStream:
        """On disk and with a ``timeout``, the query runs in a worker process that is killed
        at the deadline, so the work really stops. Otherwise it runs in a thread of this
        process: an in-memory store (tests, ``--store memory``) stops *waiting* at the
        deadline, but pyoxigraph cannot cancel the evaluation, which runs on to its end."""
        if self._pool is not None and timeout is not None:
            return await self._pooled_stream(
                sparql,
                results_format,
                graph_format,
                default_graph_uris,
                named_graph_uris,
                substitutions,
                timeout,
            )

        def produce(out: ChunkWriter) -> None:
            with self._using():
                result = self._run_query(
                    sparql, default_graph_uris, named_graph_uris, substitutions
                )
                try:
                    if isinstance(result, ox.QueryTriples):
                        out.announce(graph_format)
                        ox.serialize(result, out, graph_format)
                    else:
                        out.announce(results_format)
                        result.serialize(out, results_format)
                finally:
                    del result  # on this thread: see query()

        return await within_timeout(timeout, threaded_stream(produce))

    async def _pooled_stream(
        self,
        sparql: str,
        results_format: ox.QueryResultsFormat,
        graph_format: ox.RdfFormat,
        default_graph_uris: Sequence[str],
        named_graph_uris: Sequence[str],
        substitutions: Mapping[str, Term] | None,
        timeout: float,
    ) -> ResultStream:
        assert self._pool is not None
        options = self._dataset_options(sparql, default_graph_uris, named_graph_uris)
        job = {
            "query": sparql + (values_clause(substitutions) if substitutions else ""),
            # pyoxigraph's keyword arguments, graphs as IRI strings
            "options": {
                key: [iri.value for iri in value] if isinstance(value, list) else value
                for key, value in options.items()
            },
            "results_format": results_format.media_type,
            "graph_format": graph_format.media_type,
        }
        generation = self._generation
        if self._pool.generation != generation:
            # A read-only open replays the write-ahead log, slowly when it is long; after a
            # flush it reads the new table files instead. On a full or read-only disk the
            # flush fails, and the workers replay the log: slower, but the query is answered.
            # At most one flush a FLUSH_INTERVAL: each writes a table file per index, and
            # flushing after every contribution cost CPU and memory (see FLUSH_INTERVAL); in
            # between, the workers replay the log written since the last flush.
            async with self._flush_lock:
                if self._pool.generation != generation:
                    if time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
                        await anyio.to_thread.run_sync(self._flush_if_possible)
                        self._last_flush = time.monotonic()
                    self._pool.generation = max(self._pool.generation, generation)
        media_type, chunks = await self._pool.run(job, timeout=timeout)
        is_results = bare_media_type(media_type) == bare_media_type(results_format.media_type)
        fmt = results_format if is_results else graph_format
        return ResultStream(fmt, chunks)

    async def graph_iris(self) -> set[str]:
        def run() -> set[str]:
            with self._using():
                return {
                    graph.value
                    for graph in self._store.named_graphs()
                    if isinstance(graph, ox.NamedNode)
                }

        return await anyio.to_thread.run_sync(run)

    async def triple_count(self, graph_iri: str | None = None) -> int:
        result = await self.query(count_query(graph_iri))
        assert isinstance(result, Solutions)
        return int(result.rows[0]["n"].value)

    def _content_quads(self) -> Iterator[ox.Quad]:
        """Every quad of the content graphs, read in one iteration (so one snapshot: a write
        meanwhile is either all in or all out). Call it inside ``_using``."""
        for quad in self._store.quads_for_pattern(None, None, None, None):
            if isinstance(quad.graph_name, ox.NamedNode):
                yield quad

    async def quads(self) -> list[ox.Quad]:
        # Read straight from the store: a SELECT would build a solution for each quad first,
        # twice the time and the memory at a million quads (20 s and 1.2 GB against 8.5 s).
        def run() -> list[ox.Quad]:
            with self._using():
                return list(self._content_quads())

        return await anyio.to_thread.run_sync(run)

    async def write_quads(self, path: Path) -> None:
        def run() -> None:
            with self._using():
                ox.serialize(self._content_quads(), path, ox.RdfFormat.N_QUADS)

        await anyio.to_thread.run_sync(run)

    async def replace_graph(
        self,
        graph_iri: str,
        data: RdfData,
        *,
        format: ox.RdfFormat = ox.RdfFormat.TURTLE,
        base_iri: str | None = None,
        metadata: Mapping[str, str | None] | None = None,
    ) -> int:
        def run() -> tuple[int, bytes]:
            triples = parse_triples(data, format, base_iri)
            body = to_ntriples(triples)
            self._write(lambda: self._store.update(replace_update(graph_iri, body)))
            return len(triples), stored_ntriples(triples)

        async with self._write_lock:
            await self._ready_to_write()
            try:
                written, body = await anyio.to_thread.run_sync(run)
            finally:
                self._generation += 1
            await record_change(self._state, metadata, graph_iri, body)
            return written

    async def drop_graph(
        self, graph_iri: str, *, metadata: Mapping[str, str | None] | None = None
    ) -> None:
        async with self._write_lock:
            await self._ready_to_write()
            await self._update(f"DROP SILENT GRAPH {checked_iri(graph_iri)}")
            await record_change(self._state, metadata, graph_iri, None)

    async def bulk_load(
        self,
        path: Path,
        *,
        format: ox.RdfFormat | None = None,
        graph_iri: str | None = None,
        progress: BytesProgress | None = None,
    ) -> None:
        """pyoxigraph's bulk loader: parallel parsing, no transaction (so no rollback)."""
        rdf_format = format or ox.RdfFormat.from_extension(path.suffix.lstrip("."))
        if rdf_format is None:
            raise DataError(f"unknown RDF format for {path.name}")
        to_graph = checked_iri(graph_iri) if graph_iri else None

        def load() -> None:
            if progress is None:
                self._store.bulk_load(path=path, format=rdf_format, to_graph=to_graph)
                return
            total = path.stat().st_size
            with path.open("rb") as file:
                reader = ProgressReader(file, total, progress)
                self._store.bulk_load(reader, rdf_format, to_graph=to_graph)

        def run() -> None:
            try:
                self._write(load)
            except (SyntaxError, ValueError) as error:
                raise DataError(f"{path.name}: {error}") from error

        async with self._write_lock:
            await self._ready_to_write()
            try:
                await anyio.to_thread.run_sync(run)
            finally:
                self._generation += 1  # also after a failure: part of the file may be in

    @property
    def writes(self) -> int:
        return self._generation + self._state.writes

    async def metadata(self) -> dict[str, str]:
        return await anyio.to_thread.run_sync(self._state.metadata)

    async def set_metadata(self, values: Mapping[str, str | None]) -> None:
        async with self._write_lock:
            await set_state(self._state, values)

    async def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        return await anyio.to_thread.run_sync(self._state.changes, after, limit)

    async def last_change(self) -> Change | None:
        return await anyio.to_thread.run_sync(self._state.last_change)

    async def _update(self, update: str) -> None:
        # A closure, not the bound method: an idle worker thread keeps a reference to the last
        # callable it ran, and a bound method would keep the database (and its lock) open.
        try:
            await anyio.to_thread.run_sync(lambda: self._write(lambda: self._store.update(update)))
        finally:
            self._generation += 1

    # --- writes on a disk that cannot take them -------------------------------------------

    def _write(self, write: Callable[[], object]) -> None:
        """Run a write on this thread, then make it durable; a storage error (pyoxigraph's
        OSError: disk full, read-only, I/O) becomes StoreUnavailable and is remembered until
        a write works.

        Durable: RocksDB appends a write to its log without syncing it, so the write
        survives the process being killed but not the machine stopping or the disk failing
        before the system writes its cache back (seen: ext4 turned read-only after an error,
        and a write pyoxigraph had finished was gone after a remount). The private state is
        synced (SQLite ``synchronous=FULL``) and written after the graph, so the graph must
        be on disk first: ``_sync_log`` fsyncs the log (~5 ms; a flush, ~35 ms here, writes
        a table file per index and would do as well).
        """
        with self._using():
            try:
                write()
            except OSError as error:
                self._write_failure = str(error)
                raise _unwritable(error) from None
            if self._path is None:
                return
            try:
                self._sync_log(self._path)
            except OSError as error:
                # The write is made (readers see it, the log replays it at the next open),
                # only perhaps not on disk yet: not a failure to report; the next write
                # reopens the store, which tells whether the disk takes writes again.
                self._write_failure = str(error)
                log.warning("a write may not be on disk yet: %s", error)
                return
        self._write_failure = None

    def _sync_log(self, path: Path) -> None:
        """fsync RocksDB's current write-ahead log (the newest ``NNNNNN.log`` in the store's
        directory; older ones belong to memtables that a flush has already synced to table
        files) and the directory, which names it. Without a log file, flush instead."""
        logs = [f for f in path.glob("*.log") if f.stem.isdigit()]
        if not logs:
            self._store.flush()
            return
        for target in (max(logs, key=lambda f: int(f.stem)), path):
            fd = os.open(target, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    async def _ready_to_write(self) -> None:
        """Before a write (under the write lock): after a failed write, reopen the database
        first — at most every REOPEN_INTERVAL s; in between, fail at once."""
        if self._write_failure is None or self._path is None:
            return
        if time.monotonic() < self._next_reopen:
            raise _unwritable(OSError(self._write_failure))
        self._next_reopen = time.monotonic() + REOPEN_INTERVAL
        await anyio.to_thread.run_sync(self._reopen)
        self._generation += 1

    def _reopen(self) -> None:
        """Close the database and open it again (RocksDB keeps refusing writes after a failed
        one until then). Waits up to REOPEN_WAIT s for the threads using it; falls back to a
        read-only open so that reads go on while the disk still refuses writes."""
        assert self._path is not None
        with self._gate:
            self._swapping = True
            try:
                deadline = time.monotonic() + REOPEN_WAIT
                while self._users:
                    if not self._gate.wait(max(0.0, deadline - time.monotonic())):
                        raise _unwritable(OSError(self._write_failure or "store busy"))
                self._store = None  # the last reference: RocksDB closes and frees its lock
                try:
                    self._store = ox.Store(str(self._path))
                except OSError as error:
                    self._write_failure = str(error)
                    with contextlib.suppress(OSError):
                        self._store = ox.Store.read_only(str(self._path))
                    log.warning("store reopened read-only: %s", error)
                    raise _unwritable(error) from None
                log.info("store reopened for writing after: %s", self._write_failure)
                self._write_failure = None
            finally:
                self._swapping = False
                self._gate.notify_all()

    def _flush_if_possible(self) -> None:
        with self._using():
            try:
                self._store.flush()
            except OSError as error:
                self._write_failure = str(error)
                log.warning("store flush failed (reads go on): %s", error)
            except RuntimeError:  # reopened read-only after a failure: nothing to flush
                pass

    async def close(self) -> None:
        """Stop the query workers, flush and release the database (its directory lock goes
        with the last reference). A flush that fails (full disk) loses nothing: the
        write-ahead log holds every write and is replayed at the next open."""
        if self._pool is not None:
            await self._pool.close()
        async with self._write_lock:
            if self._store is not None:
                await anyio.to_thread.run_sync(self._flush_if_possible)
            self._store = None
            self._state.close()


def _unwritable(error: OSError) -> StoreUnavailable:
    """What a client is told when the store cannot write (the details go to the log)."""
    text = str(error)
    if "No space" in text:
        why = "its disk is full"
    elif "Read-only" in text or "read-only" in text or "Permission denied" in text:
        why = "its disk is read-only"
    else:
        why = "its disk refuses writes"
    return StoreUnavailable(
        f"The store cannot be written right now ({why}); reading still works.",
        cause=text,
        retry_after=WRITE_RETRY_AFTER,
    )


def _pool_error(error: WorkerError) -> StoreError:
    """The store's exception for a query worker pool's."""
    if error.reason == "query":
        return QueryError(str(error))
    if error.reason == "timeout" and error.timeout is not None:
        return QueryTimeout(error.timeout)
    return StoreError(f"the query service is unavailable: {error}")
