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
#: Deepest bracket nesting a document may have. pyoxigraph's JSON-LD parser recurses once per
#: level of JSON nesting (in time that grows with the square of the depth), and nested RDF 1.2
#: triple terms (``<<( s p <<( … )>> )>>``) are freed recursively: some thousands of levels
#: overflow the stack of the thread that parses and kill the whole process. Real documents
#: stay far below this.
MAX_NESTING = 100
#: What counts for nesting: brackets outside strings (and, in Turtle, outside IRIs and
#: comments), which are matched whole so that a bracket inside them does not count.
_JSON_NESTING = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]', re.DOTALL)
_TURTLE_NESTING = re.compile(
    rb"""\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'\'\'(?:[^'\\]|\\.|'(?!''))*'\'\'
    |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'
    |<[^<>"{}|^`\\\s]*>|\#[^\n]*
    |<<|[(\[]|>>|[)\]]""",
    re.VERBOSE | re.DOTALL,
)
_OPENERS = frozenset((b"[", b"{", b"(", b"<<"))
_CLOSERS = frozenset((b"]", b"}", b")", b">>"))


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

    Also refused that way: brackets nested deeper than ``MAX_NESTING``, RDF 1.2 triple terms,
    and a remote JSON-LD ``@context`` (never fetched). Prefixes the document declares are
    kept on the graph (for readable reports).
    """
    raw = data.encode() if isinstance(data, str) else data
    _check_nesting(raw, format, source)
    graph = Graph(bind_namespaces="none")
    try:
        parser = ox.parse(raw, format, base_iri=base_iri, without_named_graphs=True)
        add = graph.add
        for quad in parser:
            if isinstance(quad.object, ox.Triple):
                # rdflib, and so pySHACL, has no triple terms: say so rather than fail later.
                raise RdfSyntaxError(
                    "RDF 1.2 triple terms (<<( … )>> or << … >>) are not supported",
                    source=source,
                )
            add((from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
    except SyntaxError as error:
        message = _TRAILING_LINE.sub("", _POSITION.sub("", error.msg or str(error)))
        if "LoadDocumentCallback" in message:
            # pyoxigraph is given no loader, so a remote @context is never fetched: say so.
            message = "a remote JSON-LD @context is not loaded here; put the context inline"
        raise RdfSyntaxError(message, error.lineno, error.offset, source) from None
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    for prefix, namespace in parser.prefixes.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def _check_nesting(data: bytes, format: ox.RdfFormat, source: str | None) -> None:
    """Refuse a document that nests brackets deeper than ``MAX_NESTING``, where it does."""
    if format == ox.RdfFormat.RDF_XML:
        return
    if sum(data.count(bracket) for bracket in b"[{(<") <= MAX_NESTING:
        return  # too few brackets to nest that deep: the usual case, decided in C
    tokens = _JSON_NESTING if format == ox.RdfFormat.JSON_LD else _TURTLE_NESTING
    depth = 0
    for match in tokens.finditer(data):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > MAX_NESTING:
                at = match.start()
                line = data.count(b"\n", 0, at) + 1
                column = at - data.rfind(b"\n", 0, at)
                raise RdfSyntaxError(
                    f"brackets nest more than {MAX_NESTING} deep here; flatten the document",
                    line,
                    column,
                    source,
                )
        elif token in _CLOSERS:
            depth = max(0, depth - 1)
