"""``/sparql`` against the SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/).

The core is table-driven from the W3C test manifest (``../shared/conformance/w3c-sparql11/
protocol/manifest.ttl``), run over HTTP against the app on both stores: embedded Oxigraph in
memory and a RemoteSparqlStore on a real ``oxigraph serve``. Meent deliberately departs from
the manifest in one place: SPARQL Update is refused (403) — data changes only through
contributions — so the ``update_*`` tests check the refusal and that nothing changed.
Around the manifest: every result format, content negotiation, HEAD/OPTIONS/CORS, the dataset
really being restricted, federation, limits, hostile input (never a 500) and streaming.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import anyio
import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from service.config import Settings
from service.rdf.conneg import GRAPH_FORMATS, RESULT_FORMATS
from service.web.app import create_app

SHARED = Path(__file__).resolve().parents[2] / "shared"
PROTOCOL_MANIFEST = SHARED / "conformance/w3c-sparql11/protocol/manifest.ttl"
PROTOCOL_DATASET = SHARED / "conformance/fixtures/protocol-dataset.trig"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")

DATA = "http://kasei.us/2009/09/sparql/data/"
DATA1, DATA2, DATA3 = (f"{DATA}data{n}.rdf" for n in (1, 2, 3))
FOAF_DOCUMENT = "http://xmlns.com/foaf/0.1/Document"
PROBLEM = "application/problem+json"
SPARQL_QUERY = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"


# --- the W3C manifest --------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestRequest:
    method: str
    path: str  # mapped onto /sparql
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[int]  # acceptable status classes: 2, 3, 4
    boolean: bool | None
    result_kind: str | None  # "boolean", "tabular", "RDF"


@dataclass(frozen=True)
class ManifestTest:
    name: str
    title: str
    requests: tuple[ManifestRequest, ...]


def _literal(graph: Graph, subject: Node, predicate: URIRef) -> str | None:
    value = graph.value(subject, predicate)
    return None if value is None else str(value)


def _manifest_request(graph: Graph, node: Node) -> ManifestRequest:
    path = _literal(graph, node, HT.absolutePath)
    assert path is not None and path.startswith("/sparql/")
    headers = {}
    header_list = graph.value(node, HT.headers)
    if header_list is not None:
        for header in Collection(graph, header_list):
            headers[str(graph.value(header, HT.fieldName))] = str(
                graph.value(header, HT.fieldValue)
            )
    body = None
    body_node = graph.value(node, HT.body)
    if body_node is not None:
        encoding = _literal(graph, body_node, CNT.characterEncoding) or "UTF-8"
        body = str(graph.value(body_node, CNT.chars)).encode(encoding)
    response = graph.value(node, HT.resp)
    statuses = frozenset(
        int(str(status).removeprefix(str(HTS.StatusCode))[0])
        for status in graph.objects(response, MF.expectedStatus)
    )
    boolean = graph.value(response, MF.expectedBoolean)
    return ManifestRequest(
        method=str(graph.value(node, HT.methodName)),
        path="/sparql" + path.removeprefix("/sparql/"),
        headers=headers,
        body=body,
        statuses=statuses,
        boolean=None if boolean is None else boolean.toPython(),
        result_kind=_literal(graph, response, MF.expectedFormat),
    )


def read_protocol_manifest(path: Path) -> list[ManifestTest]:
    graph = Graph().parse(path, format="turtle")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in Collection(graph, graph.value(manifest, MF.entries)):
        action = graph.value(entry, MF.action)
        requests = Collection(graph, graph.value(action, HT.requests))
        tests.append(
            ManifestTest(
                name=str(entry).rpartition("#")[2],
                title=str(graph.value(entry, MF.name)),
                requests=tuple(_manifest_request(graph, r) for r in requests),
            )
        )
    return tests


PROTOCOL_TESTS = read_protocol_manifest(PROTOCOL_MANIFEST)

#: Meent's answer to each negative test: the manifest only says 4xx.
NEGATIVE_STATUS = {
    "bad_query_method": 405,  # PUT
    "bad_multiple_queries": 400,
    "bad_query_wrong_media_type": 415,  # text/plain
    "bad_query_missing_form_type": 415,
    "bad_query_missing_direct_type": 415,
    "bad_query_non_utf8": 415,  # charset=UTF-16
    "bad_query_syntax": 400,
    "bad_update_get": 403,
    "bad_multiple_updates": 403,
    "bad_update_wrong_media_type": 415,
    "bad_update_missing_form_type": 415,
    "bad_update_non_utf8": 403,
    "bad_update_syntax": 403,
    "bad_update_dataset_conflict": 403,
}


def test_the_manifest_is_read_whole() -> None:
    names = [t.name for t in PROTOCOL_TESTS]
    assert len(names) == 34 == len(set(names))
    assert {n for n in names if n.startswith("bad_")} == set(NEGATIVE_STATUS)
    assert sum(len(t.requests) for t in PROTOCOL_TESTS) == 39


# --- apps on both stores -----------------------------------------------------------------------


def _drop_all(server: str) -> None:
    response = httpx.post(
        server + "update",
        content=b"DROP ALL",
        headers={"Content-Type": "application/sparql-update"},
    )
    response.raise_for_status()


def load_trig(client: TestClient, app: FastAPI, path: Path) -> None:
    """Each named graph of a TriG file into the app's store, through the Store API."""
    graphs: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(path=path, format=ox.RdfFormat.TRIG):
        assert isinstance(quad.graph_name, ox.NamedNode)
        graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
    assert client.portal is not None
    for graph_iri, triples in graphs.items():
        client.portal.call(app.state.services.store.replace_graph, graph_iri, triples)


