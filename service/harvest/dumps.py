"""Full dumps of the published graph, their checksums and the dataset's canonical hash.

The published graph is the union of the store's content graphs. It is dumped as:

============== ================================ =====================================
file           what                             media type (of the file as served)
============== ================================ =====================================
meent.ttl      the union, as Turtle             text/turtle
meent.nt.gz    the union, N-Triples, gzip       application/gzip (N-Triples inside)
meent.nq.gz    every quad with its named graph  application/gzip (N-Quads inside)
meent.jsonld   the union, as JSON-LD            application/ld+json
============== ================================ =====================================

A build writes each file to a temporary name, fsyncs it and ``os.replace``\\ s it into a
directory of its own, named for the content version (``etags.content_version``); the manifest
(``manifest.json``: version, time, sizes, SHA-256 checksums, canonical hash) is written the
same way last, and names that directory. Requests resolve files through the manifest, so a
client never sees a half-written file nor a file whose checksum is not the one advertised.
The service builds lazily: the first request that needs the dumps after the content version
changed starts a build (one at a time), in the background once there is a complete build to
serve meanwhile (``service.web.services``); ``meent dump DIR`` writes the same files to DIR.

A build never holds the graph in memory: the store streams its quads to an N-Quads file, and
the quads and the union's triples are sorted by line on disk (an external merge sort), each
once. The N-Triples and N-Quads dumps are those sorted lines; Turtle and JSON-LD are written
from the sorted triples, so each subject's triples are together.

The canonical hash is RDF Dataset Canonicalization (W3C RDFC-1.0,
https://www.w3.org/TR/rdf-canon/) of all quads: blank nodes relabelled canonically, the
canonical N-Quads lines sorted (§4.4 "the canonical n-quads form … sorted in code point
order") and hashed with SHA-256. Two copies with the same hash hold the same dataset.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.to_thread
import pyoxigraph as ox

from service.config import DUMPS_MANIFEST, Settings
from service.rdf.canonical import canonical_hash, sorted_unique_lines
from service.store import Store
from service.vocab import PREFIXES

MANIFEST = DUMPS_MANIFEST
#: How long a cache may reuse a dump or the manifest without asking again (seconds).
DUMP_MAX_AGE = 300
#: Bytes copied at a time into a compressed dump.
CHUNK = 1 << 20


@dataclass(frozen=True)
class Dump:
    """One dump file: its name, what is inside, how it is served."""

    name: str
    rdf: ox.RdfFormat
    compressed: bool
    #: EU file-type authority code (http://publications.europa.eu/resource/authority/file-type/)
    file_type: str

    @property
    def keeps_graphs(self) -> bool:
        """N-Quads keeps each quad's named graph; the other dumps hold the merged graph."""
        return self.rdf is ox.RdfFormat.N_QUADS

    @property
    def media_type(self) -> str:
        """The media type of the RDF inside (dcat:mediaType)."""
        return self.rdf.media_type

    @property
    def served_as(self) -> str:
        """The Content-Type of the file itself."""
        if self.compressed:
            return "application/gzip"
        return self.rdf.media_type + ("; charset=utf-8" if "json" not in self.name else "")


DUMPS: tuple[Dump, ...] = (
    Dump("meent.ttl", ox.RdfFormat.TURTLE, False, "RDF_TURTLE"),
    Dump("meent.nt.gz", ox.RdfFormat.N_TRIPLES, True, "RDF_N_TRIPLES"),
    Dump("meent.nq.gz", ox.RdfFormat.N_QUADS, True, "RDF_N_QUADS"),
    Dump("meent.jsonld", ox.RdfFormat.JSON_LD, False, "JSON_LD"),
)
BY_NAME = {dump.name: dump for dump in DUMPS}


