"""The embedded store's files, seen from outside a running server: what ``meent backup`` and
``meent restore`` need of them, so that nothing else opens RocksDB.

A backup reads a consistent snapshot through a read-only open (which works while a server
has the store open); a restore first proves that no server uses the store (an open for
writing fails while one does) and builds the new store in a folder of its own, which the
caller then swaps in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox


class NotAStore(Exception):
    """The folder holds files that are not an Oxigraph store."""


def is_store(path: Path) -> bool:
    """Whether ``path`` is a folder holding an Oxigraph (RocksDB) store."""
    return (path / "CURRENT").is_file()


@contextlib.contextmanager
def read_snapshot(path: Path) -> Iterator[Iterable[ox.Quad]]:
    """Every quad of the store at ``path``, from one read-only snapshot, streamed (never
    held in memory). Raises ``NotAStore``, or ``OSError`` when it cannot be opened."""
    if not is_store(path):
        raise NotAStore(f"there is no store at {path}")
    snapshot = ox.Store.read_only(str(path))
    try:
        yield snapshot.quads_for_pattern(None, None, None, None)
    finally:
        del snapshot


def quad_count(path: Path) -> int:
    """How many quads the store at ``path`` holds. Opening it for writing also proves that
    no server is using it: ``OSError`` when one is."""
    store = ox.Store(str(path))
    try:
        return sum(1 for _ in store.quads_for_pattern(None, None, None, None))
    finally:
        del store


def build(directory: Path, quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """A new store at ``directory`` holding ``quads``, flushed to disk; what it holds, read
    back (for the caller to check). Raises ``OSError``."""
    store = ox.Store(str(directory))
    try:
        store.bulk_extend(quads)
        store.flush()
        return list(store.quads_for_pattern(None, None, None, None))
    finally:
        del store
