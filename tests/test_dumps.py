"""Dumps: every file parses to the published graph, checksums match, the canonical hash
survives a round trip through the N-Quads dump into a fresh store, builds are atomic and
follow changes, ``meent dump`` writes the same files, conditional GET."""

from __future__ import annotations

import functools
import gzip
import hashlib
import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from background import settled_dumps
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import Settings
from service.harvest.dumps import DUMPS
from service.rdf.canonical import canonical_hash, sorted_unique_lines
from service.store import OxigraphStore
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project whose data/ a test may change."""
    root = tmp_path_factory.mktemp("project")
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


@pytest.fixture(scope="module")
def client(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    dumps = tmp_path_factory.mktemp("dumps")
    settings = Settings(store="memory", project_root=project, dumps_dir=dumps)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _get(client: TestClient, name: str) -> bytes:
    response = client.get(f"/dumps/{name}")
    assert response.status_code == 200
    return response.content


def test_manifest_lists_every_dump_with_size_and_checksum(client: TestClient) -> None:
    manifest = client.get("/dumps/").json()
    assert [f["name"] for f in manifest["files"]] == [d.name for d in DUMPS]
    for entry in manifest["files"]:
        body = _get(client, entry["name"])
        assert len(body) == entry["bytes"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    assert manifest["canonicalHash"]["value"].startswith("sha256:")


def test_every_dump_holds_the_published_graph(client: TestClient) -> None:
    quads = set(ox.parse(gzip.decompress(_get(client, "meent.nq.gz")), format=ox.RdfFormat.N_QUADS))
    graphs = {q.graph_name.value for q in quads}
    assert "https://w3id.org/meent/graph/ontology" in graphs
    assert "https://w3id.org/meent/graph/data/organisations" in graphs
    triples = {q.triple for q in quads}
    for name, rdf_format, zipped in (
        ("meent.ttl", ox.RdfFormat.TURTLE, False),
        ("meent.nt.gz", ox.RdfFormat.N_TRIPLES, True),
        ("meent.jsonld", ox.RdfFormat.JSON_LD, False),
    ):
        body = _get(client, name)
        parsed = list(ox.parse(gzip.decompress(body) if zipped else body, format=rdf_format))
        # Blank node labels differ between files; compare canonically.
        assert canonical_hash(parsed) == canonical_hash(
            ox.Quad(t.subject, t.predicate, t.object) for t in triples
        ), name


async def test_round_trip_through_nquads_gives_the_same_canonical_hash(
    client: TestClient, anyio_backend: str
) -> None:
    manifest = client.get("/dumps/").json()
    fresh = OxigraphStore()
    try:
        body = gzip.decompress(_get(client, "meent.nq.gz"))
        quads = list(ox.parse(body, format=ox.RdfFormat.N_QUADS))
        for graph in {q.graph_name for q in quads}:
            await fresh.replace_graph(
                graph.value, [q.triple for q in quads if q.graph_name == graph]
            )
        copied = await fresh.quads()
    finally:
        await fresh.close()
    assert canonical_hash(copied) == manifest["canonicalHash"]["value"]


def test_canonical_hash_ignores_blank_node_labels_but_not_content() -> None:
    p = ox.NamedNode("http://example.org/p")
    g = ox.NamedNode("http://example.org/g")
    one = [ox.Quad(ox.BlankNode("a"), p, ox.Literal("x"), g)]
    two = [ox.Quad(ox.BlankNode("zz"), p, ox.Literal("x"), g)]
    other = [ox.Quad(ox.BlankNode("a"), p, ox.Literal("y"), g)]
    moved = [ox.Quad(ox.BlankNode("a"), p, ox.Literal("x"), ox.NamedNode("http://example.org/h"))]
    assert canonical_hash(one) == canonical_hash(two)
    assert len({canonical_hash(one), canonical_hash(other), canonical_hash(moved)}) == 3


def rdfc_reference(quads: list[ox.Quad]) -> str:
    """The canonical hash by its definition: the whole dataset canonicalized (RDFC-1.0), its
    N-Quads lines sorted in code point order and hashed."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    lines = sorted(ox.serialize(dataset, format=ox.RdfFormat.N_QUADS).decode().splitlines())
    return "sha256:" + hashlib.sha256("".join(line + "\n" for line in lines).encode()).hexdigest()


