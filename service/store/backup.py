"""``meent backup DEST`` and ``meent restore SRC``: everything a server needs, public and private.

A backup is a directory (mode 0700, its files 0600: the state holds token hashes and pending,
unpublished contributions):

================= =====================================================================
file              what
================= =====================================================================
dataset.nq.gz     every quad of the store with its named graph — ontology, shapes, curated
                  data, queries, contributions with their PROV-O records (N-Quads, gzip)
state.sqlite3     the private state beside the store (``service.store.state``): token hashes,
                  pending and rejected contributions, the change log behind ``/ldes``, the
                  sync's content hashes — one SQLite file
manifest.json     written last: format and version, time, where from, quad and graph count,
                  the RDFC-1.0 canonical hash of the dataset (``service.harvest.dumps``), row counts
                  of the state, and each file's size and SHA-256
================= =====================================================================

It is written into a hidden directory beside DEST and renamed into place when complete, so
DEST either holds a whole backup or does not exist.

**Consistency.** The state is copied first, with SQLite's online backup API (one consistent
snapshot, while the server goes on writing), then the store is read from one snapshot: the
embedded store opened read-only (possible beside a running ``meent serve``; RocksDB replays
its write-ahead log, so every finished write is in), a remote one by one ``SELECT`` over
``GRAPH ?g`` (one query, one snapshot, on Oxigraph and on Fuseki TDB2). In that order the
store can only be newer than its records, which is the state every write passes through
anyway (the graph first, its record after it) and which the next sync repairs.

**Why N-Quads, not** ``Store.backup``. pyoxigraph's ``Store.backup`` makes a RocksDB
checkpoint, but beside a running server it can only be taken from a read-only open, and that
checkpoint leaves out the writes still only in the write-ahead log (seen with pyoxigraph
0.5.13: a write made before the backup was missing from it). N-Quads from the read-only
snapshot hold them; they also restore into another pyoxigraph version or a remote server,
and are small.

**Restore** checks everything before it touches anything: the manifest, each file's size and
SHA-256, that the dataset parses and has the quad count and canonical hash the manifest
names, that the state passes SQLite's integrity check. A corrupt or incomplete backup stops
there and the target is untouched. It refuses a target that holds anything (quads, tokens,
changes) unless forced. Embedded: the dataset is loaded into a new store beside the target,
its canonical hash checked, and the directories swapped — a replaced store and its state are
kept as ``<store>.replaced-<time>`` (nothing is deleted). Remote: with force, the server's
content graphs are dropped, the dataset is loaded by the Graph Store Protocol and its hash
checked — not atomic: a failure half-way leaves the server partly loaded (run it again). The
stored dumps are derived data; their manifest is removed so that they are rebuilt.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pyoxigraph as ox

from service import __version__
from service.config import DUMPS_MANIFEST, Settings
from service.rdf.canonical import canonical_hash
from service.store import RemoteSparqlStore, StoreError, StoreUnavailable, snapshot, state
from service.store.state import StateDB

FORMAT = "meent-backup"
VERSION = 1
DATASET = "dataset.nq.gz"
STATE = "state.sqlite3"
MANIFEST = "manifest.json"
#: Exit statuses (service.cli): bad input or usage; the store cannot be opened or reached.
BAD_INPUT = 2
UNAVAILABLE = 3


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is for people."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class BackupFile:
    path: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class BackupManifest:
    created: str
    source: str
    quads: int
    graphs: int
    canonical_hash: str
    state: dict[str, int] | None
    files: tuple[BackupFile, ...]
    meent: str = __version__

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "created": self.created,
            "meent": self.meent,
            "source": self.source,
            "quads": self.quads,
            "graphs": self.graphs,
            "canonicalHash": self.canonical_hash,
            "state": self.state,
            "files": [{"path": f.path, "bytes": f.bytes, "sha256": f.sha256} for f in self.files],
        }

    @classmethod
    def from_json(cls, data: Any) -> BackupManifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a Meent backup manifest")
        if data.get("version") != VERSION:
            raise ValueError(f"backup format version {data.get('version')!r}; this Meent reads 1")
        files = tuple(
            BackupFile(str(f["path"]), int(f["bytes"]), str(f["sha256"])) for f in data["files"]
        )
        state = data.get("state")
        return cls(
            created=str(data["created"]),
            source=str(data["source"]),
            quads=int(data["quads"]),
            graphs=int(data["graphs"]),
            canonical_hash=str(data["canonicalHash"]),
            state={str(k): int(v) for k, v in state.items()} if state is not None else None,
            files=files,
            meent=str(data.get("meent", "")),
        )

    def file(self, name: str) -> BackupFile | None:
        return next((f for f in self.files if f.path == name), None)


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    manifest: BackupManifest
    target: str
    replaced: list[str] = field(default_factory=list)


# --- backup ----------------------------------------------------------------------------------


async def backup(settings: Settings, dest: Path) -> BackupManifest:
    """Write a backup of the configured store and its private state into ``dest``."""
    if settings.remote is None and settings.store_path is None:
        raise BackupError("an in-memory store has nothing to back up")
    dest = dest.expanduser().absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not an empty directory")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    except OSError as error:
        raise BackupError(f"cannot write the backup beside {dest}: {error}") from None
    try:
        work.chmod(0o700)
        state_counts = await anyio.to_thread.run_sync(_copy_state, settings.state_path, work)
        if settings.remote is not None:
            quads = await _remote_quads(settings)
            manifest = await anyio.to_thread.run_sync(_finish, work, quads, "remote", state_counts)
        else:
            assert settings.store_path is not None
            manifest = await anyio.to_thread.run_sync(
                _finish_embedded, work, settings.store_path, state_counts
            )
        if dest.exists():
            dest.rmdir()
        work.rename(dest)
        _fsync_dir(dest.parent)
        return manifest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _copy_state(path: Path | None, into: Path) -> dict[str, int] | None:
    """The private state, copied consistently even while the server writes
    (``service.store.state.copy_state``)."""
    if path is None or not path.is_file():
        return None
    try:
        return state.copy_state(path, into / STATE)
    except sqlite3.Error as error:
        raise BackupError(f"cannot copy the private state {path}: {error}", UNAVAILABLE) from None


def _finish_embedded(work: Path, path: Path, counts: dict[str, int] | None) -> BackupManifest:
    """``_finish`` with every quad of an on-disk store, streamed from one read-only snapshot
    (works beside a server; the graph is never held in memory)."""
    try:
        with snapshot.read_snapshot(path) as quads:
            return _finish(work, quads, "embedded", counts)
    except snapshot.NotAStore as error:
        raise BackupError(str(error), UNAVAILABLE) from None
    except OSError as error:
        raise BackupError(f"cannot open the store at {path}: {error}", UNAVAILABLE) from None


async def _remote_quads(settings: Settings) -> list[ox.Quad]:
    store = _remote_store(settings)
    try:
        return await store.quads()
    except StoreError as error:
        raise _unavailable(error) from None
    finally:
        await store.close()


def _finish(
    work: Path, quads: Iterable[ox.Quad], source: str, counts: dict[str, int] | None
) -> BackupManifest:
    """Write the dataset, then the manifest that vouches for everything. ``quads`` is read
    once, as it comes; the canonical hash is taken from the file written."""
    count = 0
    graphs: set[ox.NamedNode] = set()

    def counted() -> Iterator[ox.Quad]:
        nonlocal count
        for quad in quads:
            count += 1
            if isinstance(quad.graph_name, ox.NamedNode):
                graphs.add(quad.graph_name)
            yield quad

    with (work / DATASET).open("wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
            ox.serialize(counted(), zipped, ox.RdfFormat.N_QUADS)
        raw.flush()
        os.fsync(raw.fileno())
    (work / DATASET).chmod(0o600)
    files = tuple(_describe(work, name) for name in (DATASET, STATE) if (work / name).exists())
    with gzip.open(work / DATASET, "rb") as written:
        hashed = canonical_hash(ox.parse(written, ox.RdfFormat.N_QUADS), work)
    manifest = BackupManifest(
        created=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        source=source,
        quads=count,
        graphs=len(graphs),
        canonical_hash=hashed,
        state=counts,
        files=files,
    )
    body = json.dumps(manifest.as_json(), indent=2).encode()
    with (work / MANIFEST).open("wb") as file:
        file.write(body)
        file.flush()
        os.fsync(file.fileno())
    (work / MANIFEST).chmod(0o600)
    _fsync_dir(work)
    return manifest


def _describe(directory: Path, name: str) -> BackupFile:
    path = directory / name
    return BackupFile(name, path.stat().st_size, _sha256(path))


# --- verifying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    manifest: BackupManifest
    quads: list[ox.Quad]


def verify(src: Path) -> Verified:
    """Check a backup completely (sizes, SHA-256, the dataset's canonical hash, the state's
    integrity); raise BackupError saying what is wrong."""
    if not src.is_dir():
        raise BackupError(f"{src}: no such backup directory")
    try:
        data = json.loads((src / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise BackupError(
            f"{src} has no {MANIFEST}: it is not a Meent backup, or the backup did not finish"
        ) from None
    except (OSError, ValueError) as error:
        raise BackupError(f"{src / MANIFEST} is unreadable: {error}") from None
    try:
        manifest = BackupManifest.from_json(data)
    except (KeyError, TypeError, ValueError) as error:
        raise BackupError(f"{src / MANIFEST} is not a valid backup manifest: {error}") from None
    corrupt = f"the backup in {src} is corrupt or incomplete"
    for entry in manifest.files:
        if entry.path not in (DATASET, STATE):
            raise BackupError(f"{corrupt}: its manifest names an unknown file {entry.path!r}")
        path = src / entry.path
        if not path.is_file():
            raise BackupError(f"{corrupt}: {entry.path} is missing")
        size = path.stat().st_size
        if size != entry.bytes:
            raise BackupError(f"{corrupt}: {entry.path} has {size} bytes, not {entry.bytes}")
        if _sha256(path) != entry.sha256:
            raise BackupError(f"{corrupt}: the SHA-256 of {entry.path} is not the one recorded")
    if manifest.file(DATASET) is None:
        raise BackupError(f"{corrupt}: its manifest lists no {DATASET}")
    if manifest.state is not None and manifest.file(STATE) is None:
        raise BackupError(f"{corrupt}: its manifest lists no {STATE}")
    try:
        with gzip.open(src / DATASET, "rb") as file:
            quads = list(ox.parse(file, ox.RdfFormat.N_QUADS))
    except (OSError, EOFError, zlib.error, SyntaxError, ValueError) as error:
        raise BackupError(f"{corrupt}: {DATASET} does not read: {error}") from None
    if len(quads) != manifest.quads or canonical_hash(quads) != manifest.canonical_hash:
        raise BackupError(f"{corrupt}: {DATASET} does not hold the dataset its manifest names")
    if manifest.file(STATE) is not None:
        _check_state(src / STATE, corrupt)
    return Verified(manifest, quads)


def _check_state(path: Path, corrupt: str) -> None:
    try:
        verdict = state.integrity(path)
    except sqlite3.Error as error:
        raise BackupError(f"{corrupt}: {STATE} is not a readable SQLite file: {error}") from None
    if verdict != "ok":
        raise BackupError(f"{corrupt}: {STATE} fails SQLite's integrity check: {verdict}")


# --- restoring -------------------------------------------------------------------------------


async def restore(settings: Settings, src: Path, *, force: bool = False) -> Restored:
    """Restore the backup in ``src`` into the configured store and state."""
    if settings.remote is None and settings.store_path is None:
        raise BackupError("restore needs a persistent store (--store DIR or --remote URL)")
    verified = await anyio.to_thread.run_sync(verify, src.expanduser())
    if settings.remote is not None:
        done = await _restore_remote(settings, src, verified, force)
    else:
        done = await anyio.to_thread.run_sync(_restore_embedded, settings, src, verified, force)
    with contextlib.suppress(OSError):  # derived: rebuilt for the restored content
        (settings.dumps_path / DUMPS_MANIFEST).unlink(missing_ok=True)
    return done


def _restore_embedded(settings: Settings, src: Path, verified: Verified, force: bool) -> Restored:
    path = settings.store_path
    state_path = settings.state_path
    assert path is not None and state_path is not None
    held = _embedded_contents(path) + _state_contents(state_path)
    if held and not force:
        raise BackupError(
            f"the store at {path} is not empty ({', '.join(held)}); restore --force replaces "
            "it (the current store and state are kept beside it)"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = f".restore-{secrets.token_hex(4)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}{suffix}")
    fresh_state = state_path.with_name(f".{state_path.name}{suffix}")
    try:
        try:
            _load_fresh(fresh, verified)
            if verified.manifest.file(STATE) is not None:
                _copy_file(src / STATE, fresh_state)
        except OSError as error:
            raise BackupError(
                f"cannot write the restored store beside {path}: {error}", UNAVAILABLE
            ) from None
        replaced = _swap_in(path, state_path, fresh, fresh_state, bool(held), stamp)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        fresh_state.unlink(missing_ok=True)
    return Restored(verified.manifest, str(path), replaced)


def _embedded_contents(path: Path) -> list[str]:
    """What the store at ``path`` holds, in words (empty list: nothing). Opening it for
    writing also proves no server is using it."""
    if not path.exists():
        return []
    if not path.is_dir():
        raise BackupError(f"{path} is not a directory")
    if not snapshot.is_store(path):
        return ["files that are not an Oxigraph store"] if any(path.iterdir()) else []
    try:
        quads = snapshot.quad_count(path)
    except OSError as error:
        raise BackupError(
            f"cannot open the store at {path} ({error}); is a Meent server using it? "
            "Stop it before restoring.",
            UNAVAILABLE,
        ) from None
    return [f"{quads} quads"] if quads else []


def _state_contents(path: Path) -> list[str]:
    if not path.is_file():
        return []
    try:
        counts = state.counts_of(path)
    except sqlite3.Error as error:
        raise BackupError(f"cannot read the private state {path}: {error}", UNAVAILABLE) from None
    return [f"{n} {state.TABLES[table]}" for table, n in counts.items() if n]


def _load_fresh(directory: Path, verified: Verified) -> None:
    """A new store at ``directory`` holding the backup's dataset, checked by its hash."""
    loaded = snapshot.build(directory, verified.quads)
    if canonical_hash(loaded) != verified.manifest.canonical_hash:
        raise BackupError("the restored store does not hold the backed-up dataset", UNAVAILABLE)


