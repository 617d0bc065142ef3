"""The store: one interface, two implementations (DESIGN §1).

``Store`` is what the rest of the service sees. ``OxigraphStore`` is embedded pyoxigraph, on disk
or in memory; ``RemoteSparqlStore`` talks to any SPARQL 1.1 server (Oxigraph server, Apache Jena
Fuseki, Virtuoso, GraphDB) through the SPARQL 1.1 Protocol, Update and Graph Store Protocol.
Nothing outside this module knows which one is in use: ``open_store(settings)`` picks.

Both hold the same things in the same way:

- Content lives in named graphs (DESIGN §2). Queries without a dataset see the *union* of the
  graphs as their default graph: ``use_default_graph_as_union`` for pyoxigraph; for a server,
  its own setting (``oxigraph serve --union-default-graph``; Fuseki TDB2
  ``tdb2:unionDefaultGraph true``; GraphDB and Virtuoso do this by default).
- Small key → value metadata (e.g. the content hashes of the loaded files) live in the
  service's private state (``service.state``, SQLite beside the store), never in a named
  graph: every named graph is part of the public union. A graph is written first and its
  metadata after it, so a crash in between only makes the next sync redo that graph.
- ``replace_graph`` is atomic: readers see the old graph or the new one, never a mix, and a
  failure leaves the old graph in place. See the implementations for how.
- There is no public ``update``: writes go through ``replace_graph``/``drop_graph``/
  ``bulk_load``, which build their SPARQL from parsed, re-serialised terms only.

Blocking work (pyoxigraph calls, parsing, serialising) runs in worker threads, never on the
event loop. Public queries (``query_stream`` with a ``timeout``) are bounded: past the deadline
they raise ``QueryTimeout`` or their stream stops. How far the work itself stops depends on
the store — see ``OxigraphStore.query_stream`` and ``RemoteSparqlStore.query_stream``.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, runtime_checkable
from urllib.parse import quote

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import httpx
import pyoxigraph as ox

from service.config import Settings
from service.query_workers import QueryWorkerPool, WorkerError, default_size
from service.state import Change, StateDB

#: An RDF term a query variable can be bound to.
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
#: Serialised RDF (bytes or text) or already parsed triples.
RdfData = bytes | str | Iterable[ox.Triple]
#: ``progress(done, total)``: bytes read so far of a bulk load, out of ``total``.
BytesProgress = Callable[[int, int], None]

#: Graphs a remote store uploads into before moving them in place; never content.
STAGING = "urn:meent:staging:"
CHUNK_SIZE = 64 * 1024
_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class StoreError(Exception):
    """The store failed or refused; the message is meant for people."""


class QueryError(StoreError):
    """The query is malformed or the store could not evaluate it (a client error)."""


class DataError(StoreError):
    """RDF given to the store does not parse."""


class QueryTimeout(StoreError):
    """A query ran past its deadline (before its first bytes; later, its stream stops)."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"the query ran longer than {timeout:g} s and was stopped")
        self.timeout = timeout


@dataclass(frozen=True)
class Solutions:
    """A materialised SELECT result: variable names and ``pyoxigraph.QuerySolution`` rows
    (index them by name: ``row["s"]``; unbound variables give None)."""

    variables: tuple[str, ...]
    rows: tuple[ox.QuerySolution, ...]

    def __iter__(self) -> Iterator[ox.QuerySolution]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


#: SELECT → Solutions, ASK → bool, CONSTRUCT/DESCRIBE → list of triples.
QueryResult = Solutions | bool | list[ox.Triple]


@dataclass
class ResultStream:
    """A query result serialised as it is produced, for streaming to an HTTP client.

    The caller offers one format for solutions (SELECT/ASK) and one for graphs
    (CONSTRUCT/DESCRIBE), chosen by content negotiation before the query runs; the store
    answers in the one that fits the query form. ``chunks`` must be consumed or closed.
    """

    format: ox.QueryResultsFormat | ox.RdfFormat
    chunks: AsyncIterator[bytes]

    @property
    def media_type(self) -> str:
        return self.format.media_type

    @property
    def is_graph(self) -> bool:
        return isinstance(self.format, ox.RdfFormat)

    async def read(self) -> bytes:
        """The whole body (for tests and small results)."""
        return b"".join([chunk async for chunk in self.chunks])

    async def aclose(self) -> None:
        closer = getattr(self.chunks, "aclose", None)
        if closer is not None:
            await closer()


