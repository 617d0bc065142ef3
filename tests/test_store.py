"""The Store protocol, run against both implementations: embedded and a real SPARQL server."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pyoxigraph as ox
import pytest

from service.config import Settings
from service.harvest.dumps import canonical_hash
from service.store import (
    DataError,
    OxigraphStore,
    QueryError,
    RemoteSparqlStore,
    Solutions,
    Store,
    open_store,
)
from service.store.common import declares_dataset

pytestmark = pytest.mark.anyio

EX = "http://example.org/"
G1 = EX + "graph/one"
G2 = EX + "graph/two"
JSON = ox.QueryResultsFormat.JSON
TURTLE = ox.RdfFormat.TURTLE
NT = ox.RdfFormat.N_TRIPLES


def ntriples(prefix: str, count: int) -> bytes:
    return "".join(f'<{EX}{prefix}/{i}> <{EX}p> "{prefix} {i}" .\n' for i in range(count)).encode()


async def names(store: Store, sparql: str, **kwargs: object) -> list[str]:
    result = await store.query(sparql, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, Solutions)
    return sorted(row[result.variables[0]].value for row in result)


@pytest.fixture
async def two_graphs(store: Store) -> Store:
    await store.replace_graph(G1, f'<{EX}a> <{EX}name> "one" .', base_iri=EX)
    await store.replace_graph(G2, f'<{EX}b> <{EX}name> "two" .', base_iri=EX)
    return store


# --- queries -----------------------------------------------------------------------------------


async def test_default_graph_is_the_union_of_the_named_graphs(two_graphs: Store) -> None:
    assert await names(two_graphs, "SELECT ?n WHERE { ?s ?p ?n }") == ["one", "two"]


@pytest.mark.parametrize(
    ("dataset", "sparql", "expected"),
    [
        ({"default_graph_uris": [G1]}, "SELECT ?n WHERE { ?s ?p ?n }", ["one"]),
        ({"default_graph_uris": [G1, G2]}, "SELECT ?n WHERE { ?s ?p ?n }", ["one", "two"]),
        # SPARQL 1.1 Protocol §2.1.4: with only named graphs given, the default graph is empty.
        ({"named_graph_uris": [G2]}, "SELECT ?n WHERE { ?s ?p ?n }", []),
        ({"named_graph_uris": [G2]}, "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?n } }", [G2]),
        ({"default_graph_uris": [G1]}, "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?n } }", []),
    ],
)
async def test_protocol_dataset_restricts_the_query(
    two_graphs: Store, dataset: dict[str, list[str]], sparql: str, expected: list[str]
) -> None:
    assert await names(two_graphs, sparql, **dataset) == expected


async def test_from_in_the_query_defines_the_dataset(two_graphs: Store) -> None:
    """SPARQL 1.1 Query §13.2, on both stores: the remote store sends FROM as the protocol
    dataset, since a union-default-graph server may let its union override FROM."""
    assert await names(two_graphs, f"SELECT ?n FROM <{G2}> WHERE {{ ?s ?p ?n }}") == ["two"]
    prefixed = f"PREFIX g: <{EX}graph/> SELECT ?n FROM NAMED g:one WHERE {{ ?s ?p ?n }}"
    assert await names(two_graphs, prefixed) == []


async def test_ask_and_construct(two_graphs: Store) -> None:
    assert await two_graphs.query(f'ASK {{ ?s <{EX}name> "one" }}') is True
    assert await two_graphs.query(f'ASK {{ ?s <{EX}name> "three" }}') is False
    triples = await two_graphs.query(f"CONSTRUCT WHERE {{ <{EX}a> ?p ?o }}")
    a, name = ox.NamedNode(EX + "a"), ox.NamedNode(EX + "name")
    assert triples == [ox.Triple(a, name, ox.Literal("one"))]


async def test_substitutions_bind_variables(two_graphs: Store) -> None:
    sparql = "SELECT ?n WHERE { ?s ?p ?n }"
    subject = {"s": ox.NamedNode(EX + "b")}
    assert await names(two_graphs, sparql, substitutions=subject) == ["two"]


async def test_substituted_literal_is_data_not_syntax(two_graphs: Store) -> None:
    hostile = ox.Literal('one" } } ; DROP ALL ; SELECT * { "')
    result = await two_graphs.query("ASK { ?s ?p ?n }", substitutions={"n": hostile})
    assert result is False
    assert await two_graphs.triple_count() == 2


async def test_malformed_query_is_a_query_error(store: Store) -> None:
    with pytest.raises(QueryError):
        await store.query("SELECT ?s WHERE { ?s ?p }")
    with pytest.raises(QueryError):
        await store.query_stream("SELEKT * {}", results_format=JSON, graph_format=TURTLE)


# --- streaming ---------------------------------------------------------------------------------


async def test_stream_select_in_the_offered_results_format(two_graphs: Store) -> None:
    stream = await two_graphs.query_stream(
        "SELECT ?n WHERE { ?s ?p ?n } ORDER BY ?n", results_format=JSON, graph_format=TURTLE
    )
    assert stream.media_type == "application/sparql-results+json"
    assert not stream.is_graph
    body = json.loads(await stream.read())
    assert [b["n"]["value"] for b in body["results"]["bindings"]] == ["one", "two"]


async def test_stream_construct_in_the_offered_graph_format(two_graphs: Store) -> None:
    stream = await two_graphs.query_stream(
        "CONSTRUCT WHERE { ?s ?p ?o }", results_format=JSON, graph_format=NT
    )
    assert stream.media_type == "application/n-triples"
    assert stream.is_graph
    parsed = list(ox.parse(await stream.read(), NT))
    assert len(parsed) == 2


async def test_large_result_arrives_in_many_chunks(store: Store) -> None:
    await store.replace_graph(G1, ntriples("row", 20_000), format=NT)
    stream = await store.query_stream(
        "SELECT ?s ?o WHERE { ?s ?p ?o }",
        results_format=ox.QueryResultsFormat.TSV,
        graph_format=TURTLE,
    )
    sizes = [len(chunk) async for chunk in stream.chunks]
    assert len(sizes) > 5
    assert sum(sizes) > 20_000 * 30


async def test_abandoned_stream_frees_the_store(store: Store) -> None:
    await store.replace_graph(G1, ntriples("row", 20_000), format=NT)
    stream = await store.query_stream(
        "SELECT * WHERE { ?s ?p ?o }", results_format=JSON, graph_format=TURTLE
    )
    async for _ in stream.chunks:
        break
    await stream.aclose()
    with anyio.fail_after(5):
        assert await store.triple_count(G1) == 20_000


# --- graphs ------------------------------------------------------------------------------------


async def test_replace_graph_replaces_only_that_graph(two_graphs: Store) -> None:
    written = await two_graphs.replace_graph(G1, f'<{EX}c> <{EX}name> "new" , "newer" .')
    assert written == 2
    assert await names(two_graphs, "SELECT ?n WHERE { ?s ?p ?n }") == ["new", "newer", "two"]
    assert await two_graphs.graph_iris() == {G1, G2}


async def test_replace_graph_accepts_parsed_triples(store: Store) -> None:
    triple = ox.Triple(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal('x\u0001"\n'))
    await store.replace_graph(G1, [triple])
    assert await store.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}"
    ) == [triple]


async def test_failed_replace_leaves_the_old_graph(two_graphs: Store) -> None:
    await two_graphs.set_metadata({"hash": "old"})
    broken = f'<{EX}c> <{EX}name> "fine" .\n<{EX}d> <{EX}name> "unterminated .\n'
    with pytest.raises(DataError):
        await two_graphs.replace_graph(G1, broken, metadata={"hash": "new"})
    assert await names(two_graphs, f"SELECT ?n WHERE {{ ?s <{EX}name> ?n }}") == ["one", "two"]
    assert (await two_graphs.metadata())["hash"] == "old"


async def test_readers_never_see_a_half_replaced_graph(store: Store) -> None:
    old, new = ntriples("old", 300), ntriples("new", 500)
    await store.replace_graph(G1, old, format=NT)
    seen: set[int] = set()
    writing = True

    async def read() -> None:
        while writing:
            seen.add(await store.triple_count(G1))

    async with anyio.create_task_group() as group:
        group.start_soon(read)
        group.start_soon(read)
        for i in range(6):
            await store.replace_graph(G1, new if i % 2 == 0 else old, format=NT)
        writing = False
    assert seen <= {300, 500}
    assert await store.triple_count(G1) == 300


async def test_large_replace_on_a_remote_store_is_staged(oxigraph_server: str) -> None:
    url = oxigraph_server
    store = RemoteSparqlStore(url + "query", url + "update", url + "store", max_update_bytes=1000)
    try:
        await store.replace_graph(G1, ntriples("old", 50), format=NT)
        await store.replace_graph(G1, ntriples("new", 80), format=NT, metadata={"k": "v"})
        assert await store.triple_count(G1) == 80
        assert (await store.metadata())["k"] == "v"
        staged = await store.query("SELECT ?g WHERE { GRAPH ?g { } }")
        assert isinstance(staged, Solutions)
        assert not [row for row in staged if row["g"].value.startswith("urn:meent:staging:")]
    finally:
        await store.drop_graph(G1, metadata={"k": None})
        await store.close()


async def test_drop_graph(two_graphs: Store) -> None:
    await two_graphs.set_metadata({"hash:one": "x"})
    await two_graphs.drop_graph(G1, metadata={"hash:one": None})
    await two_graphs.drop_graph(EX + "graph/absent")
    assert await two_graphs.graph_iris() == {G2}
    assert "hash:one" not in await two_graphs.metadata()


async def test_metadata_is_in_no_graph(two_graphs: Store) -> None:
    """Bookkeeping never reaches the public union: counts and queries see only content."""
    await two_graphs.set_metadata({"a": "sha256:secret-1", "b": "2"})
    assert await two_graphs.triple_count() == 2
    assert await two_graphs.triple_count(G1) == 1
    assert await two_graphs.triple_count(EX + "graph/absent") == 0
    assert await two_graphs.graph_iris() == {G1, G2}
    leaked = await two_graphs.query(
        'ASK { { ?s ?p "sha256:secret-1" } UNION { GRAPH ?g { ?s ?p "sha256:secret-1" } } }'
    )
    assert leaked is False


async def test_write_quads_streams_the_same_quads_as_n_quads(
    two_graphs: Store, tmp_path: Path
) -> None:
    """What dumps read: the quads ``quads()`` gives, blank nodes too, as an N-Quads file."""
    await two_graphs.replace_graph(G2, f'<{EX}b> <{EX}name> "two" ; <{EX}knows> [] .')
    await two_graphs.set_metadata({"a": "sha256:secret-1"})
    path = tmp_path / "quads.nq"
    await two_graphs.write_quads(path)
    written = list(ox.parse(path=path, format=ox.RdfFormat.N_QUADS))
    assert len(written) == 3
    # Blank node labels are the store's own and a remote store's differ per answer.
    assert canonical_hash(written) == canonical_hash(await two_graphs.quads())


async def test_quads_are_the_content_graphs_quads(two_graphs: Store) -> None:
    """What dumps and backups read: every quad of the content graphs, with its graph —
    blank nodes too — and never the store's bookkeeping."""
    await two_graphs.replace_graph(G2, f'<{EX}b> <{EX}name> "two" ; <{EX}knows> [] .')
    await two_graphs.set_metadata({"a": "sha256:secret-1"})
    quads = await two_graphs.quads()
    assert len(quads) == 3
    ground = {
        (q.subject.value, q.object.value, q.graph_name.value)
        for q in quads
        if not isinstance(q.object, ox.BlankNode)
    }
    assert ground == {(EX + "a", "one", G1), (EX + "b", "two", G2)}
    [blank] = [q for q in quads if isinstance(q.object, ox.BlankNode)]
    assert (blank.subject, blank.predicate, blank.graph_name) == (
        ox.NamedNode(EX + "b"),
        ox.NamedNode(EX + "knows"),
        ox.NamedNode(G2),
    )


