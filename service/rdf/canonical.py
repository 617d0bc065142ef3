"""The canonical hash of an RDF dataset: W3C RDF Dataset Canonicalization (RDFC-1.0,
https://www.w3.org/TR/rdf-canon/) of all quads — blank nodes relabelled canonically, the
canonical N-Quads lines sorted (§4.4 "the canonical n-quads form … sorted in code point order")
and hashed with SHA-256. Two copies with the same hash hold the same dataset, whoever holds
them: the dumps publish it, a backup checks itself with it."""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox


def _has_blank_node(quad: ox.Quad) -> bool:
    return (
        isinstance(quad.subject, ox.BlankNode)
        or isinstance(quad.object, ox.BlankNode)
        or isinstance(quad.graph_name, ox.BlankNode)
    )


#: Lines an external sort holds in memory at a time: about 40 MB of N-Quads lines.
RUN_LINES = 250_000


def sorted_unique_lines(
    lines: Iterable[bytes], workdir: Path, *, run_lines: int = RUN_LINES
) -> Iterator[bytes]:
    """``lines`` (each ending in a newline; empty ones dropped) in byte order, each once.

    Sorted in runs of ``run_lines`` that are written to files in a folder of their own in
    ``workdir`` and merged, so memory stays flat at any size. The byte order of UTF-8 is code
    point order, the order RDFC-1.0 §4.4 asks of canonical N-Quads; and a dataset is a set,
    so a line given twice is one."""
    with contextlib.ExitStack() as stack:
        runs: list[Path] = []
        run: list[bytes] = []
        folder: Path | None = None

        def spill() -> None:
            nonlocal folder
            if folder is None:
                folder = Path(
                    stack.enter_context(tempfile.TemporaryDirectory(prefix=".runs-", dir=workdir))
                )
            run.sort()
            path = folder / str(len(runs))
            with path.open("wb") as file:
                file.writelines(run)
            runs.append(path)
            run.clear()

        for line in lines:
            if len(line) > 1:
                run.append(line)
                if len(run) >= run_lines:
                    spill()
        merged: Iterable[bytes] = run
        if runs:
            if run:
                spill()
            merged = heapq.merge(*(stack.enter_context(path.open("rb")) for path in runs))
        else:
            run.sort()
        previous = b""
        for line in merged:
            if line != previous:
                yield line
                previous = line


def canonical_hash(quads: Iterable[ox.Quad], workdir: Path | None = None) -> str:
    """SHA-256 of the RDFC-1.0 canonical N-Quads of ``quads``, as ``sha256:<hex>``.

    Only the quads with a blank node go through canonicalization: RDFC-1.0 labels each
    blank node from the quads that mention it (and, through them, other blank nodes), so a
    quad without one neither changes a label nor is changed; its canonical line is its
    N-Quads line. Those lines are sorted on disk (in ``workdir``, or the system's temporary
    folder), so at a million quads with a few blank nodes this takes seconds and a few tens
    of MB, whatever the size."""
    blank = ox.Dataset()

    def ground() -> Iterator[ox.Quad]:
        for quad in quads:
            if _has_blank_node(quad):
                blank.add(quad)
            else:
                yield quad

    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix=".hash-", dir=workdir) as tmp:
        work = Path(tmp)
        ox.serialize(ground(), work / "ground.nq", ox.RdfFormat.N_QUADS)
        blank.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        labelled = ox.serialize(blank, format=ox.RdfFormat.N_QUADS).splitlines(keepends=True)
        with (work / "ground.nq").open("rb") as file:
            for line in heapq.merge(sorted_unique_lines(file, work), sorted(set(labelled))):
                digest.update(line)
    return "sha256:" + digest.hexdigest()
