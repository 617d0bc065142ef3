"""Every triple format of a document carries the same graph; JSON-LD is compacted (issue 19).

For each kind of document — a resource, the vocabularies, the catalogue, VoID, the service
description, the examples, CONSTRUCT and DESCRIBE answers — the Turtle, N-Triples, RDF/XML and
JSON-LD answers are one graph in the default graph. The JSON-LD is compacted with Meent's
context, embedded; pyld (a second JSON-LD implementation, not the one that wrote it) expands it
to exactly the Turtle's graph, and so does rdflib, which reads the default graph as most
consumers do. The quad formats keep the named graphs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyld import jsonld
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

NOORDOOGST = "https://w3id.org/meent/id/commons/noordoogst"
CONSTRUCT = (
    "PREFIX meent: <https://w3id.org/meent/def#>\n"
    "CONSTRUCT { ?k ?p ?o } WHERE { ?k a meent:Koppel ; ?p ?o }"
)
#: (path, query parameters) of every kind of document with RDF representations.
DOCUMENTS = [
    ("/doc/commons/noordoogst", {}),
    ("/def", {}),
    ("/shapes", {}),
    ("/catalog", {}),
    ("/.well-known/void", {}),
    ("/.well-known/sparql-examples", {}),
    ("/sparql", {}),  # the service description
    ("/sparql", {"query": CONSTRUCT}),
    ("/sparql", {"query": f"DESCRIBE <{NOORDOOGST}>"}),
]
IDS = ["doc", "def", "shapes", "catalog", "void", "examples", "service", "construct", "describe"]
MEENT_DEF = "https://w3id.org/meent/def#"


@pytest.fixture(scope="module")
def client(project_client: TestClient) -> TestClient:
    return project_client


def _get(client: TestClient, path: str, params: dict[str, str], accept: str) -> str:
    response = client.get(path, params=params, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == accept
    return response.text


def _keys(node: Any) -> set[str]:
    """Every key of a JSON-LD document, at any depth."""
    if isinstance(node, dict):
        return set(node) | {k for value in node.values() for k in _keys(value)}
    if isinstance(node, list):
        return {k for item in node for k in _keys(item)}
    return set()


@pytest.mark.parametrize(("path", "params"), DOCUMENTS, ids=IDS)
def test_every_triple_format_is_the_turtle_graph(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    turtle = Graph().parse(data=_get(client, path, params, "text/turtle"), format="turtle")
    assert len(turtle) > 0
    for accept, parser in (("application/n-triples", "nt"), ("application/rdf+xml", "xml")):
        other = Graph().parse(data=_get(client, path, params, accept), format=parser)
        assert isomorphic(other, turtle), accept
    text = _get(client, path, params, "application/ld+json")
    # rdflib reads the default graph, as most consumers do.
    assert isomorphic(Graph().parse(data=text, format="json-ld"), turtle)
    # pyld expands it to the same graph, and to nothing in a named graph.
    nquads = jsonld.to_rdf(json.loads(text), {"format": "application/n-quads"})
    dataset = Dataset()
    dataset.parse(data=nquads, format="nquads")
    assert {g.identifier for g in dataset.graphs() if len(g)} <= {dataset.default_graph.identifier}
    assert isomorphic(Graph().parse(data=nquads, format="nt"), turtle)


@pytest.mark.parametrize(("path", "params"), DOCUMENTS, ids=IDS)
def test_jsonld_is_compacted_with_the_embedded_context(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    document = json.loads(_get(client, path, params, "application/ld+json"))
    assert isinstance(document, dict)
    context = document["@context"]
    assert isinstance(context, dict), "embedded, so it works offline"
    assert context["Koppel"] == MEENT_DEF + "Koppel"
    keys = _keys({k: v for k, v in document.items() if k != "@context"})
    assert not [k for k in keys if k.startswith("http")], "full IRIs where a term would do"


def test_the_context_is_the_published_one(client: TestClient) -> None:
    published = client.get("/def/context.jsonld").json()["@context"]
    document = json.loads(_get(client, "/doc/commons/noordoogst", {}, "application/ld+json"))
    assert document["@context"] == published


@pytest.mark.parametrize("accept", ["application/trig", "application/n-quads"])
def test_the_quad_formats_keep_the_named_graphs(client: TestClient, accept: str) -> None:
    fmt = "trig" if accept == "application/trig" else "nquads"
    dataset = Dataset()
    dataset.parse(data=_get(client, "/doc/commons/noordoogst", {}, accept), format=fmt)
    named = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert "https://w3id.org/meent/graph/data/collectives" in named, named