def _copy_file(source: Path, target: Path) -> None:
    with source.open("rb") as reading, target.open("wb") as writing:
        shutil.copyfileobj(reading, writing)
        writing.flush()
        os.fsync(writing.fileno())
    target.chmod(0o600)


def _state_files(path: Path) -> list[Path]:
    """The state file and SQLite's write-ahead log and index beside it."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _swap_in(
    path: Path, state_path: Path, fresh: Path, fresh_state: Path, keep: bool, stamp: str
) -> list[str]:
    """Move the old store and state aside (``keep``) or away, then the new ones in place."""
    replaced: list[str] = []
    moved: list[tuple[Path, Path]] = []
    aside = path.with_name(f"{path.name}.replaced-{stamp}")
    aside_state = aside.with_name(aside.name + ".state.sqlite3")
    try:
        if path.exists():
            if keep:
                path.rename(aside)
                moved.append((aside, path))
                replaced.append(str(aside))
            else:
                shutil.rmtree(path)
        for old, new in zip(_state_files(state_path), _state_files(aside_state), strict=True):
            if not old.exists():
                continue
            if keep:
                old.rename(new)
                moved.append((new, old))
                if str(aside_state) not in replaced and old == state_path:
                    replaced.append(str(aside_state))
            else:
                old.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh.rename(path)
        if fresh_state.exists():
            fresh_state.rename(state_path)
    except OSError as error:
        for moved_to, original in reversed(moved):  # put back what was moved
            with contextlib.suppress(OSError):
                moved_to.rename(original)
        raise BackupError(f"cannot move the restored store into place: {error}") from None
    _fsync_dir(path.parent)
    return replaced


async def _restore_remote(
    settings: Settings, src: Path, verified: Verified, force: bool
) -> Restored:
    state_path = settings.state_path
    assert state_path is not None
    store = _remote_store(settings)
    try:
        graphs = await store.graph_iris()
        held = ([f"{len(graphs)} graphs"] if graphs else []) + _state_contents(state_path)
        if held and not force:
            raise BackupError(
                f"the SPARQL server at {settings.remote} is not empty ({', '.join(held)}); "
                "restore --force replaces its content (and the state, kept beside it)"
            )
        for graph in sorted(graphs):
            await store.drop_graph(graph)
        with tempfile.TemporaryDirectory() as scratch:
            dataset = Path(scratch) / "dataset.nq"
            with gzip.open(src / DATASET, "rb") as zipped, dataset.open("wb") as plain:
                shutil.copyfileobj(zipped, plain)
            await store.bulk_load(dataset, format=ox.RdfFormat.N_QUADS)
        loaded = canonical_hash(await store.quads())
    except StoreError as error:
        raise _unavailable(error) from None
    finally:
        await store.close()
    named = [q for q in verified.quads if isinstance(q.graph_name, ox.NamedNode)]
    if loaded != canonical_hash(named):
        raise BackupError(
            f"the SPARQL server at {settings.remote} does not hold the backed-up dataset after "
            "loading it (is another client writing to it?)",
            UNAVAILABLE,
        )
    replaced: list[str] = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if any(p.exists() for p in _state_files(state_path)):
        aside = state_path.with_name(f"{state_path.name}.replaced-{stamp}")
        for old, new in zip(_state_files(state_path), _state_files(aside), strict=True):
            if old.exists():
                old.rename(new)
        replaced.append(str(aside))
    if verified.manifest.file(STATE) is not None:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        fresh = state_path.with_name(f".{state_path.name}.restore-{secrets.token_hex(4)}")
        _copy_file(src / STATE, fresh)
        fresh.rename(state_path)
    return Restored(verified.manifest, str(settings.remote), replaced)


# --- helpers ---------------------------------------------------------------------------------


def _remote_store(settings: Settings) -> RemoteSparqlStore:
    """The remote server, with a throwaway state: restore writes the state file itself."""
    endpoints = settings.remote_endpoints
    assert endpoints is not None
    return RemoteSparqlStore(
        endpoints.query,
        endpoints.update,
        endpoints.gsp,
        state=StateDB(None),
        timeout=settings.remote_timeout,
        connect_timeout=settings.remote_connect_timeout,
    )


def _unavailable(error: StoreError) -> BackupError:
    text = error.details if isinstance(error, StoreUnavailable) else str(error)
    return BackupError(f"the SPARQL server failed: {text}", UNAVAILABLE)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
