"""The Service Description of ``/sparql`` (https://www.w3.org/TR/sparql11-service-description/),
after the W3C test cases in ``../shared/conformance/w3c-sparql11/service-description/``:
``returns-rdf``, ``has-endpoint-triple`` and ``conforms-to-schema`` — in every RDF format, on
both stores, with VoID counts that match the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Namespace

from service.config import Settings
from service.rdf.conneg import GRAPH_FORMATS, RESULT_FORMATS
from service.web.app import create_app

SHARED = Path(__file__).resolve().parents[2] / "shared"
SD_MANIFEST = SHARED / "conformance/w3c-sparql11/service-description/manifest.ttl"
PROTOCOL_DATASET = SHARED / "conformance/fixtures/protocol-dataset.trig"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
ENDPOINT = "http://testserver/sparql"


def manifest_tests() -> list[str]:
    graph = Graph().parse(SD_MANIFEST, format="turtle")
    return sorted(
        str(t).rpartition("#")[2] for t in graph.subjects(RDF.type, MF.ServiceDescriptionTest)
    )


def test_the_manifest_has_the_three_cases_tested_here() -> None:
    assert manifest_tests() == ["conforms-to-schema", "has-endpoint-triple", "returns-rdf"]


@pytest.fixture(scope="module", params=["memory", "remote"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The memory app holds the whole project (synced at start); the remote one the W3C
    protocol dataset, loaded into an emptied ``oxigraph serve``."""
    if request.param == "memory":
        app = create_app(Settings(store="memory"))
        with TestClient(app) as test_client:
            yield test_client
        return
    server = request.getfixturevalue("oxigraph_server")
    httpx.post(
        server + "update",
        content=b"DROP ALL",
        headers={"Content-Type": "application/sparql-update"},
    ).raise_for_status()
    app = create_app(Settings(remote=server, sync_on_start=False))
    with TestClient(app) as test_client:
        graphs: dict[str, list[ox.Triple]] = {}
        for quad in ox.parse(path=PROTOCOL_DATASET, format=ox.RdfFormat.TRIG):
            graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
        assert test_client.portal is not None
        for graph_iri, triples in graphs.items():
            test_client.portal.call(app.state.services.store.replace_graph, graph_iri, triples)
        yield test_client


def describe(client: TestClient, accept: str | None) -> set[ox.Triple]:
    """returns-rdf: a bare GET answers RDF in the negotiated format."""
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/sparql", headers=headers)
    assert response.status_code == 200, response.text
    media_type = response.headers["content-type"].split(";")[0]
    if accept is not None and "*" not in accept:
        assert media_type == accept
    assert "Accept" in response.headers["vary"]
    fmt = ox.RdfFormat.from_media_type(media_type)
    assert fmt is not None
    return {quad.triple for quad in ox.parse(response.content, fmt)}


def objects(triples: set[ox.Triple], subject: ox.Node, predicate: str) -> list[ox.Term]:
    return [t.object for t in triples if t.subject == subject and t.predicate.value == predicate]


def one(triples: set[ox.Triple], subject: ox.Node, predicate: str) -> ox.Term:
    (value,) = objects(triples, subject, predicate)
    return value


def counts(client: TestClient) -> tuple[int, dict[str, int]]:
    app = client.app
    assert isinstance(app, FastAPI) and client.portal is not None
    store = app.state.services.store
    graphs = client.portal.call(store.graph_iris)
    return client.portal.call(store.triple_count), {
        g: client.portal.call(store.triple_count, g) for g in graphs
    }