@runtime_checkable
class Store(Protocol):
    """What the service needs from a triple store. All methods are safe on the event loop."""

    async def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryResult:
        """Run a query and materialise its result (for the service's own, bounded queries).

        ``default_graph_uris``/``named_graph_uris`` are the RDF dataset of SPARQL 1.1 Protocol
        §2.1.4: when either is given, the dataset is exactly those graphs; otherwise the
        default graph is the union of the named graphs. ``substitutions`` bind variables to
        IRIs or literals, as a trailing ``VALUES`` clause built from validated terms — never
        paste user input into the query text.
        """
        ...

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
        """Run a query and stream its serialisation; raises QueryError before the first byte
        when the query is malformed.

        With a ``timeout`` (seconds), QueryTimeout is raised when no bytes have come by then,
        and a stream that is still running then stops with QueryTimeout. This is the bound for
        public queries; ``query`` has none (the service's own queries are bounded by design).
        """
        ...

    async def graph_iris(self) -> set[str]:
        """The content graphs (the named graphs, without a remote store's staging graphs)."""
        ...

    async def triple_count(self, graph_iri: str | None = None) -> int:
        """Triples in one graph, or in all content graphs together."""
        ...

    async def replace_graph(
        self,
        graph_iri: str,
        data: RdfData,
        *,
        format: ox.RdfFormat = ox.RdfFormat.TURTLE,
        base_iri: str | None = None,
        metadata: Mapping[str, str | None] | None = None,
    ) -> int:
        """Atomically replace a graph's content, then set ``metadata``.
        Returns the number of triples written. Raises DataError if ``data`` does not parse
        (and then nothing changes)."""
        ...

    async def drop_graph(
        self, graph_iri: str, *, metadata: Mapping[str, str | None] | None = None
    ) -> None:
        """Remove a graph (no error if absent), then set ``metadata``."""
        ...

    async def bulk_load(
        self,
        path: Path,
        *,
        format: ox.RdfFormat | None = None,
        graph_iri: str | None = None,
        progress: BytesProgress | None = None,
    ) -> None:
        """Add a large file's triples (into ``graph_iri``) or quads as fast as the store can.
        Not atomic: a failure can leave part of the file loaded."""
        ...

    async def metadata(self) -> dict[str, str]:
        """All metadata entries."""
        ...

    async def set_metadata(self, values: Mapping[str, str | None]) -> None:
        """Set entries; None deletes one."""
        ...

    async def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        """The change log: every graph written or dropped through this store, oldest first,
        after sequence number ``after`` (bulk loads are not in it)."""
        ...

    async def last_change(self) -> Change | None:
        """The newest entry of the change log (without its content)."""
        ...

    async def close(self) -> None: ...


def open_store(settings: Settings) -> Store:
    """The store the settings describe: a remote server if ``remote`` is set, else embedded."""
    endpoints = settings.remote_endpoints
    if endpoints is not None:
        return RemoteSparqlStore(
            endpoints.query,
            endpoints.update,
            endpoints.gsp,
            state=StateDB(settings.state_path),
            timeout=settings.remote_timeout,
        )
    path = settings.store_path
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
    return OxigraphStore(
        path, state=StateDB(settings.state_path), query_workers=settings.query_workers
    )


# --- helpers shared by both stores -------------------------------------------------------------


def _iri(value: str) -> ox.NamedNode:
    """A validated IRI; its ``str()`` is a safe SPARQL IRIREF."""
    try:
        return ox.NamedNode(value)
    except ValueError as error:
        raise StoreError(f"not a valid IRI: {value!r} ({error})") from error


async def _set_state(state: StateDB, values: Mapping[str, str | None] | None) -> None:
    if values:
        await anyio.to_thread.run_sync(state.set_metadata, values)


async def _record(
    state: StateDB,
    values: Mapping[str, str | None] | None,
    graph_iri: str,
    ntriples: bytes | None,
) -> None:
    """After a graph was written (or, with ``ntriples`` None, dropped): its metadata and its
    entry in the change log (the ``/ldes`` feed), in one state transaction."""

    def commit() -> None:
        state.commit(values, graph=graph_iri, ntriples=ntriples, deleted=ntriples is None)

    await anyio.to_thread.run_sync(commit)


