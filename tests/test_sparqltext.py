"""Reading a SPARQL request's form and federation use before evaluation."""

import pyoxigraph as ox
import pytest

from service.rdf.sparqltext import (
    QueryForm,
    cap_rows,
    complexity,
    keywords,
    prefix_declarations,
    query_form,
    scan,
    uses_service,
)

FORMS = [
    ("SELECT * WHERE { ?s ?p ?o }", QueryForm.SELECT),
    ("select ?s { ?s ?p ?o }", QueryForm.SELECT),
    ("PREFIX ex: <http://ex/>\nBASE <http://b/>\nASK { ?s ex:p ?o }", QueryForm.ASK),
    ("# SELECT in a comment\nCONSTRUCT WHERE { ?s ?p ?o }", QueryForm.CONSTRUCT),
    ("DESCRIBE <http://ex/a>", QueryForm.DESCRIBE),
    ("PREFIX select: <http://ex/>\nASK { ?s select:p ?o }", QueryForm.ASK),
    ("INSERT DATA { <http://a> <http://b> <http://c> }", QueryForm.UPDATE),
    ("LOAD <http://example.org/data.ttl>", QueryForm.UPDATE),
    ("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", QueryForm.UPDATE),
    ("DROP ALL", QueryForm.UPDATE),
    ("", QueryForm.UNKNOWN),
    ("hello world", QueryForm.UNKNOWN),
]


@pytest.mark.parametrize(("text", "form"), FORMS)
def test_query_form(text: str, form: QueryForm) -> None:
    assert query_form(text) is form


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * { SERVICE <http://evil/sparql> { ?s ?p ?o } }", True),
        ("select * { service silent <http://evil/sparql> { ?s ?p ?o } }", True),
        ('SELECT * { ?s ?p "SERVICE" }', False),
        ("SELECT * { ?s <http://ex/SERVICE> ?o }", False),
        ("SELECT ?service { ?service ?p ?o } # SERVICE", False),
        ("PREFIX service: <http://ex/> SELECT * { ?s service:p ?o }", False),
    ],
)
def test_uses_service(text: str, expected: bool) -> None:
    assert uses_service(text) is expected


def test_graph_forms() -> None:
    assert QueryForm.CONSTRUCT.returns_graph and QueryForm.DESCRIBE.returns_graph
    assert not QueryForm.SELECT.returns_graph


CAP_CASES = [
    ("SELECT * { ?s ?p ?o }", "SELECT * { ?s ?p ?o }\nLIMIT 10"),
    ("SELECT * { ?s ?p ?o } LIMIT 5", "SELECT * { ?s ?p ?o } LIMIT 5"),
    ("SELECT * { ?s ?p ?o } LIMIT 500 OFFSET 3", "SELECT * { ?s ?p ?o } LIMIT 10 OFFSET 3"),
    ("SELECT * { ?s ?p ?o } # LIMIT 5", "SELECT * { ?s ?p ?o } # LIMIT 5\nLIMIT 10"),
    (
        "SELECT * { { SELECT ?s { ?s ?p ?o } LIMIT 100 } }",
        "SELECT * { { SELECT ?s { ?s ?p ?o } LIMIT 100 } }\nLIMIT 10",
    ),
    (
        "SELECT ?s { ?s ?p ?o } ORDER BY ?s VALUES ?s { <http://a> }",
        "SELECT ?s { ?s ?p ?o } ORDER BY ?s LIMIT 10\nVALUES ?s { <http://a> }",
    ),
    (
        "SELECT * { VALUES ?x { 1 } ?s ?p ?x }",
        "SELECT * { VALUES ?x { 1 } ?s ?p ?x }\nLIMIT 10",
    ),
    ('SELECT * { ?s ?p "LIMIT 1000" }', 'SELECT * { ?s ?p "LIMIT 1000" }\nLIMIT 10'),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT WHERE { ?s ?p ?o }\nLIMIT 10"),
    ("ASK { ?s ?p ?o }", "ASK { ?s ?p ?o }"),
]


@pytest.mark.parametrize(("text", "expected"), CAP_CASES)
def test_cap_rows(text: str, expected: str) -> None:
    assert cap_rows(text, 10) == expected
    ox.Store().query(expected)  # still a valid query


@pytest.mark.parametrize(
    ("text", "deepest", "operators"),
    [
        # Each character of an operator counts, the * of SELECT * too: it only has to grow
        # with what the engine recurses on.
        ("SELECT ?s { ?s ?p ?o }", 1, 0),
        ("SELECT ?s { { ?s ?p ?o } UNION { ?s ?q ?o } }", 2, 1),
        ("SELECT ?s { ?s <a>/<b>/<c> ?o FILTER(?o > 1 || ?o < 0) }", 2, 6),
        ('SELECT ?s { ?s ?p "((((" }', 1, 0),
        ("SELECT ?s " + "{" * 50 + "}" * 50, 50, 0),
    ],
)
def test_complexity(text: str, deepest: int, operators: int) -> None:
    assert complexity(text) == (deepest, operators)
    assert scan(text) == (keywords(text), deepest, operators)  # the endpoint's one pass


@pytest.mark.parametrize(
    ("text", "declared"),
    [
        (
            "PREFIX ex: <http://ex/>\nPREFIX : <http://e/#>\nSELECT * {}",
            {"ex": "http://ex/", "": "http://e/#"},
        ),
        (
            "prefix  dct:\n  <http://purl.org/dc/terms/> ASK {}",
            {"dct": "http://purl.org/dc/terms/"},
        ),
        ("# PREFIX no: <http://comment/>\nSELECT ('PREFIX s: <http://s/>' AS ?x) {}", {}),
        ("SELECT * { ?s <http://ex/PREFIX> ?o }", {}),
    ],
)
def test_prefix_declarations_outside_comments_and_strings(
    text: str, declared: dict[str, str]
) -> None:
    assert prefix_declarations(text) == declared
