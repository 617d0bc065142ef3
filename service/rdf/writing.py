"""How RDF is written, in one place: which formats carry named graphs, and JSON-LD as people and
programs read it.

- The quad formats (TriG, N-Quads) carry each fact in its named graph. Every other format —
  Turtle, N-Triples, RDF/XML and JSON-LD — carries the same facts as triples of the default
  graph, each once: a program that reads a document's default graph (``rdflib.Graph().parse``,
  a JSON-LD processor's ``toRdf``) finds what the Turtle says, whatever it asked for.
- JSON-LD is compacted with Meent's context, embedded in the document so that it needs no
  network (``/def/context.jsonld`` publishes the same context): terms (``Koppel``, ``label``)
  and compact IRIs instead of full ones. rdflib writes it; the tests expand it with pyld, a
  second implementation, and compare with the Turtle.
- ``JsonLdStream`` writes a stream of triples (a CONSTRUCT or DESCRIBE answer) as compacted
  JSON-LD batch by batch, so that a large answer never has to be held whole: one ``@context``,
  then the node objects of each batch in one ``@graph``. A subject whose triples fall in two
  batches has two node objects with the same ``@id``, which JSON-LD merges.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal
from rdflib.term import Node

from service.rdf.conneg import Format
from service.rdf.parsing import from_ox

#: Formats that hold named graphs.
QUAD_FORMATS = frozenset({ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS})
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

Context = Mapping[str, Any]


def holds_graphs(fmt: Format) -> bool:
    return fmt.rdf in QUAD_FORMATS


def triples_of(data: Iterable[ox.Quad | ox.Triple]) -> list[ox.Triple]:
    """The facts as triples of one graph, each once, in their first order."""
    unique: dict[tuple[str, str, str], ox.Triple] = {}
    for item in data:
        triple = item.triple if isinstance(item, ox.Quad) else item
        unique.setdefault((str(triple.subject), str(triple.predicate), str(triple.object)), triple)
    return list(unique.values())


def write_rdf(
    data: Sequence[ox.Quad] | Sequence[ox.Triple],
    fmt: Format,
    *,
    prefixes: Mapping[str, str],
    context: Context,
) -> bytes:
    """``data`` in ``fmt``: quads in a quad format, otherwise the triples of one graph;
    JSON-LD compacted with ``context`` (a JSON-LD ``@context`` value)."""
    assert fmt.rdf is not None, fmt
    if holds_graphs(fmt):
        quads = [
            item if isinstance(item, ox.Quad) else ox.Quad(*item, ox.DefaultGraph())
            for item in data
        ]
        return ox.serialize(quads, format=fmt.rdf, prefixes=dict(prefixes))
    triples = triples_of(data)
    if fmt.rdf == ox.RdfFormat.JSON_LD:
        # The document's own prefixes (VoID's, the service description's) join the context.
        extra = {prefix: iri for prefix, iri in prefixes.items() if prefix not in context}
        return compact_jsonld(triples, {**extra, **context})
    return ox.serialize(triples, format=fmt.rdf, prefixes=dict(prefixes))


def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    if isinstance(term, ox.Literal) and not term.language and term.datatype.value == XSD_STRING:
        return Literal(term.value)  # the same literal in RDF 1.1, and JSON-LD writes it shorter
    return from_ox(term)


def _graph(triples: Iterable[ox.Triple]) -> Graph:
    graph = Graph()
    add = graph.add
    for triple in triples:
        add((_term(triple.subject), _term(triple.predicate), _term(triple.object)))  # type: ignore[arg-type]
    return graph


def _nodes(triples: Iterable[ox.Triple], context: Context) -> list[Any]:
    """The node objects of ``triples``, compacted with ``context`` (without it)."""
    text = _graph(triples).serialize(format="json-ld", context=dict(context), auto_compact=True)
    document = json.loads(text)
    if isinstance(document, list):  # an empty graph
        return document
    document.pop("@context", None)
    return document.pop("@graph", None) or ([document] if document else [])


def compact_jsonld(triples: Iterable[ox.Triple], context: Context) -> bytes:
    """A compacted JSON-LD document of ``triples``, its ``@context`` embedded."""
    document = {"@context": context, "@graph": _nodes(triples, context)}
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


class JsonLdStream:
    """Compacted JSON-LD of a stream of N-Triples, written as it comes (see the module)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self._pending = b""
        self._first = True

    def head(self) -> bytes:
        return (
            b'{"@context": '
            + json.dumps(self.context, ensure_ascii=False).encode()
            + b',\n"@graph": ['
        )

    def feed(self, ntriples: bytes) -> bytes:
        """The node objects of the whole lines of ``ntriples`` (and of what an earlier call
        left unfinished); an unfinished last line waits for the next call."""
        data = self._pending + ntriples
        cut = data.rfind(b"\n") + 1
        self._pending = data[cut:]
        return self._batch(data[:cut])

    def tail(self) -> bytes:
        rest = self._batch(self._pending)
        self._pending = b""
        return rest + b"]}\n"

    def _batch(self, lines: bytes) -> bytes:
        if not lines.strip():
            return b""
        triples = [q.triple for q in ox.parse(lines, ox.RdfFormat.N_TRIPLES)]
        parts = []
        for node in _nodes(triples, self.context):
            parts.append(("\n" if self._first else ",\n") + json.dumps(node, ensure_ascii=False))
            self._first = False
        return "".join(parts).encode()
