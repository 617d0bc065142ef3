"""Content negotiation, table-driven (after Oxigraph's ``content_negotiation`` tests)."""

import pytest

from service.rdf.conneg import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    by_name,
    negotiate,
    negotiate_language,
    parse_accept,
)

JSON = "application/sparql-results+json"
XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"
JSONLD = "application/ld+json"
RDFXML = "application/rdf+xml"

RESULT_CASES = [
    (None, JSON),
    ("", JSON),
    ("*/*", JSON),
    ("application/sparql-results+json", JSON),
    ("application/sparql-results+xml", XML),
    ("application/json", JSON),
    ("application/xml", XML),
    ("text/csv", CSV),
    ("text/tab-separated-values", TSV),
    ("text/*", CSV),
    ("text/*;q=0.5, application/sparql-results+xml;q=0.4", CSV),
    ("application/sparql-results+json;q=0.1, text/csv", CSV),
    ("text/csv;q=0.5, */*;q=0.9", JSON),
    ("text/csv, */*;q=0", CSV),
    ("*/*;q=0, text/tab-separated-values", TSV),
    ("text/csv;q=0, text/*", TSV),
    ("text/csv; charset=utf-8", CSV),
    ("TEXT/CSV", CSV),
    ("text/html, application/xhtml+xml, */*;q=0.8", JSON),
    ("application/sparql-results+json;q=0.5, application/sparql-results+xml;q=0.5", JSON),
    ("text/csv;q=abc, application/sparql-results+xml", XML),
    ("garbage, text/tab-separated-values", TSV),
    ("text/html", None),
    ("text/turtle", None),
    ("*/*;q=0", None),
    ("text/csv;version=2", None),
    ("image/*", None),
]

GRAPH_CASES = [
    (None, TURTLE),
    ("*/*", TURTLE),
    ("text/turtle", TURTLE),
    ("application/x-turtle", TURTLE),
    ("application/n-triples", NTRIPLES),
    ("text/plain", NTRIPLES),
    ("application/ld+json", JSONLD),
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"', JSONLD),
    ("application/rdf+xml", RDFXML),
    ("application/n-quads", "application/n-quads"),
    ("application/trig", "application/trig"),
    ("application/rdf+xml;q=0.9, text/turtle;q=0.8", RDFXML),
    ("application/*", NTRIPLES),
    ("application/*;q=0.2, text/turtle;q=0.1", NTRIPLES),
    ("text/html;q=1, application/ld+json;q=0.5", JSONLD),
    ("application/sparql-results+json", None),
]


@pytest.mark.parametrize(("accept", "expected"), RESULT_CASES)
def test_results_negotiation(accept: str | None, expected: str | None) -> None:
    chosen = negotiate(accept, RESULT_FORMATS)
    assert (chosen.media_type if chosen else None) == expected


@pytest.mark.parametrize(("accept", "expected"), GRAPH_CASES)
def test_graph_negotiation(accept: str | None, expected: str | None) -> None:
    chosen = negotiate(accept, GRAPH_FORMATS)
    assert (chosen.media_type if chosen else None) == expected


def test_specificity_beats_order() -> None:
    ranges = parse_accept("*/*;q=0.1, text/*;q=0.5, text/csv;q=0.9")
    assert [r.q for r in ranges] == [0.1, 0.5, 0.9]
    assert negotiate("*/*;q=0.1, text/*;q=0.5, text/csv;q=0.9", RESULT_FORMATS).media_type == CSV


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("json", JSON),
        ("XML", XML),
        ("csv", CSV),
        ("tsv", TSV),
        ("text/csv", CSV),
        ("application/json", JSON),
        ("nope", None),
    ],
)
def test_format_parameter_for_results(name: str, expected: str | None) -> None:
    chosen = by_name(name, RESULT_FORMATS)
    assert (chosen.media_type if chosen else None) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ttl", TURTLE),
        ("nt", NTRIPLES),
        ("jsonld", JSONLD),
        ("rdf", RDFXML),
        ("trig", "application/trig"),
    ],
)
def test_extensions_for_graphs(name: str, expected: str) -> None:
    assert by_name(name, GRAPH_FORMATS).media_type == expected


def test_content_type_declares_utf8_for_text() -> None:
    assert by_name("csv", RESULT_FORMATS).content_type == "text/csv; charset=utf-8"
    assert by_name("nt", GRAPH_FORMATS).content_type == "application/n-triples"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("nl", "nl"),
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        ("en-GB,en;q=0.9,nl;q=0.8", "en"),
        ("de, nl;q=0.5", "nl"),
        ("de", "en"),
        ("*", "en"),
        ("fr;q=1, nl;q=0.2, en;q=0.1", "nl"),
        ("nl;q=0, en", "en"),
        ("nl, en", "nl"),
        ("en, nl", "en"),
    ],
)
def test_language_negotiation(header: str | None, expected: str) -> None:
    assert negotiate_language(header) == expected
