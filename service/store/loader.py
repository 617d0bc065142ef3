"""Sync the project's curated RDF into the store's named graphs, idempotently.

How and why: docs/architecture.md, "The pieces and how data flows".

=====================  ==========================================
source                 named graph
=====================  ==========================================
``ontology/*.ttl``     ``{base}graph/ontology`` (all files together)
``shapes/*.ttl``       ``{base}graph/shapes`` (all files together)
``data/{stem}.ttl``    ``{base}graph/data/{stem}``
``queries/*.rq``       ``{base}graph/queries`` (the examples as ``sh:SPARQLExecutable``)
=====================  ==========================================

Each graph's sources are hashed (SHA-256 over file names and contents, and the base IRI that
resolves their relative IRIs). The hash is recorded, right after the graph is written, as
store metadata (private state) under ``sync:{graph IRI}``. A sync then skips graphs whose hash
is unchanged, replaces changed ones atomically and drops graphs whose data file is gone.
Graphs it did not load — contributions above all — are never touched.

The loader never prints: it reports through an optional ``progress`` callback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import anyio.to_thread
import pyoxigraph as ox

from service.store import BytesProgress, Store

#: Metadata key prefix for the hash of a graph the sync manages (and drops when its file goes).
SYNC_KEY = "sync:"
#: Metadata key prefix for the hash of a file ``load_files`` bulk-loaded: a sync skips the
#: graph while the hash matches, but never drops it (the file may live outside data/).
LOAD_KEY = "load:"
#: File suffixes the loader reads, with their formats.
FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES}


class Action(StrEnum):
    LOADED = "loaded"
    SKIPPED = "skipped"
    DROPPED = "dropped"


@dataclass(frozen=True)
class SyncEvent:
    """One graph handled: ``done`` of ``total`` graphs so far."""

    action: Action
    graph_iri: str
    sources: tuple[Path, ...]
    done: int
    total: int
    triples: int | None = None


SyncProgress = Callable[[SyncEvent], None]


@dataclass
class SyncSummary:
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    triples: int = 0  # written by this sync

    @property
    def changed(self) -> bool:
        return bool(self.loaded or self.dropped)


class LoaderError(Exception):
    """The project's sources cannot be synced (missing folder, clashing names, bad RDF)."""


@dataclass(frozen=True)
class GraphSource:
    """The files that make up one named graph."""

    graph_iri: str
    files: tuple[Path, ...]


def graph_iri(base_iri: str, name: str) -> str:
    return f"{base_iri}graph/{name}"


def project_sources(root: Path, base_iri: str) -> list[GraphSource]:
    """The named graphs the project's folders define (see the table above)."""
    for folder in ("ontology", "shapes"):
        if not (root / folder).is_dir():
            # Refuse rather than drop everything when pointed at the wrong folder.
            raise LoaderError(f"{root} has no {folder}/ folder: is it the project root?")
    sources = [
        GraphSource(graph_iri(base_iri, "ontology"), _rdf_files(root / "ontology")),
        GraphSource(graph_iri(base_iri, "shapes"), _rdf_files(root / "shapes")),
    ]
    queries = root / "queries"
    if queries.is_dir():
        examples = tuple(sorted(queries.glob("*.rq")))
        sources.append(GraphSource(graph_iri(base_iri, "queries"), examples))
    stems: dict[str, Path] = {}
    for path in _rdf_files(root / "data"):
        if path.stem in stems:
            raise LoaderError(f"{path.name} and {stems[path.stem].name} would share one graph")
        stems[path.stem] = path
        sources.append(GraphSource(graph_iri(base_iri, f"data/{path.stem}"), (path,)))
    return sources


def _rdf_files(folder: Path) -> tuple[Path, ...]:
    if not folder.is_dir():
        return ()
    return tuple(sorted(p for p in folder.iterdir() if p.suffix in FORMATS and p.is_file()))


def source_hash(files: Sequence[Path], base_iri: str) -> str:
    """SHA-256 over the base IRI and each file's name and content, in name order."""
    digest = hashlib.sha256(base_iri.encode())
    for path in sorted(files, key=lambda p: p.name):
        digest.update(b"\0" + path.name.encode() + b"\0")
        with path.open("rb") as file:  # in blocks: a bulk-loaded file may be gigabytes
            digest.update(hashlib.file_digest(file, "sha256").digest())
    return "sha256:" + digest.hexdigest()


def read_triples(files: Sequence[Path], base_iri: str) -> list[ox.Triple]:
    """Parse the files into one list of triples.

    Blank nodes are renamed so that ``_:b1`` in two files are two nodes, as they are in the
    files. Errors name the file and position.
    """
    triples: list[ox.Triple] = []
    if files and all(path.suffix == ".rq" for path in files):
        return _example_triples(files, base_iri)
    for path in files:
        try:
            quads = ox.parse(
                path=path,
                format=FORMATS[path.suffix],
                base_iri=base_iri,
                without_named_graphs=True,
                rename_blank_nodes=True,
            )
            triples.extend(quad.triple for quad in quads)
        except SyntaxError as error:
            raise LoaderError(f"{path}: {error}") from error
    return triples