def test_canonical_hash_is_rdfc_of_the_whole_dataset() -> None:
    """canonical_hash canonicalizes only the quads with a blank node; the hash must be the
    one of the whole dataset: blank nodes linked to each other and to IRIs, in subject,
    object and graph position, in several graphs, beside ground quads and a duplicate."""
    ex = "http://example.org/"
    p, q, g, h = (ox.NamedNode(ex + name) for name in ("p", "q", "g", "h"))
    a, b, c = ox.BlankNode("a"), ox.BlankNode("b"), ox.BlankNode("c")
    iri = ox.NamedNode(ex + "s")
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    quads = [
        ox.Quad(iri, p, a, g),
        ox.Quad(a, q, b, g),
        ox.Quad(b, q, a, h),
        ox.Quad(b, p, ox.Literal('ë \u00e9 "x"', language="nl"), g),
        ox.Quad(c, p, ox.Literal("1", datatype=integer), c),
        ox.Quad(iri, q, ox.Literal("ground"), g),
        ox.Quad(iri, q, ox.Literal("ground"), h),
        ox.Quad(iri, q, ox.Literal("ground"), g),  # the same quad again
        *(ox.Quad(ox.NamedNode(f"{ex}n/{i}"), p, ox.Literal(f"v{i}"), g) for i in range(50)),
    ]
    assert canonical_hash(quads) == rdfc_reference(quads)
    assert canonical_hash(reversed(quads)) == rdfc_reference(quads)


def test_line_dumps_are_sorted_and_each_line_once(client: TestClient) -> None:
    """N-Triples and N-Quads dumps list their lines in byte order, each once: the same graph
    gives the same bytes, and two versions differ line by line where the graph did."""
    manifest = client.get("/dumps/").json()
    for name, count in (("meent.nt.gz", manifest["triples"]), ("meent.nq.gz", manifest["quads"])):
        lines = gzip.decompress(_get(client, name)).splitlines()
        assert len(lines) == count > 1000, name
        assert all(a < b for a, b in itertools.pairwise(lines)), name


def test_sorted_unique_lines_sorts_on_disk_in_runs(tmp_path: Path) -> None:
    lines = [f'<http://example.org/{i % 17}> <p> "{i % 5}" .\n'.encode() for i in range(100)]
    lines[40:40] = [b"\n", b""]
    shuffled = sorted(lines, key=lambda line: hashlib.sha256(line).digest())
    merged = sorted_unique_lines(shuffled, tmp_path, run_lines=7)
    first = next(merged)
    # The runs were written to files of their own folder, not kept in memory ...
    [runs] = tmp_path.iterdir()
    assert runs.name.startswith(".runs-") and len(list(runs.iterdir())) == 15
    rest = list(merged)
    assert [first, *rest] == sorted(set(lines) - {b"\n", b""})
    assert len(rest) + 1 == 85  # i mod 17 and i mod 5: every pair once in 85 steps
    # ... and the folder is gone once the lines have been read.
    assert not list(tmp_path.iterdir())


