"""Helpers both stores share: validated IRIs, the update texts, the query's own dataset,
the thread that serialises a result, and the private-state records of every write."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
)
from typing import IO

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import pyoxigraph as ox

from service.rdf.sparqltext import keywords
from service.store.base import (
    BytesProgress,
    DataError,
    QueryError,
    QueryTimeout,
    RdfData,
    ResultStream,
    Solutions,
    StoreError,
    Term,
)
from service.store.state import StateDB

#: Graphs a remote store uploads into before moving them in place; never content.
STAGING = "urn:meent:staging:"
CHUNK_SIZE = 64 * 1024
_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- helpers shared by both stores -------------------------------------------------------------


def checked_iri(value: str) -> ox.NamedNode:
    """A validated IRI; its ``str()`` is a safe SPARQL IRIREF."""
    try:
        return ox.NamedNode(value)
    except ValueError as error:
        raise StoreError(f"not a valid IRI: {value!r} ({error})") from error


async def set_state(state: StateDB, values: Mapping[str, str | None] | None) -> None:
    if values:
        await anyio.to_thread.run_sync(state.set_metadata, values)


async def record_change(
    state: StateDB,
    values: Mapping[str, str | None] | None,
    graph_iri: str,
    ntriples: bytes | None,
) -> None:
    """After a graph was written (or, with ``ntriples`` None, dropped): its metadata and its
    entry in the change log (the ``/ldes`` feed), in one state transaction — deferred if the
    state cannot be written now, since the graph is (see ``StateDB.commit``)."""

    def commit() -> None:
        state.commit(
            values, graph=graph_iri, ntriples=ntriples, deleted=ntriples is None, defer=True
        )

    await anyio.to_thread.run_sync(commit)


def parse_triples(data: RdfData, format: ox.RdfFormat, base_iri: str | None) -> list[ox.Triple]:
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


def replace_update(graph_iri: str, ntriples: bytes) -> str:
    """One SPARQL Update request that replaces a graph with ``ntriples``.

    SPARQL 1.1 Update §2.2: "Each request SHOULD be treated atomically by a SPARQL 1.1 Update
    service" — all its operations take effect together or not at all. The data are parsed
    and re-serialised as N-Triples (a subset of the SPARQL triple syntax) first, so nothing
    unparsed reaches the update text.
    """
    graph = checked_iri(graph_iri)
    operations = [f"DROP SILENT GRAPH {graph}"]
    if ntriples:
        operations.append(f"INSERT DATA {{ GRAPH {graph} {{\n{ntriples.decode()}}} }}")
    return " ;\n".join(operations)


def to_ntriples(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) if triples else b""


def stored_ntriples(triples: list[ox.Triple]) -> bytes:
    """The triples as an Oxigraph store holds them, for the change log: a store keeps the
    canonical form of a number or a date (``"0.10"^^xsd:decimal`` is kept as ``"0.1"``), so a
    feed that logged the form as written would rebuild another dataset than the store's, with
    another canonical hash than its dumps."""
    if not triples:
        return b""
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    return ox.serialize((q.triple for q in store), format=ox.RdfFormat.N_TRIPLES)


#: Every quad of the content graphs (not a remote store's staging graphs).
QUADS_QUERY = (
    "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
    f"FILTER(!STRSTARTS(STR(?g), {ox.Literal(STAGING)})) }}"
)


def count_query(graph_iri: str | None) -> str:
    """Counts one graph's triples, or those of all content graphs (not staging ones)."""
    if graph_iri is not None:
        return f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {checked_iri(graph_iri)} {{ ?s ?p ?o }} }}"
    return (
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f"FILTER(!STRSTARTS(STR(?g), {ox.Literal(STAGING)})) }}"
    )


def values_clause(substitutions: Mapping[str, Term]) -> str:
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


class ChunkWriter:
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


async def threaded_stream(produce: Callable[[ChunkWriter], None]) -> ResultStream:
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
            writer = ChunkWriter(emit)
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


async def within_timeout(timeout: float | None, start: Awaitable[ResultStream]) -> ResultStream:
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


class ProgressReader:
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


def solutions_of(result: ox.QuerySolutions) -> Solutions:
    return Solutions(tuple(v.value for v in result.variables), tuple(result))


# --- the query's own dataset -------------------------------------------------------------------


def bare_media_type(media_type: str) -> str:
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

    ``FROM`` is a keyword only in that position, so any ``FROM`` outside strings, IRIs,
    comments and names (``service.rdf.sparqltext``) is a dataset clause.
    """
    # Most queries have no "from" anywhere: no need to read them token by token.
    return "from" in sparql.lower() and "FROM" in keywords(sparql)
