# ruff: noqa: E501  (Turtle snippets read best on one line)
"""The contribution intake (issue 6) on an in-memory store synced from the real project:
accepted, warnings, violations, conflicts with published data, syntax errors, media types,
size, tokens and roles, replace, retract, review mode, personal data, protected terms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph
from rdflib.compare import isomorphic

from service.config import Settings
from service.contrib.tokens import Role
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
BASE = "https://w3id.org/meent/"
TTL = {"Content-Type": "text/turtle"}
PREFIXES = (
    b"@prefix dct: <http://purl.org/dc/terms/> .\n"
    b"@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
    b"@prefix meent: <https://w3id.org/meent/def#> .\n"
    b"@prefix prov: <http://www.w3.org/ns/prov#> .\n"
    b"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    b"@prefix schema: <https://schema.org/> .\n"
    b"@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
)


def _client(**settings: object) -> Iterator[TestClient]:
    app = create_app(Settings(store="memory", project_root=ROOT, **settings))
    with TestClient(app) as client:
        client.get("/contributions")  # makes the intake
        yield client


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    yield from _client(max_contribution_bytes=20_000)


def _auth(client: TestClient, name: str, role: Role = Role.contributor) -> dict[str, str]:
    _, secret = client.app.state.services.intake.tokens.create(name, role)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {secret}"}


def _koppel(slug: str) -> bytes:
    return KOPPEL.replace(b"2024-test-contribution", slug.encode())


def _ask(client: TestClient, query: str) -> bool:
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def test_accepted_is_stored_with_its_provenance_in_its_own_graph(client: TestClient) -> None:
    response = client.post(
        "/contributions",
        content=_koppel("k-accepted"),
        headers={**TTL, **_auth(client, "koppel-a")},
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert response.headers["location"] == f"/contributions/{answer['id']}"
    graph = f"{BASE}graph/contribution/{answer['id']}"
    record = f"{BASE}id/contribution/{answer['id']}"
    sha = answer["sha256"]
    assert _ask(
        client,
        f"""ASK {{ GRAPH <{graph}> {{
            <{BASE}id/koppel/k-accepted> a <{BASE}def#Koppel> .
            <{record}> <http://www.w3.org/ns/prov#wasAttributedTo> ?who ;
              <http://www.w3.org/ns/prov#generatedAtTime> ?when ;
              <http://purl.org/dc/terms/license> <https://creativecommons.org/licenses/by/4.0/> ;
              <http://spdx.org/rdf/terms#checksum>/<http://spdx.org/rdf/terms#checksumValue> "{sha}" ;
              <http://www.w3.org/ns/prov#wasGeneratedBy>/<http://www.w3.org/ns/prov#generated> ?report ;
              <{BASE}def#standing> <https://w3id.org/meent/id/standing/reported-by-contributor> .
            ?who <http://www.w3.org/2000/01/rdf-schema#label> "koppel-a" .
            ?report <http://www.w3.org/2002/07/owl#versionInfo> "1.1.0" }} }}""",
    )
    detail = client.get(answer["location"]).json()
    assert detail["contributor"] == "koppel-a" and detail["shapesVersion"] == "1.1.0"
    assert "k-accepted" in detail["data"] and "id/contribution/" not in detail["data"]
    turtle = client.get(answer["location"], headers={"Accept": "text/turtle"})
    triples = list(ox.parse(turtle.content, ox.RdfFormat.TURTLE))
    assert len(triples) == answer["triples"] == 9
    # Its JSON-LD is the same graph, compacted with Meent's context (service/rdf/writing.py).
    jsonld = client.get(answer["location"], headers={"Accept": "application/ld+json"}).json()
    assert jsonld["@context"]["Koppel"] == f"{BASE}def#Koppel"
    assert isomorphic(
        Graph().parse(data=json.dumps(jsonld), format="json-ld"),
        Graph().parse(data=turtle.text, format="turtle"),
    )
    listed = client.get("/contributions").json()["items"]
    assert answer["id"] in [item["id"] for item in listed]
    page = client.get("/doc/koppel/k-accepted", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Test koppel" in page.text


def test_warnings_do_not_block(client: TestClient) -> None:
    body = _koppel("k-warned").replace(
        b'    dct:description "Een koppel uit een bijdrage."@nl, "A koppel from a contribution."@en ;\n',
        b"",
    )
    response = client.post(
        "/contributions", content=body, headers={**TTL, **_auth(client, "koppel-w")}
    )
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] >= 1 and response.json()["violations"] == 0
    detail = client.get(response.headers["location"]).json()
    assert detail["warnings"], "the record keeps the warnings it passed with"


def test_violation_report_in_dutch_with_the_line_of_the_block(client: TestClient) -> None:
    body = (
        PREFIXES
        + b"\n"
        + _koppel("k-bad").replace(
            b"meent:inCohort <https://w3id.org/meent/id/cohort/amsterdoen-2024> ;", b""
        )
    )
    body = body.replace(
        b"@prefix dct: <http://purl.org/dc/terms/> .\n@prefix meent: <https://w3id.org/meent/def#> .\n@prefix prov: <http://www.w3.org/ns/prov#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n",
        b"",
        1,
    )
    response = client.post(
        "/contributions",
        content=body,
        headers={**TTL, **_auth(client, "koppel-b"), "Accept-Language": "nl"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    (result,) = [r for r in response.json()["results"] if r["path"] == f"{BASE}def#inCohort"]
    expected_line = body.decode().splitlines().index(f"<{BASE}id/koppel/k-bad>") + 1
    assert result["line"] == expected_line
    assert result["focusNode"] == f"{BASE}id/koppel/k-bad" and result["severity"] == "Violation"
    assert result["message"].startswith("Noem het ene cohort")
    turtle = client.post(
        "/contributions",
        content=body,
        headers={**TTL, **_auth(client, "koppel-b"), "Accept": "text/turtle"},
    )
    assert turtle.status_code == 422 and turtle.headers["content-type"].startswith("text/turtle")
    assert "ValidationReport" in turtle.text
    assert not _ask(client, f"ASK {{ <{BASE}id/koppel/k-bad> ?p ?o }}")


@pytest.mark.parametrize(
    ("name", "body", "path"),
    [
        (
            "second founding date",
            b'<https://w3id.org/meent/id/organisation/commons-network> schema:foundingDate "2015"^^xsd:gYear .',
            "https://schema.org/foundingDate",
        ),
        (
            "unit that does not exist",
            b"<https://w3id.org/meent/id/koppel/2024-noordoogst> meent:municipalUnit <https://w3id.org/meent/id/unit/nowhere> .",
            "https://w3id.org/meent/def#municipalUnit",
        ),
        (
            "person with e-mail",
            b'<https://w3id.org/meent/id/person/p> a foaf:Person ; foaf:name "P" ; foaf:mbox <mailto:p@example.org> .',
            "http://xmlns.com/foaf/0.1/mbox",
        ),
        (
            "person without consent",
            b"<https://w3id.org/meent/id/koppel/2024-noordoogst> meent:initiator <https://w3id.org/meent/id/person/nobody> .",
            "https://w3id.org/meent/def#consent",
        ),
        (
            "redefines an ontology term",
            b'meent:Koppel rdfs:label "Stel"@nl .',
            None,
        ),
        (
            "defines a class",
            b"<https://w3id.org/meent/id/x> rdfs:subClassOf meent:Koppel .",
            "http://www.w3.org/2000/01/rdf-schema#subClassOf",
        ),
        (
            "adds a concept to a scheme",
            b'<https://w3id.org/meent/id/theme/mine> a <http://www.w3.org/2004/02/skos/core#Concept> ; <http://www.w3.org/2004/02/skos/core#prefLabel> "mine"@en ; <http://www.w3.org/2004/02/skos/core#inScheme> <https://w3id.org/meent/id/scheme/themes> .',
            "http://www.w3.org/2004/02/skos/core#inScheme",
        ),
        (
            "writes a contribution record",
            b'<https://w3id.org/meent/id/contribution/20240101-000000000000> rdfs:label "fake"@en .',
            None,
        ),
    ],
)
def test_refused(client: TestClient, name: str, body: bytes, path: str | None) -> None:
    response = client.post(
        "/contributions", content=PREFIXES + body, headers={**TTL, **_auth(client, "koppel-r")}
    )
    assert response.status_code == 422, (name, response.text)
    results = response.json()["results"]
    assert any(r["severity"] == "Violation" and r["path"] == path for r in results), results
    assert all(
        r["line"] == 8
        for r in results
        if r["focusNode"].startswith("https://w3id.org/meent/id/contribution")
    )


def test_syntax_error_has_line_and_column(client: TestClient) -> None:
    body = PREFIXES + b"<https://w3id.org/meent/id/x> rdfs:label 'x'@en ; rdfs:label ."
    response = client.post(
        "/contributions", content=body, headers={**TTL, **_auth(client, "koppel-s")}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["line"] == 8 and response.json()["column"] is not None


def test_media_types_and_size(client: TestClient) -> None:
    auth = _auth(client, "koppel-m")
    trig = client.post(
        "/contributions", content=b"{}", headers={"Content-Type": "application/trig", **auth}
    )
    assert trig.status_code == 415
    big = client.post("/contributions", content=b"#" * 20_001, headers={**TTL, **auth})
    assert big.status_code == 413
    nt = ox.serialize(ox.parse(_koppel("k-nt"), ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES)
    assert (
        client.post(
            "/contributions", content=nt, headers={"Content-Type": "application/n-triples", **auth}
        ).status_code
        == 201
    )
    jsonld = ox.serialize(
        ox.parse(_koppel("k-jsonld"), ox.RdfFormat.TURTLE), format=ox.RdfFormat.JSON_LD
    )
    assert (
        client.post(
            "/contributions",
            content=jsonld,
            headers={"Content-Type": "application/ld+json", **auth},
        ).status_code
        == 201
    )
    form = client.post(
        "/contributions", files={"file": ("k.ttl", _koppel("k-form"), "text/turtle")}, headers=auth
    )
    assert form.status_code == 201, form.text


def test_tokens_and_roles(client: TestClient) -> None:
    none = client.post("/contributions", content=_koppel("k-anon"), headers=TTL)
    assert none.status_code == 401 and none.headers["www-authenticate"].startswith("Bearer")
    bad = client.post(
        "/contributions", content=_koppel("k-anon"), headers={**TTL, "Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401 and "invalid_token" in bad.headers["www-authenticate"]
    dry = client.post("/contributions?dry-run=true", content=_koppel("k-dry"), headers=TTL)
    assert dry.status_code == 200 and dry.json()["conforms"] is True
    assert (
        client.post("/contributions/validate", content=_koppel("k-dry"), headers=TTL).status_code
        == 200
    )
    assert not _ask(client, f"ASK {{ <{BASE}id/koppel/k-dry> ?p ?o }}")
    owner, other, curator = (
        _auth(client, "owner"),
        _auth(client, "other"),
        _auth(client, "cur", Role.curator),
    )
    location = client.post(
        "/contributions", content=_koppel("k-owned"), headers={**TTL, **owner}
    ).headers["location"]
    assert client.delete(location, headers=other).status_code == 403
    assert client.post(f"{location}/accept", headers=owner).status_code == 403
    changed = _koppel("k-owned").replace(b"Testkoppel", b"Veranderd koppel")
    page = client.get("/doc/koppel/k-owned", headers={"Accept": "text/turtle"})
    assert client.put(location, content=changed, headers={**TTL, **other}).status_code == 403
    assert client.put(location, content=changed, headers={**TTL, **owner}).status_code == 200
    # Same graph name, same metadata keys: the validators must still change with the text.
    revalidated = client.get(
        "/doc/koppel/k-owned",
        headers={"Accept": "text/turtle", "If-None-Match": page.headers["etag"]},
    )
    assert revalidated.status_code == 200 and "Veranderd koppel" in revalidated.text
    assert _ask(client, f'ASK {{ <{BASE}id/koppel/k-owned> ?p "Veranderd koppel (2024)"@nl }}')
    assert not _ask(client, f'ASK {{ <{BASE}id/koppel/k-owned> ?p "Testkoppel (2024)"@nl }}')
    assert client.delete(location, headers=curator).status_code == 200
    assert not _ask(client, f"ASK {{ <{BASE}id/koppel/k-owned> ?p ?o }}")
    detail = client.get(location).json()
    assert detail["status"] == "retracted" and detail["contributor"] == "owner"
    assert _ask(
        client,
        f"ASK {{ <{BASE}id/contribution/{location.rsplit('/', 1)[1]}> <http://www.w3.org/ns/prov#invalidatedAtTime> ?t }}",
    )


def test_replace_is_validated_against_the_store_without_its_old_self(client: TestClient) -> None:
    auth = _auth(client, "founder")
    body = (
        PREFIXES
        + b'<https://w3id.org/meent/id/organisation/new-org> a <http://www.w3.org/ns/org#Organization> ; rdfs:label "Nieuw"@nl, "New"@en ; prov:wasDerivedFrom <https://w3id.org/meent/id/source/publiek-collectief-samenwerken-hoedan> ; schema:foundingDate "2020"^^xsd:gYear .'
    )
    location = client.post("/contributions", content=body, headers={**TTL, **auth}).headers[
        "location"
    ]
    again = body.replace(b'"2020"', b'"2021"')
    assert client.put(location, content=again, headers={**TTL, **auth}).status_code == 200
    assert (
        client.post(
            "/contributions", content=again.replace(b'"2021"', b'"2022"'), headers={**TTL, **auth}
        ).status_code
        == 422
    )


def test_review_mode_keeps_pending_data_out_of_the_public_graph() -> None:
    for client in _client(review_mode=True):
        contributor, curator = _auth(client, "koppel-p"), _auth(client, "curator", Role.curator)
        first = client.post(
            "/contributions", content=_koppel("k-pending"), headers={**TTL, **contributor}
        )
        assert first.status_code == 201 and first.json()["status"] == "pending"
        assert not _ask(client, f"ASK {{ GRAPH ?g {{ <{BASE}id/koppel/k-pending> ?p ?o }} }}")
        assert client.get(first.headers["location"]).status_code == 401
        assert [
            p["id"] for p in client.get("/contributions", headers=curator).json()["pending"]
        ] == [first.json()["id"]]
        assert (
            client.post(first.headers["location"] + "/accept", headers=contributor).status_code
            == 403
        )
        assert (
            client.post(first.headers["location"] + "/accept", headers=curator).status_code == 200
        )
        assert _ask(client, f"ASK {{ <{BASE}id/koppel/k-pending> ?p ?o }}")
        second = client.post(
            "/contributions", content=_koppel("k-rejected"), headers={**TTL, **contributor}
        )
        assert (
            client.post(second.headers["location"] + "/reject", headers=curator).status_code == 200
        )
        assert not _ask(client, f"ASK {{ <{BASE}id/koppel/k-rejected> ?p ?o }}")