@pytest.fixture(scope="module", params=["memory", "remote"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The app on an in-memory Oxigraph and on a RemoteSparqlStore over ``oxigraph serve``,
    holding only the W3C protocol dataset (three named graphs)."""
    if request.param == "memory":
        settings = Settings(store="memory", sync_on_start=False)
    else:
        server = request.getfixturevalue("oxigraph_server")
        _drop_all(server)
        settings = Settings(remote=server, sync_on_start=False)
    app = create_app(settings)
    with TestClient(app) as test_client:
        load_trig(test_client, app, PROTOCOL_DATASET)
        yield test_client


def triple_count(client: TestClient) -> int:
    assert client.portal is not None
    app = client.app
    assert isinstance(app, FastAPI)
    return client.portal.call(app.state.services.store.triple_count)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def parse_results(response: httpx.Response) -> ox.QuerySolutions | ox.QueryBoolean:
    fmt = ox.QueryResultsFormat.from_media_type(media_type(response))
    assert fmt is not None, response.headers["content-type"]
    return ox.parse_query_results(response.content, fmt)


def parse_graph(response: httpx.Response) -> set[ox.Triple]:
    fmt = ox.RdfFormat.from_media_type(media_type(response))
    assert fmt is not None, response.headers["content-type"]
    return {q.triple for q in ox.parse(response.content, fmt)}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert media_type(response) == PROBLEM
    problem = response.json()
    assert problem["status"] == status and problem["detail"]
    return problem


def send(client: TestClient, request: ManifestRequest) -> httpx.Response:
    return client.request(
        request.method, request.path, headers=request.headers, content=request.body
    )


# --- the manifest, test by test ----------------------------------------------------------------


def _check_success(request: ManifestRequest, response: httpx.Response) -> None:
    assert response.status_code // 100 in request.statuses, response.text
    kind = request.result_kind
    if kind in ("boolean", "tabular"):
        assert media_type(response) in {f.media_type for f in RESULT_FORMATS}
        result = parse_results(response)
        if kind == "boolean":
            assert isinstance(result, ox.QueryBoolean)
            if request.boolean is not None:
                assert bool(result) is request.boolean
        else:
            assert isinstance(result, ox.QuerySolutions)
            assert [[t.value for t in row] for row in result] == [["1"]]
    elif kind == "RDF":
        assert media_type(response) in {f.media_type for f in GRAPH_FORMATS}
        parse_graph(response)


@pytest.mark.parametrize(
    "test", [t for t in PROTOCOL_TESTS if t.name.startswith("query_")], ids=lambda t: t.name
)
def test_w3c_query(client: TestClient, test: ManifestTest) -> None:
    for request in test.requests:
        _check_success(request, send(client, request))


@pytest.mark.parametrize(
    "test", [t for t in PROTOCOL_TESTS if t.name.startswith("update_")], ids=lambda t: t.name
)
def test_w3c_update_is_refused(client: TestClient, test: ManifestTest) -> None:
    """Meent's policy, not the manifest's 2xx: the update is refused with 403 and changes
    nothing, so the manifest's follow-up ASKs (true after a real update) answer false."""
    before = triple_count(client)
    update, *checks = test.requests
    assert update.headers.get("content-type") in ("application/sparql-update", FORM)
    problem = assert_problem(send(client, update), 403)
    assert "contribution" in problem["detail"]
    assert triple_count(client) == before == 3
    for check in checks:
        response = send(client, check)
        assert response.status_code == 200, response.text
        assert check.boolean is True
        assert bool(parse_results(response)) is False


@pytest.mark.parametrize(
    "test", [t for t in PROTOCOL_TESTS if t.name.startswith("bad_")], ids=lambda t: t.name
)
def test_w3c_negative(client: TestClient, test: ManifestTest) -> None:
    (request,) = test.requests
    assert request.statuses == {4}
    response = send(client, request)
    assert_problem(response, NEGATIVE_STATUS[test.name])
    if response.status_code == 405:
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert triple_count(client) == 3


# --- the dataset is really restricted (§2.1.4, SPARQL 1.1 Query §13) ---------------------------


def _ask(subject: str) -> str:
    return f"<{subject}> a ?type ."


DATASET_CASES = [
    # (id, query, default-graph-uri, named-graph-uri, expected)
    ("union-default", f"ASK {{ {_ask(DATA1)} {_ask(DATA2)} {_ask(DATA3)} }}", [], [], True),
    ("default-1-has-1", f"ASK {{ {_ask(DATA1)} }}", [DATA1], [], True),
    ("default-1-lacks-2", f"ASK {{ {_ask(DATA2)} }}", [DATA1], [], False),
    ("default-1-no-named", "ASK { GRAPH ?g { ?s ?p ?o } }", [DATA1], [], False),
    ("named-1-lacks-2", f"ASK {{ GRAPH ?g {{ {_ask(DATA2)} }} }}", [], [DATA1], False),
    ("named-only-empty-default", "ASK { ?s ?p ?o }", [], [DATA1, DATA2], False),
    ("absent-graph", "ASK { ?s ?p ?o }", [f"{DATA}data0.rdf"], [], False),
    ("from-3-lacks-1", f"ASK FROM <{DATA3}> {{ {_ask(DATA1)} }}", [], [], False),
    ("from-3-has-3", f"ASK FROM <{DATA3}> {{ {_ask(DATA3)} }}", [], [], True),
    ("from-named-1", f"ASK FROM NAMED <{DATA1}> {{ GRAPH ?g {{ {_ask(DATA2)} }} }}", [], [], False),
    # Protocol dataset wins over the query's: no default graph given, so FROM <data3> is void.
    ("protocol-over-from", f"ASK FROM <{DATA3}> {{ {_ask(DATA3)} }}", [], [DATA1], False),
    ("protocol-over-from-2", f"ASK FROM <{DATA3}> {{ {_ask(DATA1)} }}", [DATA1], [], True),
]


@pytest.mark.parametrize("how", ["get", "post-form", "post-direct"])
@pytest.mark.parametrize(
    ("query", "default", "named", "expected"),
    [case[1:] for case in DATASET_CASES],
    ids=[case[0] for case in DATASET_CASES],
)
def test_dataset_is_restricted(
    request: pytest.FixtureRequest,
    client: TestClient,
    how: str,
    query: str,
    default: list[str],
    named: list[str],
    expected: bool,
) -> None:
    dataset = [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]
    if how == "get":
        response = client.get("/sparql?" + urlencode([("query", query), *dataset]))
    elif how == "post-form":
        response = client.post(
            "/sparql",
            content=urlencode([("query", query), *dataset]),
            headers={"Content-Type": FORM},
        )
    else:
        response = client.post(
            "/sparql?" + urlencode(dataset),
            content=query.encode(),
            headers={"Content-Type": SPARQL_QUERY},
        )
    assert response.status_code == 200, response.text
    assert bool(parse_results(response)) is expected


def test_named_graphs_are_exactly_those_given(client: TestClient) -> None:
    params = [("query", "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }")]
    everything = client.get("/sparql?" + urlencode(params))
    assert {row["g"].value for row in parse_results(everything)} == {DATA1, DATA2, DATA3}
    params += [("named-graph-uri", DATA1), ("named-graph-uri", DATA3)]
    restricted = client.get("/sparql?" + urlencode(params))
    assert {row["g"].value for row in parse_results(restricted)} == {DATA1, DATA3}


# --- every format, by Accept and by format= ----------------------------------------------------

SELECT = "SELECT ?s ?type WHERE { GRAPH ?g { ?s a ?type } } ORDER BY ?s"
CONSTRUCT = "CONSTRUCT { ?s a ?type } WHERE { ?s a ?type }"
DESCRIBE = f"DESCRIBE <{DATA2}>"
EXPECTED_ROWS = [[d, FOAF_DOCUMENT] for d in (DATA1, DATA2, DATA3)]
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _triple(subject: str) -> ox.Triple:
    return ox.Triple(ox.NamedNode(subject), RDF_TYPE, ox.NamedNode(FOAF_DOCUMENT))


def _rows(response: httpx.Response) -> list[list[str]]:
    """Rows of a SELECT result; CSV (lossy, pyoxigraph cannot parse it) read as text."""
    if media_type(response) == "text/csv":
        lines = response.text.split("\r\n")
        assert lines[0] == "s,type" and lines[-1] == ""
        return [line.split(",") for line in lines[1:-1]]
    result = parse_results(response)
    assert isinstance(result, ox.QuerySolutions)
    assert [v.value for v in result.variables] == ["s", "type"]
    return [[row["s"].value, row["type"].value] for row in result]


def _by(client: TestClient, how: str, fmt_name: str, media: str, query: str) -> httpx.Response:
    if how == "accept":
        return client.get("/sparql", params={"query": query}, headers={"Accept": media})
    return client.get("/sparql", params={"query": query, "format": fmt_name})


@pytest.mark.parametrize("how", ["accept", "format"])
@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.names[0])
def test_select_in_every_result_format(
    request: pytest.FixtureRequest, client: TestClient, how: str, fmt
) -> None:
    response = _by(client, how, fmt.names[0], fmt.media_type, SELECT)
    assert response.status_code == 200, response.text
    assert media_type(response) == fmt.media_type
    assert _rows(response) == EXPECTED_ROWS


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.names[0])
def test_ask_in_every_result_format(
    request: pytest.FixtureRequest, client: TestClient, fmt
) -> None:
    for query, expected in ((f"ASK {{ {_ask(DATA1)} }}", True), ("ASK { <x> ?p ?o }", False)):
        response = _by(client, "accept", fmt.names[0], fmt.media_type, query)
        assert response.status_code == 200, response.text
        assert media_type(response) == fmt.media_type
        if fmt.media_type == "text/csv":
            assert response.text.strip() == str(expected).lower()
        else:
            assert bool(parse_results(response)) is expected


