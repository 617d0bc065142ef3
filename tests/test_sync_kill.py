"""kill -9 during a data sync (issue 8, faults and durability): a real ``meent serve`` that is
syncing a project with a large data file is killed at a random moment, several times. After
each kill the store holds every graph whole or not at all — never part of a file — and a
published contribution is still there; each restart opens the store without repair and, in
the end, the store holds exactly the project's files."""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from servers import MeentServer, create_token

from bench.generate import write as generate
from service.store.loader import project_sources, read_triples

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/meent/"
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
KILLS = 3
BIG = 150_000  # triples: a sync of a few seconds here


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for folder in ("ontology", "shapes", "queries", "data"):
        shutil.copytree(ROOT / folder, root / folder)
    with (root / "data" / "zz-generated.ttl").open("w") as out:
        generate(BIG, 7, out)  # N-Triples, which is Turtle
    return root


def _graphs(store_path: Path) -> dict[str, int]:
    """Triples per named graph, read straight from the store (read-only: a server may not
    hold it)."""
    store = ox.Store.read_only(str(store_path))
    counts: dict[str, int] = {}
    for quad in store.quads_for_pattern(None, None, None, None):
        if isinstance(quad.graph_name, ox.NamedNode):
            counts[quad.graph_name.value] = counts.get(quad.graph_name.value, 0) + 1
    del store
    return counts


def _file_triples(project: Path) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(path=project / "data" / "zz-generated.ttl")}


def _graph_triples(store_path: Path, graph: str) -> set[ox.Triple]:
    store = ox.Store.read_only(str(store_path))
    found = {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))}
    del store
    return found


def test_kill_9_during_a_sync_leaves_no_part_of_a_graph(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEENT_PROJECT_ROOT", str(project))
    store = tmp_path / "store"
    expected = {
        source.graph_iri: len(set(read_triples(source.files, BASE)))
        for source in project_sources(project, BASE)
        if source.files
    }
    big = BASE + "graph/data/zz-generated"
    assert expected[big] >= BIG * 0.99

    # A published contribution, on a store synced before the big file came.
    (project / "data" / "zz-generated.ttl").rename(tmp_path / "big.ttl")
    secret = create_token(store, "sync-kill")
    server = MeentServer(store, tmp_path / "serve.log")
    try:
        server.wait_ready(time.monotonic() + 120)
        headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {secret}"}
        created = httpx.post(server.url + "/contributions", content=KOPPEL, headers=headers)
        assert created.status_code == 201
    finally:
        server.stop()
    (tmp_path / "big.ttl").rename(project / "data" / "zz-generated.ttl")

    rng = random.Random(8)
    before_new = 0
    for round_ in range(KILLS):
        # New content every round, so that every start has a big graph to replace.
        old_triples = _file_triples(project)
        with (project / "data" / "zz-generated.ttl").open("w") as out:
            generate(BIG, 100 + round_, out)
        new_triples = _file_triples(project)
        server = MeentServer(store, tmp_path / "serve.log")
        time.sleep(rng.uniform(1.0, 4.0))  # start-up, then somewhere in the sync
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        server.stop()
        time.sleep(0.5)  # the query workers see their parent go
        counts = _graphs(store)
        for graph, count in counts.items():
            if graph in expected and graph != big:
                assert count == expected[graph], f"{graph}: {count} of {expected[graph]}"
        held = _graph_triples(store, big)
        assert held in (old_triples, new_triples, set()), "part of a file, or a mix of two"
        before_new += held != new_triples
        assert any(g.startswith(BASE + "graph/contribution/") for g in counts)
    expected[big] = len(new_triples)
    print(f"\n{before_new} of {KILLS} kills landed before the new graph was in")

    server = MeentServer(store, tmp_path / "serve.log")  # no repair step: it just opens
    try:
        server.wait_ready(time.monotonic() + 180)
        query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        answer = httpx.post(
            server.url + "/sparql",
            content=query,
            headers={
                "Content-Type": "application/sparql-query",
                "Accept": "application/sparql-results+json",
            },
            timeout=60,
        ).json()
        served = {b["g"]["value"]: int(b["n"]["value"]) for b in answer["results"]["bindings"]}
        records = httpx.get(server.url + "/contributions").json()["items"]
    finally:
        server.stop()
    assert {g: n for g, n in served.items() if g in expected} == expected
    assert len(records) == 1 and records[0]["status"] == "published"