def _parse_triples(data: RdfData, format: ox.RdfFormat, base_iri: str | None) -> list[ox.Triple]:
    """Parse serialised RDF into triples, or pass parsed triples through."""
    if not isinstance(data, bytes | str):
        return list(data)
    if format.supports_datasets:
        raise DataError(f"{format.name} holds a dataset; a graph needs triples")
    try:
        return [
            quad.triple
            for quad in ox.parse(data, format, base_iri=base_iri, without_named_graphs=True)
        ]
    except (SyntaxError, ValueError) as error:
        raise DataError(str(error)) from error


def _replace_update(graph_iri: str, ntriples: bytes) -> str:
    """One SPARQL Update request that replaces a graph with ``ntriples``.

    SPARQL 1.1 Update §2.2: "Each request SHOULD be treated atomically by a SPARQL 1.1 Update
    service" — all its operations take effect together or not at all. The data are parsed
    and re-serialised as N-Triples (a subset of the SPARQL triple syntax) first, so nothing
    unparsed reaches the update text.
    """
    graph = _iri(graph_iri)
    operations = [f"DROP SILENT GRAPH {graph}"]
    if ntriples:
        operations.append(f"INSERT DATA {{ GRAPH {graph} {{\n{ntriples.decode()}}} }}")
    return " ;\n".join(operations)


def _ntriples(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) if triples else b""


def _count_query(graph_iri: str | None) -> str:
    """Counts one graph's triples, or those of all content graphs (not staging ones)."""
    if graph_iri is not None:
        return f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {_iri(graph_iri)} {{ ?s ?p ?o }} }}"
    return (
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f"FILTER(!STRSTARTS(STR(?g), {ox.Literal(STAGING)})) }}"
    )


def _values_clause(substitutions: Mapping[str, Term]) -> str:
    """A trailing VALUES clause (SPARQL 1.1 Query §10.2.2) binding variables to terms.

    How both stores bind ``substitutions``: terms are written in their N-Triples form, which
    pyoxigraph has validated, so user input never becomes SPARQL syntax. The query must not
    have a trailing VALUES clause of its own. VALUES cannot hold blank nodes (§19.8, DataBlock).
    """
    names = []
    values = []
    for name, term in substitutions.items():
        if not _VARNAME.match(name):
            raise QueryError(f"not a variable name: {name!r}")
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise QueryError("only IRIs and literals can be bound to variables")
        names.append(f"?{name}")
        values.append(str(term))
    return f"\nVALUES ({' '.join(names)}) {{ ({' '.join(values)}) }}"


ResultFormat = ox.QueryResultsFormat | ox.RdfFormat


class _ChunkWriter:
    """A binary file-like object that hands ~64 KiB chunks to ``emit`` (from a thread)."""

    def __init__(self, emit: Callable[[ResultFormat | bytes | Exception], None]) -> None:
        self._emit = emit
        self._buffer = bytearray()

    def announce(self, format: ResultFormat) -> None:
        """Say which format follows; must come before the first write."""
        self._emit(format)

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK_SIZE:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self._emit(chunk)


async def _threaded_stream(produce: Callable[[_ChunkWriter], None]) -> ResultStream:
    """Run ``produce`` in its own thread; it announces a format, then writes the result.

    One thread does both evaluation and serialisation because pyoxigraph's result iterators
    must stay on the thread that made them. Returns once the format is known (or raises the
    query's error); the chunks follow through a small buffer, so a slow client slows the
    serialiser and memory stays flat, and when the consumer stops, the next write fails and
    the serialiser gives up. A plain thread rather than one of anyio's workers: a long result
    must not hold a pool token other requests need.
    """
    send, receive = anyio.create_memory_object_stream[ResultFormat | bytes | Exception](4)
    token = anyio.lowlevel.current_token()

    def emit(item: ResultFormat | bytes | Exception) -> None:
        anyio.from_thread.run(send.send, item, token=token)

    def run() -> None:
        try:
            writer = _ChunkWriter(emit)
            produce(writer)
            writer.flush()
        except Exception as error:  # handed to the consumer, who raises it
            try:
                emit(error if isinstance(error, StoreError) else QueryError(str(error)))
            except Exception:  # the consumer has gone; nobody to tell
                return
        finally:
            with contextlib.suppress(Exception):  # the event loop may be gone already
                anyio.from_thread.run_sync(send.close, token=token)

    threading.Thread(target=run, name="meent-query", daemon=True).start()
    try:
        first = await receive.receive()
    except anyio.EndOfStream:
        receive.close()
        raise StoreError("the query produced no result") from None
    except BaseException:
        receive.close()  # tells the producer to stop
        raise
    if isinstance(first, Exception):
        receive.close()
        raise first
    assert isinstance(first, ox.QueryResultsFormat | ox.RdfFormat)
    return ResultStream(first, _receive_chunks(receive))