def _example_triples(files: Sequence[Path], base_iri: str) -> list[ox.Triple]:
    """The example queries as ``sh:SPARQLExecutable`` resources (``service.rdf.queries``), so
    their IRIs ``{base}id/query/{slug}`` resolve like every other Meent IRI; they target the
    canonical endpoint ``{base}sparql``."""
    from service.rdf.queries import QueryHeaderError, examples_graph, read_query

    try:
        examples = [read_query(path) for path in files]
    except QueryHeaderError as error:
        raise LoaderError(str(error)) from error
    graph = examples_graph(examples, f"{base_iri}sparql", base_iri)
    data = graph.serialize(format="nt", encoding="utf-8")
    return [quad.triple for quad in ox.parse(data, ox.RdfFormat.N_TRIPLES)]


async def sync_project(
    store: Store,
    root: Path,
    base_iri: str,
    progress: SyncProgress | None = None,
) -> SyncSummary:
    """Bring the store's project graphs in line with ``root``'s ontology/, shapes/ and data/."""
    sources = await anyio.to_thread.run_sync(project_sources, root, base_iri)
    metadata = await store.metadata()
    recorded = {k.removeprefix(SYNC_KEY): v for k, v in metadata.items() if k.startswith(SYNC_KEY)}
    bulk = {k.removeprefix(LOAD_KEY): v for k, v in metadata.items() if k.startswith(LOAD_KEY)}
    present = await store.graph_iris()
    wanted = {source.graph_iri for source in sources}
    gone = sorted(iri for iri in recorded if iri not in wanted)
    total = len(sources) + len(gone)
    summary = SyncSummary()

    def report(action: Action, iri: str, files: tuple[Path, ...], triples: int | None) -> None:
        if progress is not None:
            done = len(summary.loaded) + len(summary.skipped) + len(summary.dropped)
            progress(SyncEvent(action, iri, files, done, total, triples))

    for source in sources:
        digest = await anyio.to_thread.run_sync(source_hash, source.files, base_iri)
        # A graph emptied behind our back (another tool, a manual DROP) is loaded again; an
        # empty source legitimately has no graph.
        intact = source.graph_iri in present or not source.files
        if digest in (recorded.get(source.graph_iri), bulk.get(source.graph_iri)) and intact:
            summary.skipped.append(source.graph_iri)
            report(Action.SKIPPED, source.graph_iri, source.files, None)
            continue
        triples = await anyio.to_thread.run_sync(read_triples, source.files, base_iri)
        count = await store.replace_graph(
            source.graph_iri,
            triples,
            metadata={SYNC_KEY + source.graph_iri: digest, LOAD_KEY + source.graph_iri: None},
        )
        summary.loaded.append(source.graph_iri)
        summary.triples += count
        report(Action.LOADED, source.graph_iri, source.files, count)

    for iri in gone:
        await store.drop_graph(iri, metadata={SYNC_KEY + iri: None})
        summary.dropped.append(iri)
        report(Action.DROPPED, iri, (), None)
    return summary


async def load_files(
    store: Store,
    files: Sequence[Path],
    base_iri: str,
    progress: Callable[[Path, int, int], None] | None = None,
) -> list[str]:
    """``meent load FILES``: bulk-load large files fast, each replacing its graph.

    A file of triples goes into ``{base}graph/data/{stem}`` (the graph a data file of that
    name would get); a file of quads (N-Quads, TriG) keeps its own graphs. This uses the
    store's bulk loader, which is not atomic: the old graph is dropped first, and a failure
    leaves the file partly loaded (its hash is then not recorded, so a sync reloads it).
    The graph is not the sync's: a later sync skips it while a data file of the same name and
    content exists, and leaves it alone otherwise.
    ``progress(path, bytes_done, bytes_total)`` reports as the file is read. Returns the graphs
    written (empty for quad files).
    """
    written = []
    for path in files:
        rdf_format = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
        if rdf_format is None:
            raise LoaderError(f"{path}: unknown RDF format")
        on_bytes: BytesProgress | None = None
        if progress is not None:

            def on_bytes(done: int, total: int, path: Path = path) -> None:
                progress(path, done, total)

        if rdf_format.supports_datasets:
            await store.bulk_load(path, format=rdf_format, progress=on_bytes)
            continue
        iri = graph_iri(base_iri, f"data/{path.stem}")
        await store.drop_graph(iri, metadata={SYNC_KEY + iri: None, LOAD_KEY + iri: None})
        await store.bulk_load(path, format=rdf_format, graph_iri=iri, progress=on_bytes)
        digest = await anyio.to_thread.run_sync(source_hash, [path], base_iri)
        await store.set_metadata({LOAD_KEY + iri: digest})
        written.append(iri)
    return written