@pytest.mark.parametrize("how", ["accept", "format"])
@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.names[0])
def test_construct_and_describe_in_every_graph_format(client: TestClient, how: str, fmt) -> None:
    response = _by(client, how, fmt.names[0], fmt.media_type, CONSTRUCT)
    assert response.status_code == 200, response.text
    assert media_type(response) == fmt.media_type
    assert parse_graph(response) == {_triple(d) for d in (DATA1, DATA2, DATA3)}
    response = _by(client, how, fmt.names[0], fmt.media_type, DESCRIBE)
    assert response.status_code == 200, response.text
    assert media_type(response) == fmt.media_type
    assert parse_graph(response) == {_triple(DATA2)}


def test_format_parameter_wins_over_accept(client: TestClient) -> None:
    response = client.get(
        "/sparql",
        params={"query": SELECT, "format": "tsv"},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert media_type(response) == "text/tab-separated-values"
    assert _rows(response) == EXPECTED_ROWS


@pytest.mark.parametrize(("query", "fmt"), [(SELECT, "pdf"), (SELECT, ""), (CONSTRUCT, "x")])
def test_a_format_that_names_nothing_is_a_400(client: TestClient, query: str, fmt: str) -> None:
    problem = assert_problem(client.get("/sparql", params={"query": query, "format": fmt}), 400)
    assert "format" in problem["detail"]


@pytest.mark.parametrize(
    ("query", "fmt", "accept", "expected"),
    [
        # A known format this query form cannot give: the Accept header decides.
        (SELECT, "turtle", "*/*", "application/sparql-results+json"),
        (SELECT, "turtle", "text/csv", "text/csv"),
        (CONSTRUCT, "csv", "*/*", "text/turtle"),
        (CONSTRUCT, "csv", "application/n-triples", "application/n-triples"),
    ],
)
def test_a_known_format_that_does_not_fit_leaves_the_choice_to_accept(
    client: TestClient, query: str, fmt: str, accept: str, expected: str
) -> None:
    response = client.get(
        "/sparql", params={"query": query, "format": fmt}, headers={"Accept": accept}
    )
    assert response.status_code == 200, response.text
    assert media_type(response) == expected


@pytest.mark.parametrize(
    ("query", "params", "expected"),
    [
        # SPARQLWrapper's URL-encoded requests: every parameter, two spellings of one type.
        (
            SELECT,
            [
                ("format", "tsv"),
                ("format", "text/tab-separated-values"),
                ("output", "tsv"),
                ("results", "tsv"),
            ],
            "text/tab-separated-values",
        ),
        (
            CONSTRUCT,
            [("format", "rdf+xml"), ("format", "application/rdf+xml"), ("output", "rdf+xml")],
            "application/rdf+xml",
        ),
        (
            CONSTRUCT,
            [("format", "json-ld"), ("output", "application/ld+json")],
            "application/ld+json",
        ),
        (CONSTRUCT, [("format", "n3"), ("output", "n3")], "text/turtle"),
        # Two formats that disagree: Accept decides.
        (SELECT, [("format", "csv"), ("output", "tsv")], "application/sparql-results+json"),
    ],
)
def test_repeated_format_parameters_that_agree_are_one_request(
    client: TestClient, query: str, params: list[tuple[str, str]], expected: str
) -> None:
    for method in ("GET", "POST"):
        if method == "GET":
            response = client.get("/sparql", params=[("query", query), *params])
        else:
            form: dict[str, list[str]] = {"query": [query]}
            for key, value in params:
                form.setdefault(key, []).append(value)
            response = client.post("/sparql", data=form)
        assert response.status_code == 200, response.text
        assert media_type(response) == expected


# --- content negotiation over HTTP -------------------------------------------------------------

JSON_RESULTS = "application/sparql-results+json"
XML_RESULTS = "application/sparql-results+xml"
CONNEG_CASES = [
    # (Accept, query, expected media type or None for 406)
    (None, SELECT, JSON_RESULTS),
    ("*/*", SELECT, JSON_RESULTS),
    ("*/*", CONSTRUCT, "text/turtle"),
    ("text/*", SELECT, "text/csv"),
    ("text/*", CONSTRUCT, "text/turtle"),
    ("application/*", CONSTRUCT, "application/n-triples"),
    ("application/json", SELECT, JSON_RESULTS),
    ("application/xml", SELECT, XML_RESULTS),
    ("text/csv;q=0.5, application/sparql-results+xml", SELECT, XML_RESULTS),
    (
        "application/sparql-results+json;q=0.1, text/tab-separated-values",
        SELECT,
        "text/tab-separated-values",
    ),
    ("text/csv;q=0, text/*", SELECT, "text/tab-separated-values"),
    ("application/rdf+xml;q=0.9, application/ld+json", CONSTRUCT, "application/ld+json"),
    ("text/turtle;q=0.2, */*;q=0.1", DESCRIBE, "text/turtle"),
    ("application/n-quads, text/turtle;q=0.5", CONSTRUCT, "application/n-quads"),
    ("text/html", SELECT, None),
    ("text/turtle", SELECT, None),
    ("application/sparql-results+json", CONSTRUCT, None),
    ("image/png, */*;q=0", CONSTRUCT, None),
]


@pytest.mark.parametrize(("accept", "query", "expected"), CONNEG_CASES)
def test_content_negotiation(
    request: pytest.FixtureRequest,
    client: TestClient,
    accept: str | None,
    query: str,
    expected: str | None,
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/sparql", params={"query": query}, headers=headers)
    if expected is None:
        problem = assert_problem(response, 406)
        offered = GRAPH_FORMATS if query in (CONSTRUCT, DESCRIBE) else RESULT_FORMATS
        assert problem["supported"] == [f.media_type for f in offered]
        return
    assert response.status_code == 200, response.text
    assert media_type(response) == expected
    assert "Accept" in response.headers["vary"]


# --- HEAD, OPTIONS, CORS -----------------------------------------------------------------------


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    for query in (SELECT, CONSTRUCT):
        get = client.get("/sparql", params={"query": query, "format": "xml"})
        head = client.head("/sparql", params={"query": query, "format": "xml"})
        assert head.status_code == get.status_code == 200
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.content == b"" and get.content
    bad = client.head("/sparql", params={"query": "ASK {"})
    assert bad.status_code == 400 and bad.content == b""
    description = client.head("/sparql")
    assert description.status_code == 200 and description.content == b""


def test_options_lists_the_methods(client: TestClient) -> None:
    response = client.options("/sparql")
    assert response.status_code in (200, 204)
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_cors_for_a_cross_origin_get_and_a_preflight(client: TestClient) -> None:
    origin = "https://researcher.example"
    response = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": origin})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", origin)
    preflight = client.options(
        "/sparql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, accept",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", origin)
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "accept" in allowed


# --- errors: syntax, limits, hostile input -----------------------------------------------------


def _engine_position(query: str) -> tuple[int, int]:
    """Where pyoxigraph itself places the syntax error (line, column)."""
    try:
        ox.Store().query(query)
    except SyntaxError as error:
        line, column = str(error).removeprefix("error at ").split(":")[:2]
        return int(line), int(column)
    raise AssertionError("the query parses")


def test_a_malformed_query_is_a_400_with_its_position(client: TestClient) -> None:
    query = "PREFIX ex: <http://example.org/>\nSELECT * WHERE {\n  ?s ex:p ?o .\n  FILTER (\n}"
    line, column = _engine_position(query)
    assert line == 5
    for response in (
        client.get("/sparql", params={"query": query}),
        client.post("/sparql", content=query, headers={"Content-Type": SPARQL_QUERY}),
    ):
        problem = assert_problem(response, 400)
        assert (problem["line"], problem["column"]) == (line, column)
        assert f"line {line}, column {column}" in problem["detail"]


def test_relative_iris_resolve_against_the_endpoint(client: TestClient) -> None:
    """The service picks the base IRI (§2.1): the endpoint, on both stores alike."""
    response = client.get("/sparql", params={"query": "SELECT (<s> AS ?iri) {}", "format": "json"})
    assert response.json()["results"]["bindings"][0]["iri"]["value"] == "http://testserver/s"
    own_base = "BASE <http://example.org/> SELECT (<s> AS ?iri) {}"
    response = client.get("/sparql", params={"query": own_base})
    assert response.json()["results"]["bindings"][0]["iri"]["value"] == "http://example.org/s"


def test_service_is_refused_by_default(client: TestClient) -> None:
    query = "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"
    problem = assert_problem(client.get("/sparql", params={"query": query}), 400)
    assert "SERVICE" in problem["detail"]


def test_service_works_with_federation_on(oxigraph_server: str) -> None:
    app = create_app(Settings(store="memory", sync_on_start=False, federation=True))
    query = f"SELECT ?x WHERE {{ SERVICE <{oxigraph_server}query> {{ BIND (42 AS ?x) }} }}"
    with TestClient(app) as federated:
        response = federated.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"] == [
        {
            "x": {
                "type": "literal",
                "value": "42",
                "datatype": "http://www.w3.org/2001/XMLSchema#integer",
            }
        }
    ]


@pytest.fixture(scope="module")
def small_limit() -> Iterator[TestClient]:
    app = create_app(Settings(store="memory", sync_on_start=False, max_query_bytes=100))
    with TestClient(app) as test_client:
        yield test_client


def test_a_query_over_the_size_limit_is_a_413(small_limit: TestClient) -> None:
    query = "ASK { " + "?s ?p ?o . " * 20 + "}"
    assert small_limit.get("/sparql", params={"query": "ASK {}"}).status_code == 200
    assert_problem(small_limit.get("/sparql", params={"query": query}), 413)
    direct = {"Content-Type": SPARQL_QUERY}
    assert_problem(small_limit.post("/sparql", content=query, headers=direct), 413)
    form = {"Content-Type": FORM}
    assert_problem(small_limit.post("/sparql", content="query=" + quote(query), headers=form), 413)

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        yield from (query[i : i + 10].encode() for i in range(0, len(query), 10))

    assert_problem(small_limit.post("/sparql", content=chunked(), headers=direct), 413)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (SPARQL_QUERY, b"ASK { ?s ?p \xff\xfe }"),
        (FORM, b"query=ASK%20%7B%7D&x=\xc3\x28"),
        (SPARQL_QUERY, "ASK {}".encode("utf-16")),
    ],
)
def test_a_body_that_is_not_utf8_is_a_400(
    client: TestClient, content_type: str, body: bytes
) -> None:
    problem = assert_problem(
        client.post("/sparql", content=body, headers={"Content-Type": content_type}), 400
    )
    assert "UTF-8" in problem["detail"]