async def _receive_chunks(
    receive: anyio.abc.ObjectReceiveStream[ResultFormat | bytes | Exception],
) -> AsyncIterator[bytes]:
    async with receive:
        async for item in receive:
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, bytes)
            yield item


async def _within(timeout: float | None, start: Awaitable[ResultStream]) -> ResultStream:
    """``start``'s stream, bounded by ``timeout``: QueryTimeout if it has not started by then,
    and its chunks stop with QueryTimeout at the deadline. Only the waiting stops: work that
    cannot be cancelled (a pyoxigraph evaluation in a thread) runs on to its end."""
    if timeout is None:
        return await start
    deadline = anyio.current_time() + timeout
    with anyio.move_on_after(timeout):
        stream = await start
        return ResultStream(stream.format, _Until(stream, deadline, timeout))
    raise QueryTimeout(timeout)


class _Until:
    """A stream's chunks until a deadline, then QueryTimeout. A class rather than an async
    generator so that ``aclose()`` closes the stream even when iteration never started."""

    def __init__(self, stream: ResultStream, deadline: float, timeout: float) -> None:
        self._stream = stream
        self._deadline = deadline
        self._timeout = timeout

    def __aiter__(self) -> _Until:
        return self

    async def __anext__(self) -> bytes:
        with anyio.move_on_after(max(0.0, self._deadline - anyio.current_time())):
            return await anext(self._stream.chunks)
        await self.aclose()
        raise QueryTimeout(self._timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()


class _ProgressReader:
    """Wraps a binary file and reports how many bytes were read."""

    def __init__(self, file: IO[bytes], total: int, progress: BytesProgress) -> None:
        self._file = file
        self._total = total
        self._progress = progress
        self._done = 0

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._done += len(data)
        self._progress(self._done, self._total)
        return data

    def readable(self) -> bool:
        return True


def _solutions(result: ox.QuerySolutions) -> Solutions:
    return Solutions(tuple(v.value for v in result.variables), tuple(result))


# --- embedded ----------------------------------------------------------------------------------


class OxigraphStore:
    """Embedded pyoxigraph: on disk at ``path`` (RocksDB), or in memory when ``path`` is None.

    Atomicity: pyoxigraph runs each ``Store.update`` call in one transaction, and readers work
    on snapshots, so ``replace_graph`` is a single update (drop, insert) — readers
    see the old graph or the new one. Writes are serialised by a lock so two replacements of
    the same graph never conflict.

    Public queries on disk run in ``query_workers`` processes (``service.query_workers``)
    that open the store read-only, so that one past its timeout can be killed. Each write
    bumps a generation; the next pooled query flushes the writer's memtable first and the
    workers re-open their store, so they see every write that finished before the query.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        state: StateDB | None = None,
        query_workers: int | None = None,
    ) -> None:
        try:
            self._store = ox.Store(str(path)) if path is not None else ox.Store()
        except OSError as error:
            # RocksDB allows one process per directory: say so rather than "LOCK: No locks".
            raise StoreError(
                f"cannot open the store at {path}: {error}. Is another Meent process "
                "(meent serve) using it? Stop it, or point --store at another directory."
            ) from None
        self._state = state or StateDB(None)
        self._write_lock = anyio.Lock()
        self._pool = None
        if path is not None:
            self._pool = QueryWorkerPool(path, query_workers or default_size(), _pool_error)
        self._generation = 0  # bumped by every write; the workers' stores follow it

    @property
    def query_worker_pids(self) -> list[int]:
        """The processes public queries run in (none in memory, or before the first)."""
        return self._pool.pids if self._pool is not None else []

    def _dataset_options(
        self, sparql: str, default_graph_uris: Sequence[str], named_graph_uris: Sequence[str]
    ) -> dict[str, object]:
        # SPARQL 1.1 Protocol §2.1.4: a protocol dataset replaces the default one entirely.
        if default_graph_uris or named_graph_uris:
            return {
                "default_graph": [_iri(iri) for iri in default_graph_uris],
                "named_graphs": [_iri(iri) for iri in named_graph_uris],
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
            sparql += _values_clause(substitutions)
        try:
            return self._store.query(sparql, **options)  # type: ignore[arg-type]
        except (SyntaxError, OSError, ValueError, RuntimeError) as error:
            raise QueryError(str(error)) from error

    async def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryResult:
        def run() -> QueryResult:
            result = self._run_query(sparql, default_graph_uris, named_graph_uris, substitutions)
            try:
                if isinstance(result, ox.QueryBoolean):
                    return bool(result)
                if isinstance(result, ox.QueryTriples):
                    return list(result)
                return _solutions(result)
            except (OSError, RuntimeError) as error:  # evaluation errors surface while iterating
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

        def produce(out: _ChunkWriter) -> None:
            result = self._run_query(sparql, default_graph_uris, named_graph_uris, substitutions)
            try:
                if isinstance(result, ox.QueryTriples):
                    out.announce(graph_format)
                    ox.serialize(result, out, graph_format)
                else:
                    out.announce(results_format)
                    result.serialize(out, results_format)
            finally:
                del result  # on this thread: see query()

        return await _within(timeout, _threaded_stream(produce))

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
            "query": sparql + (_values_clause(substitutions) if substitutions else ""),
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
            # flush it reads the new table files instead.
            await anyio.to_thread.run_sync(lambda: self._store.flush())
            self._pool.generation = max(self._pool.generation, generation)
        media_type, chunks = await self._pool.run(job, timeout=timeout)
        is_results = _bare(media_type) == _bare(results_format.media_type)
        fmt = results_format if is_results else graph_format
        return ResultStream(fmt, chunks)

    async def graph_iris(self) -> set[str]:
        def run() -> set[str]:
            return {
                graph.value
                for graph in self._store.named_graphs()
                if isinstance(graph, ox.NamedNode)
            }

        return await anyio.to_thread.run_sync(run)

    async def triple_count(self, graph_iri: str | None = None) -> int:
        result = await self.query(_count_query(graph_iri))
        assert isinstance(result, Solutions)
        return int(result.rows[0]["n"].value)

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
            triples = _parse_triples(data, format, base_iri)
            body = _ntriples(triples)
            self._store.update(_replace_update(graph_iri, body))
            return len(triples), body

        async with self._write_lock:
            try:
                written, body = await anyio.to_thread.run_sync(run)
            finally:
                self._generation += 1
            await _record(self._state, metadata, graph_iri, body)
            return written

    async def drop_graph(
        self, graph_iri: str, *, metadata: Mapping[str, str | None] | None = None
    ) -> None:
        async with self._write_lock:
            await self._update(f"DROP SILENT GRAPH {_iri(graph_iri)}")
            await _record(self._state, metadata, graph_iri, None)

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
        to_graph = _iri(graph_iri) if graph_iri else None

        def run() -> None:
            try:
                if progress is None:
                    self._store.bulk_load(path=path, format=rdf_format, to_graph=to_graph)
                    return
                total = path.stat().st_size
                with path.open("rb") as file:
                    reader = _ProgressReader(file, total, progress)
                    self._store.bulk_load(reader, rdf_format, to_graph=to_graph)
            except (SyntaxError, ValueError) as error:
                raise DataError(f"{path.name}: {error}") from error

        async with self._write_lock:
            try:
                await anyio.to_thread.run_sync(run)
            finally:
                self._generation += 1  # also after a failure: part of the file may be in

    async def metadata(self) -> dict[str, str]:
        return await anyio.to_thread.run_sync(self._state.metadata)

    async def set_metadata(self, values: Mapping[str, str | None]) -> None:
        async with self._write_lock:
            await _set_state(self._state, values)

    async def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        return await anyio.to_thread.run_sync(self._state.changes, after, limit)

    async def last_change(self) -> Change | None:
        return await anyio.to_thread.run_sync(self._state.last_change)

    async def _update(self, update: str) -> None:
        # A closure, not the bound method: an idle worker thread keeps a reference to the last
        # callable it ran, and a bound method would keep the database (and its lock) open.
        try:
            await anyio.to_thread.run_sync(lambda: self._store.update(update))
        finally:
            self._generation += 1

    async def close(self) -> None:
        """Stop the query workers, flush and release the database (its directory lock goes
        with the last reference)."""
        if self._pool is not None:
            await self._pool.close()
        async with self._write_lock:
            await anyio.to_thread.run_sync(lambda: self._store.flush())
            del self._store
            self._state.close()


def _pool_error(error: WorkerError) -> StoreError:
    """The store's exception for a query worker pool's."""
    if error.reason == "query":
        return QueryError(str(error))
    if error.reason == "timeout" and error.timeout is not None:
        return QueryTimeout(error.timeout)
    return StoreError(f"the query service is unavailable: {error}")


# --- remote ------------------------------------------------------------------------------------

SPARQL_RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"


class RemoteSparqlStore:
    """Any SPARQL 1.1 server, through the Protocol (queries), Update and the Graph Store
    Protocol (bulk loads).

    Atomicity: ``replace_graph`` sends one Update request (drop, metadata, insert), which a
    conforming server applies atomically (SPARQL 1.1 Update §2.2). Graph Store PUT is not
    used for it: Oxigraph's server clears the graph and then loads, so a bad body would leave
    it empty. Servers limit update bodies (Oxigraph: 1 MiB), so a graph bigger than
    ``max_update_bytes`` is staged: uploaded by Graph Store POST into a staging graph, then
    moved with one Update request (``MOVE``, SPARQL 1.1 Update §3.2.5). A failure still
    leaves the old graph, but while the upload runs, readers of the union also see the
    staging graph.
    """

    def __init__(
        self,
        query_url: str,
        update_url: str,
        gsp_url: str,
        *,
        state: StateDB | None = None,
        timeout: float = 60.0,
        max_update_bytes: int = 900_000,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self._state = state or StateDB(None)
        self._max_update_bytes = max_update_bytes
        self._client = client or httpx.AsyncClient(timeout=timeout)

    # SPARQL 1.1 Protocol §2.1.2: query via POST with URL-encoded parameters; the dataset
    # parameters are repeated, one per graph.
    async def _query_request(
        self,
        sparql: str,
        accept: str,
        default_graph_uris: Sequence[str],
        named_graph_uris: Sequence[str],
        substitutions: Mapping[str, Term] | None,
        timeout: float | None = None,
    ) -> httpx.Request:
        if not default_graph_uris and not named_graph_uris:
            dataset = await anyio.to_thread.run_sync(query_dataset, sparql)
            if dataset is not None:
                default_graph_uris, named_graph_uris = dataset
        if substitutions:
            sparql += _values_clause(substitutions)
        form: list[tuple[str, str]] = [("query", sparql)]
        form += [("default-graph-uri", _iri(iri).value) for iri in default_graph_uris]
        form += [("named-graph-uri", _iri(iri).value) for iri in named_graph_uris]
        return self._client.build_request(
            "POST",
            self.query_url,
            data=dict_list(form),
            headers={"Accept": accept},
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )

    async def _send(
        self, request: httpx.Request, *, stream: bool = False, timeout: float | None = None
    ) -> httpx.Response:
        try:
            response = await self._client.send(request, stream=stream)
        except httpx.TimeoutException as error:
            if timeout is not None:
                raise QueryTimeout(timeout) from None
            raise StoreError(f"SPARQL server at {request.url} timed out: {error}") from error
        except httpx.HTTPError as error:
            raise StoreError(f"SPARQL server unreachable at {request.url}: {error}") from error
        if response.is_success:
            return response
        body = (await response.aread()).decode(errors="replace").strip()
        await response.aclose()
        # SPARQL 1.1 Protocol §2.1.5: 400 means the request (the query) was malformed.
        if response.status_code == 400:
            raise QueryError(body or "the SPARQL server rejected the request")
        raise StoreError(f"SPARQL server answered {response.status_code}: {body[:500]}")

    async def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryResult:
        request = await self._query_request(
            sparql,
            f"{SPARQL_RESULTS_JSON}, {N_TRIPLES};q=0.9",
            default_graph_uris,
            named_graph_uris,
            substitutions,
        )
        response = await self._send(request)
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        body = response.content

        def parse() -> QueryResult:
            graph_format = ox.RdfFormat.from_media_type(media_type)
            if graph_format is not None:
                return [q.triple for q in ox.parse(body, graph_format, without_named_graphs=True)]
            results_format = ox.QueryResultsFormat.from_media_type(media_type)
            if results_format is None:
                raise StoreError(f"SPARQL server answered an unknown type: {media_type!r}")
            parsed = ox.parse_query_results(body, results_format)
            try:
                if isinstance(parsed, ox.QueryBoolean):
                    return bool(parsed)
                return _solutions(parsed)
            except (SyntaxError, OSError) as error:
                raise StoreError(f"SPARQL server sent unreadable results: {error}") from None
            finally:
                del parsed  # on this thread: see OxigraphStore.query()

        return await anyio.to_thread.run_sync(parse)

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
        """Asks the server for exactly the two offered formats and passes its bytes through;
        if it answers another format, the result is parsed and re-serialised.

        The ``timeout`` bounds the whole exchange (and each read of the HTTP request); at the
        deadline the connection is closed. Whether the *server* then stops evaluating is up
        to the server: give it its own query timeout, no longer than Meent's
        (``oxigraph serve --timeout-s 30``; Fuseki ``arq:queryTimeout``; Virtuoso
        ``MaxQueryExecutionTime``), or a runaway query keeps a server CPU busy.
        """
        return await _within(
            timeout,
            self._start_stream(
                sparql,
                results_format,
                graph_format,
                default_graph_uris,
                named_graph_uris,
                substitutions,
                timeout,
            ),
        )

    async def _start_stream(
        self,
        sparql: str,
        results_format: ox.QueryResultsFormat,
        graph_format: ox.RdfFormat,
        default_graph_uris: Sequence[str],
        named_graph_uris: Sequence[str],
        substitutions: Mapping[str, Term] | None,
        timeout: float | None,
    ) -> ResultStream:
        accept = f"{results_format.media_type}, {graph_format.media_type}"
        request = await self._query_request(
            sparql, accept, default_graph_uris, named_graph_uris, substitutions, timeout
        )
        response = await self._send(request, stream=True, timeout=timeout)
        media_type = _bare(response.headers.get("content-type", ""))
        # pyoxigraph's media types may carry parameters ("text/csv; charset=utf-8").
        if media_type == _bare(results_format.media_type):
            return ResultStream(results_format, _passthrough(response))
        if media_type == _bare(graph_format.media_type):
            return ResultStream(graph_format, _passthrough(response))
        body = await response.aread()
        await response.aclose()
        source_graph = ox.RdfFormat.from_media_type(media_type)
        source_results = ox.QueryResultsFormat.from_media_type(media_type)
        if source_graph is None and source_results is None:
            raise StoreError(f"SPARQL server answered an unknown type: {media_type!r}")

        def transcode(out: _ChunkWriter) -> None:
            if source_graph is not None:
                out.announce(graph_format)
                quads = ox.parse(body, source_graph, without_named_graphs=True)
                ox.serialize((quad.triple for quad in quads), out, graph_format)
            else:
                out.announce(results_format)
                parsed = ox.parse_query_results(body, source_results)
                try:
                    parsed.serialize(out, results_format)
                finally:
                    del parsed  # on this thread: see OxigraphStore.query()

        return await _threaded_stream(transcode)

    async def _update(self, operations: Sequence[str]) -> None:
        # SPARQL 1.1 Protocol §2.2.2: update via POST directly, application/sparql-update.
        request = self._client.build_request(
            "POST",
            self.update_url,
            content=" ;\n".join(operations).encode(),
            headers={"Content-Type": "application/sparql-update"},
        )
        await (await self._send(request)).aclose()

    async def graph_iris(self) -> set[str]:
        result = await self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        assert isinstance(result, Solutions)
        return {
            row["g"].value
            for row in result
            if isinstance(row["g"], ox.NamedNode) and not row["g"].value.startswith(STAGING)
        }

    async def triple_count(self, graph_iri: str | None = None) -> int:
        result = await self.query(_count_query(graph_iri))
        assert isinstance(result, Solutions)
        return int(result.rows[0]["n"].value)

    async def replace_graph(
        self,
        graph_iri: str,
        data: RdfData,
        *,
        format: ox.RdfFormat = ox.RdfFormat.TURTLE,
        base_iri: str | None = None,
        metadata: Mapping[str, str | None] | None = None,
    ) -> int:
        triples = await anyio.to_thread.run_sync(_parse_triples, data, format, base_iri)
        body = await anyio.to_thread.run_sync(_ntriples, triples)
        update = _replace_update(graph_iri, body)
        if len(update) <= self._max_update_bytes:
            await self._update([update])
        else:
            await self._replace_staged(graph_iri, body)
        await _record(self._state, metadata, graph_iri, body)
        return len(triples)

    async def _replace_staged(self, graph_iri: str, body: bytes) -> None:
        staging = _iri(STAGING + quote(graph_iri, safe=""))
        await self._update([f"DROP SILENT GRAPH {staging}"])
        try:
            # Graph Store Protocol §5.5: POST adds the body's triples to the graph.
            request = self._client.build_request(
                "POST",
                self.gsp_url,
                params={"graph": staging.value},
                content=body,
                headers={"Content-Type": N_TRIPLES},
            )
            await (await self._send(request)).aclose()
            # MOVE drops the target first, so this is the whole replacement, in one request.
            await self._update([f"MOVE SILENT GRAPH {staging} TO GRAPH {_iri(graph_iri)}"])
        finally:
            await self._update([f"DROP SILENT GRAPH {staging}"])

    async def drop_graph(
        self, graph_iri: str, *, metadata: Mapping[str, str | None] | None = None
    ) -> None:
        await self._update([f"DROP SILENT GRAPH {_iri(graph_iri)}"])
        await _record(self._state, metadata, graph_iri, None)

    async def bulk_load(
        self,
        path: Path,
        *,
        format: ox.RdfFormat | None = None,
        graph_iri: str | None = None,
        progress: BytesProgress | None = None,
    ) -> None:
        """Graph Store Protocol §5.5 POST, streaming the file: into ``graph_iri`` for triples;
        quads (N-Quads, TriG) go to the dataset, as Oxigraph and Fuseki accept."""
        rdf_format = format or ox.RdfFormat.from_extension(path.suffix.lstrip("."))
        if rdf_format is None:
            raise DataError(f"unknown RDF format for {path.name}")
        params = {"graph": _iri(graph_iri).value} if graph_iri else {}
        if not graph_iri and not rdf_format.supports_datasets:
            params = {"default": ""}
        total = path.stat().st_size

        async def chunks() -> AsyncIterator[bytes]:
            done = 0
            async with await anyio.open_file(path, "rb") as file:
                while chunk := await file.read(CHUNK_SIZE * 16):
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
                    yield chunk

        request = self._client.build_request(
            "POST",
            self.gsp_url,
            params=params,
            content=chunks(),
            headers={"Content-Type": rdf_format.media_type},
        )
        try:
            await (await self._send(request)).aclose()
        except QueryError as error:  # a 400 here is the server's parse error
            raise DataError(f"{path.name}: {error}") from error

    async def metadata(self) -> dict[str, str]:
        return await anyio.to_thread.run_sync(self._state.metadata)

    async def set_metadata(self, values: Mapping[str, str | None]) -> None:
        await _set_state(self._state, values)

    async def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        return await anyio.to_thread.run_sync(self._state.changes, after, limit)

    async def last_change(self) -> Change | None:
        return await anyio.to_thread.run_sync(self._state.last_change)

    async def close(self) -> None:
        await self._client.aclose()
        self._state.close()


async def _passthrough(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes(CHUNK_SIZE):
            yield chunk
    except httpx.HTTPError as error:
        raise StoreError(f"the SPARQL server's answer broke off: {error}") from None
    finally:
        await response.aclose()


def dict_list(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs → the dict-of-lists httpx encodes as repeated parameters, in order."""
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


# --- the query's own dataset -------------------------------------------------------------------

# Strings, IRIs and comments can contain the word FROM; remove them before looking for it.
_NOT_KEYWORDS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n\r]*",
    re.DOTALL,
)
_FROM = re.compile(r"(?<![\w:?$.-])FROM(?![\w:.-])", re.IGNORECASE)