@pytest.mark.parametrize(
    "accept", [None, "*/*", *(f.media_type for f in GRAPH_FORMATS)], ids=lambda a: a or "none"
)
def test_service_description(client: TestClient, accept: str | None) -> None:
    triples = describe(client, accept)
    service = ox.NamedNode(ENDPOINT)

    # has-endpoint-triple: ?service sd:endpoint <the URL the request went to>.
    endpoints = [t for t in triples if t.predicate.value == SD + "endpoint"]
    assert [(t.subject, t.object) for t in endpoints] == [(service, service)]

    # conforms-to-schema (the SD vocabulary's domains and ranges).
    assert ox.NamedNode(SD + "Service") in objects(triples, service, RDF_TYPE)
    assert ox.NamedNode(SD + "SPARQL11Query") in objects(triples, service, SD + "supportedLanguage")
    assert ox.NamedNode(SD + "SPARQL11Update") not in objects(
        triples, service, SD + "supportedLanguage"
    )
    formats = {f.value for f in objects(triples, service, SD + "resultFormat")}
    assert all(f.startswith(FORMATS) for f in formats)
    assert formats == {
        FORMATS + name
        for name in (
            "SPARQL_Results_JSON",
            "SPARQL_Results_XML",
            "SPARQL_Results_CSV",
            "SPARQL_Results_TSV",
            "Turtle",
            "N-Triples",
            "JSON-LD",
            "RDF_XML",
            "N-Quads",
            "TriG",
        )
    }
    assert len(formats) == len(RESULT_FORMATS) + len(GRAPH_FORMATS)
    features = objects(triples, service, SD + "feature")
    assert ox.NamedNode(SD + "UnionDefaultGraph") in features
    assert ox.NamedNode(SD + "BasicFederatedQuery") not in features

    dataset = one(triples, service, SD + "defaultDataset")
    assert objects(triples, dataset, RDF_TYPE) == [ox.NamedNode(SD + "Dataset")]
    default_graph = one(triples, dataset, SD + "defaultGraph")
    assert objects(triples, default_graph, RDF_TYPE) == [ox.NamedNode(SD + "Graph")]

    # void:triples match the store's real counts.
    total, per_graph = counts(client)
    assert total > 0 and len(per_graph) >= 3
    assert one(triples, default_graph, VOID + "triples") == ox.Literal(
        str(total), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    )
    described = {}
    for named in objects(triples, dataset, SD + "namedGraph"):
        assert objects(triples, named, RDF_TYPE) == [ox.NamedNode(SD + "NamedGraph")]
        name = one(triples, named, SD + "name")
        graph = one(triples, named, SD + "graph")
        assert objects(triples, graph, RDF_TYPE) == [ox.NamedNode(SD + "Graph")]
        described[name.value] = int(one(triples, graph, VOID + "triples").value)
    assert described == per_graph
    assert sum(described.values()) == total


def test_the_counts_are_those_of_a_query(client: TestClient) -> None:
    """Cross-check the store's counts through /sparql itself."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    response = client.get("/sparql", params={"query": query})
    rows = response.json()["results"]["bindings"]
    queried = {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
    total, per_graph = counts(client)
    assert {g: n for g, n in queried.items() if g in per_graph} == per_graph
    assert sum(per_graph.values()) == total


def test_federation_is_described_when_on() -> None:
    app = create_app(Settings(store="memory", sync_on_start=False, federation=True))
    with TestClient(app) as test_client:
        triples = describe(test_client, "application/n-triples")
    features = objects(triples, ox.NamedNode(ENDPOINT), SD + "feature")
    assert ox.NamedNode(SD + "BasicFederatedQuery") in features


def test_the_endpoint_is_the_request_url(client: TestClient) -> None:
    response = client.get(
        "/sparql", headers={"Accept": "application/n-triples", "Host": "meent.example:8443"}
    )
    triples = {q.triple for q in ox.parse(response.content, ox.RdfFormat.N_TRIPLES)}
    endpoint = ox.NamedNode("http://meent.example:8443/sparql")
    assert [(t.subject, t.object) for t in triples if t.predicate.value == SD + "endpoint"] == [
        (endpoint, endpoint)
    ]


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "image/png"])
def test_a_bare_get_for_another_type_is_a_406(client: TestClient, accept: str) -> None:
    response = client.get("/sparql", headers={"Accept": accept})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    supported = response.json()["supported"]
    assert "text/turtle" in supported and "text/html" in supported