@dataclass(frozen=True)
class DumpFile:
    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a build wrote: read from, and written to, ``manifest.json``."""

    version: str | None
    built: datetime
    directory: str  # relative to the dumps directory ("" for a flat ``meent dump DIR``)
    quads: int
    triples: int
    canonical_hash: str
    files: tuple[DumpFile, ...]

    def file(self, name: str) -> DumpFile | None:
        return next((f for f in self.files if f.name == name), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "built": self.built.isoformat(),
            "directory": self.directory,
            "quads": self.quads,
            "triples": self.triples,
            "canonicalHash": {
                "algorithm": "https://www.w3.org/TR/rdf-canon/ (RDFC-1.0, SHA-256)",
                "value": self.canonical_hash,
            },
            "files": [
                {"name": f.name, "bytes": f.bytes, "sha256": f.sha256, "mediaType": m.media_type}
                for f in self.files
                for m in (BY_NAME[f.name],)
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            version=data["version"],
            built=datetime.fromisoformat(data["built"]),
            directory=data["directory"],
            quads=data["quads"],
            triples=data["triples"],
            canonical_hash=data["canonicalHash"]["value"],
            files=tuple(DumpFile(f["name"], f["bytes"], f["sha256"]) for f in data["files"]),
        )


# --- writing --------------------------------------------------------------------------------------


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, fsync it, move it in place."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_dir(path.parent)


class _Hashing(io.RawIOBase):
    """A writable file that passes bytes on and counts and hashes them."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._out.write(chunk)
        self.sha256.update(chunk)
        self.size += len(chunk)
        return len(chunk)


def write_dumps(
    nquads: Path, directory: Path, *, version: str | None = None, relative: str = ""
) -> Manifest:
    """Write every dump of the quads in the N-Quads file ``nquads`` into ``directory``
    (atomically, file by file).

    The quads and the union's triples are sorted by line, each once, on disk beside the
    dumps: the same graph gives the same bytes, two versions of a dump differ line by line
    where the graph did, and memory stays flat at any size (the graph is never held as
    Python objects)."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=directory) as tmp:
        work = Path(tmp)
        quads_path, union_path = work / "quads.nq", work / "union.nt"
        with nquads.open("rb") as source, quads_path.open("wb") as out:
            out.writelines(sorted_unique_lines(source, work))
        # The union graph: a triple stated in two graphs is one triple of it.
        ox.serialize(
            (quad.triple for quad in _parsed(quads_path, ox.RdfFormat.N_QUADS)),
            work / "triples.nt",
            ox.RdfFormat.N_TRIPLES,
        )
        with (work / "triples.nt").open("rb") as source, union_path.open("wb") as out:
            out.writelines(sorted_unique_lines(source, work))
        (work / "triples.nt").unlink()

        written = []
        for dump in DUMPS:
            sorted_path = quads_path if dump.keeps_graphs else union_path
            counted: dict[str, _Hashing] = {}

            def write(
                file: IO[bytes], dump: Dump = dump, path: Path = sorted_path, counted: Any = counted
            ) -> None:
                hashing = counted["out"] = _Hashing(file)
                target: IO[bytes] = hashing  # type: ignore[assignment]
                if dump.compressed:
                    # N-Triples and N-Quads are the sorted lines as they are. mtime=0: the
                    # same graph gives the same bytes, so the same checksum. Level 6 (gzip's
                    # own default), not Python's 9: half the time, a few % larger.
                    with (
                        gzip.GzipFile(
                            fileobj=target, mode="wb", compresslevel=6, mtime=0
                        ) as zipped,
                        path.open("rb") as lines,
                    ):
                        shutil.copyfileobj(lines, zipped, CHUNK)
                else:
                    prefixes = PREFIXES if dump.rdf is ox.RdfFormat.TURTLE else None
                    data = _parsed(path, ox.RdfFormat.N_TRIPLES)
                    ox.serialize(data, target, dump.rdf, prefixes=prefixes)

            write_atomic(directory / dump.name, write)
            out = counted["out"]
            written.append(DumpFile(dump.name, out.size, out.sha256.hexdigest()))
        return Manifest(
            version=version,
            built=datetime.now(UTC).replace(microsecond=0),
            directory=relative,
            quads=_count_lines(quads_path),
            triples=_count_lines(union_path),
            canonical_hash=canonical_hash(_parsed(quads_path, ox.RdfFormat.N_QUADS), work),
            files=tuple(written),
        )


def _parsed(path: Path, rdf: ox.RdfFormat) -> Iterator[Any]:
    """The triples or quads of a file this module wrote (so, valid: parsed leniently)."""
    return iter(ox.parse(path=path, format=rdf, lenient=True))


def _count_lines(path: Path) -> int:
    with path.open("rb") as file:
        return sum(1 for _ in file)


def write_manifest(manifest: Manifest, directory: Path) -> None:
    body = json.dumps(manifest.as_json(), indent=2).encode()
    write_atomic(directory / MANIFEST, lambda file: file.write(body))


def read_manifest(directory: Path) -> Manifest | None:
    try:
        return Manifest.from_json(json.loads((directory / MANIFEST).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.asynccontextmanager
async def _store_quads(store: Store, directory: Path) -> AsyncIterator[Path]:
    """Every quad of the store, as an N-Quads file in a temporary folder in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".quads-", dir=directory) as tmp:
        path = Path(tmp) / "quads.nq"
        await store.write_quads(path)
        yield path