def _bare(media_type: str) -> str:
    return media_type.split(";")[0].strip().lower()


def query_dataset(sparql: str) -> tuple[list[str], list[str]] | None:
    """The IRIs of a query's FROM and FROM NAMED clauses, or None when it has none (or
    cannot be read here; the server then sees the query as it is).

    A server whose default graph is the union of its graphs may let that override FROM
    (``oxigraph serve --union-default-graph`` does); sent as the protocol dataset
    (SPARQL 1.1 Protocol §2.1.4), FROM means what SPARQL 1.1 Query §13.2 says everywhere.
    """
    if not declares_dataset(sparql):
        return None
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        clauses = translateQuery(parseQuery(sparql)).algebra.get("datasetClause") or []
    except Exception:  # rdflib's parser is narrower than the servers'; don't second-guess
        return None
    default = [str(c["default"]) for c in clauses if "default" in c]
    named = [str(c["named"]) for c in clauses if "named" in c]
    return (default, named) if default or named else None


def declares_dataset(sparql: str) -> bool:
    """Whether the query has a dataset clause (FROM / FROM NAMED, SPARQL 1.1 Query §13.2).

    ``FROM`` is a keyword only in that position, so once strings, IRIs and comments are
    removed any remaining ``FROM`` that is not part of a name is a dataset clause.
    """
    return bool(_FROM.search(_NOT_KEYWORDS.sub(" ", sparql)))