HOSTILE = [
    # (id, method, params or body, content type)
    ("empty-query", "GET", {"query": ""}, None),
    ("only-prefix", "GET", {"query": "PREFIX ex: <http://e/>"}, None),
    ("nul-bytes", "GET", {"query": "ASK { \x00 }"}, None),
    ("deep-braces", "GET", {"query": "ASK " + "{" * 5000 + "}" * 5000}, None),
    (
        "deep-parens",
        "GET",
        {"query": "ASK { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"},
        None,
    ),
    (
        "deep-blank-nodes",
        "GET",
        {"query": "ASK { ?s <p> " + "[ <p> " * 5000 + "1" + " ]" * 5000 + " }"},
        None,
    ),
    (
        "long-union",
        "GET",
        {"query": "SELECT * { " + " UNION ".join(["{?s ?p ?o}"] * 20000) + " }"},
        None,
    ),
    ("long-sum", "GET", {"query": "SELECT (" + "+".join(["1"] * 20000) + " AS ?x) {}"}, None),
    ("long-or", "GET", {"query": "ASK { FILTER(" + "||".join(["true"] * 20000) + ") }"}, None),
    ("many-nots", "GET", {"query": "ASK { FILTER(" + "!" * 20000 + "true) }"}, None),
    ("huge-limit", "GET", {"query": "SELECT * { ?s ?p ?o } LIMIT 999999999999999999999999"}, None),
    ("bad-regex", "GET", {"query": "SELECT (REGEX('a', '(((') AS ?x) {}"}, None),
    ("bad-iri", "GET", {"query": "SELECT * { <http://a b/> ?p ?o }"}, None),
    ("lang-garbage", "GET", {"query": "SELECT * { ?s ?p 'x'@-- }"}, None),
    ("two-operations", "GET", {"query": "ASK {} ; CLEAR ALL"}, None),
    ("lowercase-update", "GET", {"query": "insert data { <a> <b> <c> }"}, None),
    ("load", "GET", {"query": "LOAD <http://example.org/data.ttl>"}, None),
    (
        "lowercase-service",
        "GET",
        {"query": "select * { service<http://127.0.0.1:1/>{?s ?p ?o} }"},
        None,
    ),
    ("dataset-not-an-iri", "GET", {"query": "ASK {}", "default-graph-uri": "not an iri"}, None),
    ("dataset-empty", "GET", {"query": "ASK {}", "named-graph-uri": ""}, None),
    (
        "dataset-injection",
        "GET",
        {"query": "ASK {}", "default-graph-uri": "http://x/> } ; DROP ALL ; <http://y/"},
        None,
    ),
    ("format-garbage", "GET", {"query": "ASK {}", "format": "../../etc/passwd"}, None),
    ("query-and-update", "GET", {"query": "ASK {}", "update": "CLEAR ALL"}, None),
    ("form-no-query", "POST", b"queery=ASK%20%7B%7D", FORM),
    ("form-two-queries", "POST", b"query=ASK%20%7B%7D&query=ASK%20%7B%7D", FORM),
    ("form-bad-percent", "POST", b"query=%FF%FE", FORM),
    ("direct-empty", "POST", b"", SPARQL_QUERY),
    ("direct-charset-latin1", "POST", b"ASK {}", SPARQL_QUERY + "; charset=iso-8859-1"),
    ("content-type-garbage", "POST", b"ASK {}", ";;;=/"),
    ("multipart", "POST", b"--x\r\n\r\nASK {}\r\n--x--", "multipart/form-data; boundary=x"),
]