async def test_metadata_survives_reopening_an_embedded_store(tmp_path: Path) -> None:
    settings = Settings(store=str(tmp_path / "store"))
    first = open_store(settings)
    await first.replace_graph(G1, ntriples("x", 3), format=NT, metadata={"sync:g": "h1"})
    await first.close()
    second = open_store(settings)
    try:
        assert await second.metadata() == {"sync:g": "h1"}
        assert await second.triple_count(G1) == 3
    finally:
        await second.close()
    assert settings.state_path == tmp_path / "store.state.sqlite3"
    assert settings.state_path.is_file()


async def test_metadata_round_trip(store: Store) -> None:
    key = "sync:https://example.org/graph/data/x y#z é"
    await store.set_metadata({key: "sha256:abc", "other": "1"})
    await store.set_metadata({key: "sha256:def"})
    assert await store.metadata() == {key: "sha256:def", "other": "1"}
    await store.set_metadata({"other": None})
    assert await store.metadata() == {key: "sha256:def"}


async def test_bulk_load_triples_into_a_graph(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "big.nt"
    path.write_bytes(ntriples("bulk", 5_000))
    reports: list[tuple[int, int]] = []
    await store.bulk_load(path, graph_iri=G1, progress=lambda d, t: reports.append((d, t)))
    assert await store.triple_count(G1) == 5_000
    assert reports
    assert reports[-1][0] == reports[-1][1] == path.stat().st_size


async def test_bulk_load_quads_keeps_their_graphs(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "dump.nq"
    path.write_text(f'<{EX}a> <{EX}p> "1" <{G1}> .\n<{EX}b> <{EX}p> "2" <{G2}> .\n')
    await store.bulk_load(path)
    assert await store.graph_iris() == {G1, G2}


async def test_bulk_load_of_bad_data_is_a_data_error(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.nt"
    path.write_text("<not an iri> .\n")
    with pytest.raises(DataError):
        await store.bulk_load(path, graph_iri=G1)


# --- opening from settings ---------------------------------------------------------------------


async def test_open_store_in_memory(anyio_backend: str) -> None:
    store = open_store(Settings(store="memory"))
    assert isinstance(store, OxigraphStore)
    await store.close()


async def test_open_store_on_disk_persists(tmp_path: Path) -> None:
    settings = Settings(store=str(tmp_path / "store"))
    store = open_store(settings)
    await store.replace_graph(G1, f"<{EX}a> <{EX}p> <{EX}b> .")
    await store.close()
    reopened = open_store(settings)
    assert await reopened.triple_count(G1) == 1
    await reopened.close()


async def test_open_store_remote(oxigraph_server: str) -> None:
    store = open_store(Settings(remote=oxigraph_server.rstrip("/")))
    assert isinstance(store, RemoteSparqlStore)
    assert store.query_url == oxigraph_server + "query"
    assert store.gsp_url == oxigraph_server + "store"
    assert await store.query("ASK { }") is True
    await store.close()


def test_settings_from_environment_and_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "meent.toml"
    config.write_text(
        'remote = "http://localhost:3030/meent"\nremote_gsp = "data"\nquery_timeout = 5\n'
    )
    monkeypatch.setenv("MEENT_CONFIG", str(config))
    monkeypatch.setenv("MEENT_QUERY_TIMEOUT", "7")
    settings = Settings()
    assert settings.query_timeout == 7  # the environment wins over the file
    endpoints = settings.remote_endpoints
    assert endpoints is not None
    assert endpoints.query == "http://localhost:3030/meent/query"
    assert endpoints.gsp == "http://localhost:3030/meent/data"


def test_project_root_is_found_from_a_subfolder(tmp_path: Path) -> None:
    from service.config import find_project_root

    for folder in ("ontology", "shapes", "data/deep"):
        (tmp_path / folder).mkdir(parents=True)
    assert find_project_root(tmp_path / "data" / "deep") == tmp_path.resolve()
    assert Settings(project_root=tmp_path).store_path == tmp_path / "var" / "store"


@pytest.mark.parametrize(
    ("sparql", "expected"),
    [
        ("SELECT * FROM <http://x/g> WHERE { ?s ?p ?o }", True),
        ("select * from named <http://x/g> { graph ?g { ?s ?p ?o } }", True),
        ("PREFIX ex: <http://x/> SELECT * FROM ex:g { ?s ?p ?o }", True),
        ("SELECT * WHERE { ?s ?p ?o }", False),
        ('SELECT * WHERE { ?s ?p "from" }', False),
        ("SELECT * WHERE { ?s <http://x/from> ?from } # FROM <x>", False),
        ("PREFIX ex: <http://x/> SELECT * { ?s ex:from ?o ; ex:FROM.x ?y }", False),
        ("SELECT * { ?s ?p '''a\n FROM <x> ''' }", False),
    ],
)
def test_declares_dataset(sparql: str, expected: bool) -> None:
    assert declares_dataset(sparql) is expected