def test_dump_file_304_and_headers(client: TestClient) -> None:
    first = client.get("/dumps/meent.nq.gz")
    assert first.headers["content-type"] == "application/gzip"
    assert first.headers["etag"] == f'"{hashlib.sha256(first.content).hexdigest()}"'
    again = client.get("/dumps/meent.nq.gz", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    since = client.get(
        "/dumps/meent.ttl", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert since.status_code == 304
    index = client.get("/dumps/")
    assert (
        client.get("/dumps/", headers={"If-None-Match": index.headers["etag"]}).status_code == 304
    )


def test_unknown_dump_is_404(client: TestClient) -> None:
    response = client.get("/dumps/secrets.txt")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_dumps_are_rebuilt_when_the_graph_changes(
    project: Path, tmp_path: Path, client: TestClient
) -> None:
    before = client.get("/dumps/").json()
    settings = Settings(
        store="memory", project_root=project, dumps_dir=tmp_path / "dumps", dump_interval=0
    )
    app = create_app(settings)
    with TestClient(app) as first:
        assert first.get("/dumps/").json()["canonicalHash"] == before["canonicalHash"]
        old_etag = first.get("/dumps/meent.ttl").headers["etag"]
    extra = project / "data" / "extra-dump-test.ttl"
    extra.write_text(
        '<https://w3id.org/meent/id/test/x> <http://www.w3.org/2000/01/rdf-schema#label> "x" .\n'
    )
    try:
        with TestClient(app) as again:  # a restart syncs the new file
            # The complete older build answers at once, while the new one is made.
            assert again.get("/dumps/").json()["canonicalHash"] == before["canonicalHash"]
            after = settled_dumps(again)
            assert after["canonicalHash"] != before["canonicalHash"]
            assert after["quads"] == before["quads"] + 1
            response = again.get("/dumps/meent.ttl", headers={"If-None-Match": old_etag})
            assert response.status_code == 200 and b"test/x" in response.content
    finally:
        extra.unlink()
    # No temporary files or folders (the store's quads, the sorts' runs) are left beside the
    # dumps, and old builds are pruned.
    dumps = settings.dumps_path
    assert not list(dumps.rglob("*.tmp"))
    assert not list(dumps.rglob(".*"))
    assert len([p for p in dumps.iterdir() if p.is_dir()]) == 2


def test_a_build_killed_halfway_leaves_nothing_behind_the_next(
    project: Path, tmp_path: Path
) -> None:
    """The temporary folders of a build whose process died are removed by the next build
    into the same place; the dumps stay served."""
    settings = Settings(store="memory", project_root=project, dumps_dir=tmp_path / "dumps")
    with TestClient(create_app(settings)) as client:
        version = client.get("/dumps/").json()["version"]
    # Killed while building this version again (its manifest not yet written), then restarted.
    build = settings.dumps_path / version
    for name in (".quads-killed", ".build-killed"):
        (build / name).mkdir()
        (build / name / "quads.nq").write_bytes(b"<a> <b> <c> <g> .\n")
    (settings.dumps_path / "manifest.json").unlink()
    with TestClient(create_app(settings)) as client:
        assert client.get("/dumps/").json()["version"] == version
        assert not list(build.glob(".*"))
        assert client.get("/dumps/meent.ttl").status_code == 200


def test_meent_dump_writes_the_same_files(tmp_path: Path, client: TestClient) -> None:
    served = client.get("/dumps/").json()
    env = {"MEENT_PROJECT_ROOT": str(ROOT)}
    store = str(tmp_path / "store")
    load = CliRunner().invoke(cli, ["load", "--store", store], env=env)
    assert load.exit_code == 0, load.output
    result = CliRunner().invoke(cli, ["dump", str(tmp_path / "out"), "--store", store], env=env)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(d.name for d in DUMPS), "manifest.json"]
    )
    # The same graph: the same canonical hash as the service's (same project files).
    assert served["canonicalHash"]["value"] in result.output, served["quads"]
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["files"]:
        body = (out / entry["name"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert len(body) == entry["bytes"]


def test_meent_dump_to_a_file_is_bad_input_and_says_where(tmp_path: Path) -> None:
    """DIR that cannot be a folder: exit 2 with a message naming it, no traceback, and the
    file left as it was."""
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    store = str(tmp_path / "store")
    result = CliRunner().invoke(
        cli, ["dump", str(taken), "--store", store], env={"MEENT_PROJECT_ROOT": str(ROOT)}
    )
    assert result.exit_code == 2, result.output
    assert f"cannot write the dumps to {taken}: File exists" in result.output
    assert "Traceback" not in result.output
    assert taken.read_text() == "not a folder"


def test_a_recent_build_is_served_until_the_interval_has_passed(
    project: Path, tmp_path: Path
) -> None:
    """While contributions keep coming the dumps are not rebuilt after each: the latest build
    (consistent, and described as it is) serves until ``dump_interval`` has passed."""
    settings = Settings(
        store="memory", project_root=project, dumps_dir=tmp_path / "dumps", dump_interval=3600
    )
    with TestClient(create_app(settings)) as client:
        first = client.get("/dumps/").json()
        store = client.app.state.services.store  # type: ignore[attr-defined]
        body = (
            '<https://w3id.org/meent/id/test/y> <http://www.w3.org/2000/01/rdf-schema#label> "y" .'
        )
        client.portal.call(
            functools.partial(
                store.replace_graph,
                "https://w3id.org/meent/graph/test/y",
                body,
                format=ox.RdfFormat.N_TRIPLES,
            )
        )
        served = client.get("/dumps/").json()
        assert served == first  # the build of an hour's interval still serves
        turtle = client.get("/dumps/meent.ttl")
        assert b"test/y" not in turtle.content
        assert hashlib.sha256(turtle.content).hexdigest() == next(
            f["sha256"] for f in served["files"] if f["name"] == "meent.ttl"
        )
    rebuilt = settings.model_copy(update={"dump_interval": 0})
    with TestClient(create_app(rebuilt)) as client:
        client.portal.call(
            functools.partial(
                client.app.state.services.store.replace_graph,  # type: ignore[attr-defined]
                "https://w3id.org/meent/graph/test/y",
                body,
                format=ox.RdfFormat.N_TRIPLES,
            )
        )
        assert settled_dumps(client)["canonicalHash"] != first["canonicalHash"]


def test_a_build_never_holds_up_a_request(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once there is a complete build, the catalogue, VoID and the dumps answer from it while
    a newer one is made in the background — here a build held back until the test lets it
    go — and the catalogue dates the dumps as built, not as asked."""
    import threading

    from service.harvest import dumps as harvest_dumps

    release = threading.Event()
    write_dumps = harvest_dumps.write_dumps

    def held_back(*args: object, **kwargs: object) -> object:
        assert release.wait(60), "the test never let the build go"
        return write_dumps(*args, **kwargs)  # type: ignore[arg-type]

    settings = Settings(
        store="memory", project_root=project, dumps_dir=tmp_path / "dumps", dump_interval=0
    )
    with TestClient(create_app(settings)) as client:
        first = client.get("/dumps/").json()  # the first build: waited for
        monkeypatch.setattr(harvest_dumps, "write_dumps", held_back)
        body = (
            '<https://w3id.org/meent/id/test/z> <http://www.w3.org/2000/01/rdf-schema#label> "z" .'
        )
        client.portal.call(
            functools.partial(
                client.app.state.services.store.replace_graph,  # type: ignore[attr-defined]
                "https://w3id.org/meent/graph/test/z",
                body,
                format=ox.RdfFormat.N_TRIPLES,
            )
        )
        for path in ("/dumps/", "/catalog", "/.well-known/void", "/dumps/meent.ttl"):
            response = client.get(path, headers={"Accept": "text/turtle"}, timeout=10)
            assert response.status_code == 200, path
        assert "dumps" in client.app.state.services.background.running  # type: ignore[attr-defined]
        assert client.get("/dumps/").json() == first  # the older complete build
        catalog = client.get("/catalog", headers={"Accept": "text/turtle"}).text
        assert first["built"][:19] in catalog  # dct:modified of the distributions
        release.set()
        after = settled_dumps(client)
        assert after["canonicalHash"] != first["canonicalHash"]
        assert b"test/z" in client.get("/dumps/meent.ttl").content