@pytest.mark.parametrize(
    ("method", "payload", "content_type"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_input_never_breaks_the_server(
    client: TestClient, method: str, payload: dict | bytes, content_type: str | None
) -> None:
    if method == "GET":
        encoded = urlencode(payload)
        if len(encoded) < 60_000:
            response = client.get("/sparql?" + encoded)
        else:  # beyond httpx's URL limit: the same parameters as a form
            response = client.post("/sparql", content=encoded, headers={"Content-Type": FORM})
    else:
        headers = {"Content-Type": content_type} if content_type else {}
        response = client.post("/sparql", content=payload, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
    # The server is still up and its data untouched.
    assert bool(parse_results(client.get("/sparql", params={"query": f"ASK {{ {_ask(DATA1)} }}"})))
    assert triple_count(client) == 3


def test_large_but_flat_queries_are_accepted(client: TestClient) -> None:
    """The guard against deep recursion leaves real queries alone: a big VALUES block of
    typed literals, a long FILTER of alternatives, a moderately nested query."""
    values = " ".join(f'"{i}"^^<http://www.w3.org/2001/XMLSchema#integer>' for i in range(3000))
    query = f"SELECT (COUNT(*) AS ?n) {{ VALUES ?x {{ {values} }} }}"
    response = client.post("/sparql", content=query, headers={"Content-Type": SPARQL_QUERY})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "3000"
    alternatives = " || ".join(f"?x = {i}" for i in range(300))
    query = f"SELECT ?x {{ VALUES ?x {{ 1 2 3 }} FILTER ({alternatives}) }}"
    response = client.post("/sparql", content=query, headers={"Content-Type": SPARQL_QUERY})
    assert response.status_code == 200, response.text
    nested = "ASK " + "{ " * 100 + "}" * 100
    assert client.get("/sparql", params={"query": nested}).status_code == 200


@pytest.mark.parametrize(
    "accept", ["", ";;;", "*/*;q=abc", "application/", "text/csv;q=-1, */*", "a/b;c;d=e" * 200]
)
def test_garbage_accept_headers_never_500(client: TestClient, accept: str) -> None:
    response = client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": accept})
    assert response.status_code in (200, 406), response.text


# --- streaming ---------------------------------------------------------------------------------

ROWS = 200_000


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("big") / "big.nt"
    with path.open("w") as out:
        for i in range(ROWS):
            out.write(f'<http://example.org/s/{i}> <http://example.org/p> "{i}" .\n')
    app = create_app(Settings(store="memory", sync_on_start=False))
    with TestClient(app) as test_client:
        assert test_client.portal is not None
        test_client.portal.call(
            lambda: app.state.services.store.bulk_load(path, graph_iri="http://example.org/big")
        )
        yield test_client


def test_a_large_select_is_streamed(big_store: TestClient) -> None:
    """The response leaves in many body messages while the query still runs (a
    StreamingResponse: no Content-Length), and the whole body arrives and parses."""
    app = big_store.app
    query = "SELECT ?s ?o WHERE { ?s <http://example.org/p> ?o }"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
        "path": "/sparql",
        "raw_path": b"/sparql",
        "query_string": urlencode({"query": query, "format": "tsv"}).encode(),
        "headers": [(b"host", b"testserver")],
        "state": {},
    }
    messages: list[dict] = []

    requested = False

    async def receive() -> dict:
        nonlocal requested
        if requested:  # the client stays connected until the response ends
            await anyio.sleep_forever()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send_message(message: dict) -> None:
        messages.append(message)

    async def call() -> None:
        await app(scope, receive, send_message)

    assert big_store.portal is not None
    big_store.portal.call(call)
    start, *bodies = messages
    assert start["type"] == "http.response.start" and start["status"] == 200
    headers = dict(start["headers"])
    assert b"content-length" not in headers
    assert headers[b"content-type"].startswith(b"text/tab-separated-values")
    assert len([b for b in bodies if b.get("body")]) > 10
    assert all(b.get("more_body") for b in bodies[:-1]) and not bodies[-1].get("more_body")
    body = b"".join(b.get("body", b"") for b in bodies)
    result = ox.parse_query_results(body, ox.QueryResultsFormat.TSV)
    values = sorted(int(row["o"].value) for row in result)
    assert values == list(range(ROWS))


def test_a_large_select_over_http_is_complete(big_store: TestClient) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    response = big_store.get("/sparql", params={"query": query})
    assert response.json()["results"]["bindings"][0]["n"]["value"] == str(ROWS)
    with big_store.stream("GET", "/sparql", params={"query": "SELECT * { ?s ?p ?o }"}) as r:
        assert "content-length" not in r.headers
        document = json.loads(b"".join(r.iter_bytes()))
    assert len(document["results"]["bindings"]) == ROWS