async def dump_to(store: Store, directory: Path) -> Manifest:
    """``meent dump DIR``: the same files the service serves, and their manifest, in DIR."""
    async with _store_quads(store, directory) as nquads:
        manifest = await anyio.to_thread.run_sync(lambda: write_dumps(nquads, directory))
    await anyio.to_thread.run_sync(write_manifest, manifest, directory)
    return manifest


# --- the service's dumps: built lazily per content version ---------------------------------------


def is_current(manifest: Manifest, version: str, interval: float) -> bool:
    """Whether ``manifest`` may serve content ``version``: it is of that version, or it was
    built less than ``interval`` seconds ago."""
    age = (datetime.now(UTC) - manifest.built).total_seconds()
    return manifest.version == version or age < interval


async def current_manifest(
    store: Store, settings: Settings, version: str, lock: anyio.Lock
) -> Manifest:
    """The dumps of the store's content: built now if there are none, or if they are of an
    older content version and were built more than ``dump_interval`` seconds ago.

    A build reads and writes the whole graph, so while contributions keep coming it must not
    follow each of them: the latest build is served meanwhile — a consistent, checksummed
    snapshot whose catalogue entry says when it was made (``dct:modified``), as portals that
    publish daily dumps do. ``version`` is the store's content version; ``lock`` lets one build
    run at a time."""
    root = settings.dumps_path

    def current(manifest: Manifest | None) -> bool:
        return manifest is not None and is_current(manifest, version, settings.dump_interval)

    manifest = await anyio.to_thread.run_sync(read_manifest, root)
    if current(manifest):
        assert manifest is not None
        return manifest
    async with lock:
        manifest = await anyio.to_thread.run_sync(read_manifest, root)
        if current(manifest):
            assert manifest is not None
            return manifest
        target = root / version
        # A build whose process was killed halfway leaves its temporary folders behind.
        for stale in (*target.glob(".quads-*"), *target.glob(".build-*")):
            shutil.rmtree(stale, ignore_errors=True)

        def build(nquads: Path) -> Manifest:
            built = write_dumps(nquads, target, version=version, relative=version)
            write_manifest(built, root)
            # Keep the previous build, which a download may still be reading; drop older ones.
            keep = {version, manifest.directory if manifest else ""}
            for child in root.iterdir():
                if child.is_dir() and child.name not in keep:
                    shutil.rmtree(child, ignore_errors=True)
            return built

        async with _store_quads(store, target) as nquads:
            return await anyio.to_thread.run_sync(build, nquads)


def download_url(landing: str, name: str) -> str:
    """Where the service serves the dump ``name``, on the host whose landing page is given."""
    return landing + "dumps/" + name
