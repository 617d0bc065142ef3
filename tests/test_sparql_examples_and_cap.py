"""``/.well-known/sparql-examples`` and the configurable result-row cap of ``/sparql``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.rdf.queries import read_queries
from service.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
SH = "http://www.w3.org/ns/shacl#"
KOPPELS = "SELECT ?k WHERE { ?k a <https://w3id.org/meent/def#Koppel> } ORDER BY ?k"


@pytest.fixture(scope="module")
def capped() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store="memory", max_result_rows=3))) as client:
        yield client


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store="memory"))) as client:
        yield client


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return json.loads(response.text)["results"]["bindings"]


def test_without_a_cap_every_row_comes_back(client: TestClient, curated_koppels: set[str]) -> None:
    response = client.get("/sparql", params={"query": KOPPELS})
    assert sorted(r["k"]["value"] for r in rows(response)) == sorted(curated_koppels)
    assert "meent-result-cap" not in response.headers


def test_the_cap_limits_rows_and_says_so(capped: TestClient) -> None:
    response = capped.get("/sparql", params={"query": KOPPELS})
    assert len(rows(response)) == 3
    assert response.headers["meent-result-cap"] == "3"


def test_a_lower_limit_of_the_query_stands(capped: TestClient) -> None:
    response = capped.get("/sparql", params={"query": KOPPELS + " LIMIT 2"})
    assert len(rows(response)) == 2


def test_the_cap_leaves_ask_alone(capped: TestClient) -> None:
    response = capped.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert json.loads(response.text)["boolean"] is True


def test_examples_are_published_as_sparql_executables(client: TestClient) -> None:
    response = client.get("/.well-known/sparql-examples")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    triples = list(ox.parse(response.content, ox.RdfFormat.TURTLE))
    executables = {
        t.subject.value
        for t in triples
        if t.predicate.value.endswith("#type") and t.object.value == SH + "SPARQLExecutable"
    }
    slugs = {example.slug for example in read_queries(ROOT / "queries")}
    assert executables == {f"https://w3id.org/meent/id/query/{slug}" for slug in slugs}
    targets = {t.object.value for t in triples if t.predicate.value == "https://schema.org/target"}
    assert targets == {"http://testserver/sparql"}


def test_examples_by_negotiation(client: TestClient) -> None:
    response = client.get("/.well-known/sparql-examples", headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    assert list(ox.parse(response.content, ox.RdfFormat.JSON_LD))
    refused = client.get("/.well-known/sparql-examples", headers={"Accept": "text/csv"})
    assert refused.status_code == 406
    assert refused.headers["content-type"] == "application/problem+json"


def test_every_example_runs_on_the_endpoint(client: TestClient) -> None:
    for example in read_queries(ROOT / "queries"):
        response = client.post(
            "/sparql",
            content=example.query_text,
            headers={"Content-Type": "application/sparql-query"},
        )
        assert response.status_code == 200, (example.slug, response.text)


def test_example_iris_dereference(client: TestClient) -> None:
    """Every IRI Meent mints resolves: the examples are loaded into ``graph/queries``."""
    redirect = client.get("/id/query/koppels-per-theme", follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"].endswith("/doc/query/koppels-per-theme")
    document = client.get("/doc/query/koppels-per-theme.nt")
    assert document.status_code == 200
    triples = list(ox.parse(document.content, ox.RdfFormat.N_TRIPLES))
    selects = [t.object.value for t in triples if t.predicate.value == SH + "select"]
    assert len(selects) == 1 and "meent:theme" in selects[0]
