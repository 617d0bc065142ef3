"""Reading a SPARQL request's form and federation use before evaluation."""

import pytest

from service.sparqltext import QueryForm, query_form, uses_service

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
