"""Parsing with positions: a syntax error names its line and column."""

import pytest
from rdflib import Literal, URIRef

from service.rdf.parsing import RdfSyntaxError, parse_rdf

EX = "http://example.org/"


def test_parses_turtle_into_rdflib_terms() -> None:
    graph = parse_rdf(b'@prefix ex: <http://example.org/> .\nex:a ex:p "x"@nl, 3 .')
    assert (URIRef(EX + "a"), URIRef(EX + "p"), Literal("x", lang="nl")) in graph
    assert (URIRef(EX + "a"), URIRef(EX + "p"), Literal(3)) in graph


def test_keeps_declared_prefixes() -> None:
    graph = parse_rdf(b"@prefix zz: <http://example.org/zz#> .\nzz:a zz:p zz:o .")
    assert dict(graph.namespaces())["zz"] == URIRef("http://example.org/zz#")


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        (b'@prefix ex: <http://example.org/> .\nex:a ex:p "open .\n', 2, 11, "end of file"),
        (b"<http://example.org/a> <http://example.org/p> <o> .", 1, 47, "absolute IRI"),
        (b"@prefix ex: <http://example.org/> .\n\nex:a ex:p undeclared:x .", 3, 11, "prefix"),
        (b"\xff\xfe<a>", 1, 1, "UTF-8"),
    ],
)
def test_syntax_errors_have_positions(text: bytes, line: int, column: int, fragment: str) -> None:
    with pytest.raises(RdfSyntaxError) as caught:
        parse_rdf(text, source="in.ttl")
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert fragment.lower() in error.message.lower()
    assert str(error).startswith(f"in.ttl:{line}:{column}: ")
