"""Parsing RDF with exact error positions.

pyoxigraph's parsers are W3C-exact and report line and column of a syntax error; rdflib is
what pySHACL validates. Documents are parsed with pyoxigraph and converted term by term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Node, URIRef

from service.vocab import PREFIXES

_POSITION = re.compile(r"^Parser error (?:at|between) line \d+ .*?: ")
_TRAILING_LINE = re.compile(r" \(line \d+\)$")


@dataclass
class RdfSyntaxError(ValueError):
    """A document that is not valid in its format, with where the problem is (1-based)."""

    message: str
    line: int | None = None
    column: int | None = None
    source: str | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.source, self.line, self.column) if p is not None)
        return f"{where}: {self.message}" if where else self.message


def from_ox(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def parse_rdf(
    data: bytes | str,
    format: ox.RdfFormat = ox.RdfFormat.TURTLE,
    *,
    base_iri: str | None = None,
    source: str | None = None,
) -> Graph:
    """Parse one RDF document into an rdflib graph, or raise :class:`RdfSyntaxError`.

    Prefixes the document declares are kept on the graph (for readable reports).
    """
    graph = Graph(bind_namespaces="none")
    try:
        parser = ox.parse(data, format, base_iri=base_iri, without_named_graphs=True)
        add = graph.add
        for quad in parser:
            add((from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
    except SyntaxError as error:
        message = _TRAILING_LINE.sub("", _POSITION.sub("", error.msg or str(error)))
        raise RdfSyntaxError(message, error.lineno, error.offset, source) from None
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    for prefix, namespace in parser.prefixes.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph
