"""The store's interface: the ``Store`` protocol, its result types and its errors.

``Store`` is what the rest of the service sees. ``OxigraphStore`` is embedded pyoxigraph, on disk
or in memory; ``RemoteSparqlStore`` talks to any SPARQL 1.1 server (Oxigraph server, Apache Jena
Fuseki, Virtuoso, GraphDB) through the SPARQL 1.1 Protocol, Update and Graph Store Protocol.
Nothing outside the store modules knows which one is in use: ``open_store(settings)`` picks.

Both hold the same things in the same way:

- Content lives in named graphs (docs/architecture.md, "IRIs"). Queries without a dataset
  see the *union* of the graphs as their default graph: ``use_default_graph_as_union`` for
  pyoxigraph; for a server, its own setting (``oxigraph serve --union-default-graph``; Fuseki TDB2
  ``tdb2:unionDefaultGraph true``; GraphDB and Virtuoso do this by default).
- Small key → value metadata (e.g. the content hashes of the loaded files) live in the
  service's private state (``service.store.state``, SQLite beside the store), never in a named
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

from collections.abc import (
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import pyoxigraph as ox

from service.store.state import Change

#: An RDF term a query variable can be bound to.
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
#: Serialised RDF (bytes or text) or already parsed triples.
RdfData = bytes | str | Iterable[ox.Triple]
#: ``progress(done, total)``: bytes read so far of a bulk load, out of ``total``.
BytesProgress = Callable[[int, int], None]


class StoreError(Exception):
    """The store failed or refused; the message is meant for people."""


class QueryError(StoreError):
    """The query is malformed or the store could not evaluate it (a client error)."""


class DataError(StoreError):
    """RDF given to the store does not parse."""


class StoreUnavailable(StoreError):
    """The store cannot serve this request now, through no fault of the request: a remote
    server is down or refusing, or the disk cannot be written (full, read-only). Trying again
    later may work; the service answers 503 with ``Retry-After``.

    The message is for anyone (it names no server or path); ``cause`` says what failed, for
    the operator's log and the command line."""

    def __init__(self, message: str, *, cause: str = "", retry_after: int = 5) -> None:
        super().__init__(message)
        self.cause = cause
        self.retry_after = retry_after

    @property
    def details(self) -> str:
        return f"{self} Cause: {self.cause}" if self.cause else str(self)


class StoreTimeout(StoreUnavailable):
    """A remote server did not answer within the store's timeout (``remote_timeout``): it is
    slow or hung. The service answers 504 with ``Retry-After``."""


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

    async def quads(self) -> list[ox.Quad]:
        """Every quad of the content graphs, with its graph (dumps, backups)."""
        ...

    async def write_quads(self, path: Path) -> None:
        """Write every quad of the content graphs to ``path`` as N-Quads, read at one moment
        (dumps). An embedded store streams them: the graph is never held in memory as Python
        objects."""
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

    @property
    def writes(self) -> int:
        """A number that grows with every write through this store object (graphs, bulk
        loads, metadata): what a cache checks to know its answers are still current."""
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
