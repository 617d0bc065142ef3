"""/.well-known/void: statistics computed from the store, partitions, linksets (TOOI),
endpoint, dumps, examples, vocabularies; negotiation and 304."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from background import eventually
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from service.config import Settings
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
VOID = Namespace("http://rdfs.org/ns/void#")
DATASET = URIRef("https://w3id.org/meent/catalog#dataset")


@pytest.fixture(scope="module")
def client(project_client: TestClient) -> TestClient:
    return project_client


@pytest.fixture(scope="module")
def void(client: TestClient) -> Graph:
    response = client.get("/.well-known/void")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    return Graph().parse(data=response.text, format="turtle")


def _int(graph: Graph, subject: URIRef, prop: URIRef) -> int:
    value = graph.value(subject, prop)
    assert isinstance(value, Literal)
    return int(value)


def _sparql_count(client: TestClient, query: str) -> int:
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_statistics_match_the_store(client: TestClient, void: Graph) -> None:
    assert (DATASET, RDF.type, VOID.Dataset) in void
    manifest = client.get("/dumps/").json()
    assert _int(void, DATASET, VOID.triples) == manifest["triples"]
    subjects = _sparql_count(client, "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }")
    assert _int(void, DATASET, VOID.distinctSubjects) == subjects
    objects = _sparql_count(client, "SELECT (COUNT(DISTINCT ?o) AS ?n) { ?s ?p ?o }")
    assert _int(void, DATASET, VOID.distinctObjects) == objects
    assert 0 < _int(void, DATASET, VOID.entities) <= subjects


def test_class_and_property_partitions(client: TestClient, void: Graph) -> None:
    commons = URIRef("https://w3id.org/meent/def#Commons")
    part = next(
        p
        for p in void.objects(DATASET, VOID.classPartition)
        if void.value(p, VOID["class"]) == commons
    )
    expected = _sparql_count(client, f"SELECT (COUNT(DISTINCT ?s) AS ?n) {{ ?s a <{commons}> }}")
    assert expected > 0 and _int(void, part, VOID.entities) == expected
    label = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    part = next(
        p
        for p in void.objects(DATASET, VOID.propertyPartition)
        if void.value(p, VOID.property) == label
    )
    assert _int(void, part, VOID.triples) == _sparql_count(
        client, f"SELECT (COUNT(*) AS ?n) {{ ?s <{label}> ?o }}"
    )
    partitions = len(list(void.objects(DATASET, VOID.propertyPartition)))
    assert _int(void, DATASET, VOID.properties) == partitions


def test_linksets_include_tooi(void: Graph) -> None:
    tooi = [
        ls
        for ls in void.subjects(RDF.type, VOID.Linkset)
        if str(void.value(void.value(ls, VOID.objectsTarget), VOID.uriSpace))
        == "https://identifier.overheid.nl/tooi/"
    ]
    assert len(tooi) == 1
    assert _int(void, tooi[0], VOID.triples) > 0
    assert void.value(tooi[0], VOID.subjectsTarget) == DATASET
    assert any(void.objects(tooi[0], VOID.linkPredicate))


def test_endpoint_dumps_examples_vocabularies(void: Graph) -> None:
    assert void.value(DATASET, VOID.sparqlEndpoint) == URIRef("http://testserver/sparql")
    dumps = {str(d) for d in void.objects(DATASET, VOID.dataDump)}
    assert "http://testserver/dumps/meent.nq.gz" in dumps and len(dumps) == 4
    examples = list(void.objects(DATASET, VOID.exampleResource))
    assert examples and all(str(e).startswith("https://w3id.org/meent/id/") for e in examples)
    vocabularies = {str(v) for v in void.objects(DATASET, VOID.vocabulary)}
    assert {"https://w3id.org/meent/def#", "http://www.w3.org/ns/org#"} <= vocabularies


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        (None, "turtle"),
        ("*/*", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-triples", "nt"),
    ],
)
def test_void_negotiation(client: TestClient, accept: str | None, fmt: str) -> None:
    request = client.build_request("GET", "/.well-known/void", headers={"Accept": accept or ""})
    if accept is None:
        del request.headers["accept"]
    response = client.send(request)
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format=fmt)
    assert (DATASET, RDF.type, VOID.Dataset) in graph


def test_void_304(client: TestClient) -> None:
    first = client.get("/.well-known/void")
    again = client.get("/.well-known/void", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(("interval", "follows"), [(3600.0, False), (0.0, True)])
def test_statistics_follow_writes_after_the_interval(
    tmp_path: Path, interval: float, follows: bool
) -> None:
    """Counting scans the whole store: within ``dump_interval`` of the last count a write
    does not set off another (the dumps the description points at wait the same way)."""
    settings = Settings(
        store="memory", project_root=ROOT, dumps_dir=tmp_path / "dumps", dump_interval=interval
    )
    with TestClient(create_app(settings)) as client:

        def triples() -> int:
            graph = Graph().parse(data=client.get("/.well-known/void").text, format="turtle")
            return _int(graph, DATASET, VOID.triples)

        before = triples()
        store = client.app.state.services.store  # type: ignore[attr-defined]
        body = (
            '<https://w3id.org/meent/id/test/v> <http://www.w3.org/2000/01/rdf-schema#label> "v" .'
        )
        client.portal.call(
            functools.partial(
                store.replace_graph,
                "https://w3id.org/meent/graph/test/v",
                body,
                format=ox.RdfFormat.N_TRIPLES,
            )
        )
        if follows:  # counted again in the background, the older count served meanwhile
            assert eventually(triples, lambda n: n == before + 1) == before + 1
        else:
            assert triples() == before
            time.sleep(0.3)
            assert triples() == before
