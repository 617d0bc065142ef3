"""Example queries: read ``queries/*.rq`` with their headers, publish them as SPARQL examples.

Each file holds one research question. It starts with a header in the grlc decorator style
(CLARIAH grlc, "Query decorators": lines that begin with ``#+``, read as a small YAML
document), bilingual as ``English / Nederlands``::

    #+ summary: Koppels per theme / Koppels per thema
    #+ description: Which themes the koppels work on. / Aan welke thema's de koppels werken.
    #+ tags:
    #+   - koppels
    #+ expect:
    #+   - rows 7
    #+   - row ?theme=<https://w3id.org/meent/id/theme/urban-agriculture> ?koppels=1

``expect`` states what the question promises on the curated data, in a small language that the
tests check (one statement per item; ``TERM`` is ``<iri>``, ``prefix:name`` resolved with the
query's ``PREFIX`` lines and Meent's prefix map, ``"text"``, ``"text"@nl``,
``"text"^^datatype``, an integer, a decimal, ``true``/``false``, or ``UNDEF`` for unbound):

===============================  ===========================================================
``rows N``                       exactly N solutions (SELECT)
``min-rows N`` / ``max-rows N``  at least / at most N solutions
``row ?v=TERM …``                some solution binds every named variable so
``no-row ?v=TERM …``             no solution binds every named variable so
``first-row ?v=TERM …``          the first solution does (checks ORDER BY)
``ask true`` / ``ask false``     the answer of an ASK query
``triple S P O``                 the CONSTRUCT/DESCRIBE graph holds the triple (``UNDEF`` is
                                 a wildcard)
``no-triple S P O``              it holds no such triple
``min-triples N`` /              at least / at most N triples
``max-triples N``
===============================  ===========================================================

The examples are published as RDF the way SIB's ``sparql-examples`` do: each one an
``sh:SPARQLExecutable`` (SHACL 1.0 §5.2, "SPARQL-based constraints", for ``sh:select`` /
``sh:ask`` / ``sh:construct``) with ``rdfs:label``, ``rdfs:comment``, ``schema:keywords`` and
``schema:target`` the endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal as LiteralType

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SH

from service.rdf import sparqltext
from service.rdf.sparqltext import QueryForm
from service.vocab import BASE_IRI, PREFIXES, SCHEMA

#: SIB's term for the text of a DESCRIBE example (SHACL has no ``sh:describe``).
SPEX = Namespace("https://purl.expasy.org/sparql-examples/ontology#")

#: The forms an example question may have (``sparqltext.QueryForm``, in lower case).
ExampleForm = LiteralType["select", "ask", "construct", "describe"]
EXAMPLE_FORMS = (QueryForm.SELECT, QueryForm.ASK, QueryForm.CONSTRUCT, QueryForm.DESCRIBE)
LANGS = ("en", "nl")  # the order of the two halves of a bilingual header value

#: Expectation kinds, by what they take.
COUNT_KINDS = frozenset({"rows", "min-rows", "max-rows", "min-triples", "max-triples"})
ROW_KINDS = frozenset({"row", "no-row", "first-row"})
TRIPLE_KINDS = frozenset({"triple", "no-triple"})
SELECT_KINDS = frozenset({"rows", "min-rows", "max-rows"}) | ROW_KINDS
GRAPH_KINDS = frozenset({"min-triples", "max-triples"}) | TRIPLE_KINDS

_XSD = PREFIXES["xsd"]
_IRI = r"<[^<>\"{}|^`\\\s]*>"
_PNAME = r"[A-Za-z][\w.-]*:[\w.-]*"
_TERM = re.compile(
    rf"""(?P<iri>{_IRI})
      | "(?P<lex>(?:[^"\\]|\\.)*)"(?:@(?P<lang>[A-Za-z]+(?:-[A-Za-z0-9]+)*)
                                   |\^\^(?P<dt>{_IRI}|{_PNAME}))?
      | (?P<decimal>[+-]?\d*\.\d+)
      | (?P<integer>[+-]?\d+)
      | (?P<boolean>true|false)
      | (?P<undef>UNDEF)
      | (?P<pname>{_PNAME})""",
    re.VERBOSE,
)
_BINDING = re.compile(r"\?(?P<var>[A-Za-z_]\w*)=")

Term = ox.NamedNode | ox.Literal


class QueryHeaderError(ValueError):
    """A query file's header is missing something or cannot be read."""


@dataclass(frozen=True)
class Expectation:
    """One ``#+ expect:`` statement, parsed (see the module docstring for the language)."""

    kind: str
    text: str
    count: int | None = None
    answer: bool | None = None
    bindings: Mapping[str, Term | None] = field(default_factory=dict)
    pattern: tuple[Term | None, Term | None, Term | None] | None = None

    @property
    def names_a_fact(self) -> bool:
        """True when it names a specific IRI or literal of the data (not only a count)."""
        if self.kind == "ask":
            return True
        terms = list(self.bindings.values()) + list(self.pattern or ())
        return any(term is not None for term in terms)


@dataclass(frozen=True)
class ExampleQuery:
    """One research question from ``queries/``: its bilingual header and its text."""

    slug: str
    path: Path
    summary: Mapping[str, str]
    description: Mapping[str, str]
    tags: tuple[str, ...]
    query_text: str
    query_form: ExampleForm
    expectations: tuple[Expectation, ...] = ()


# ---------------------------------------------------------------- header


def header_lines(text: str) -> list[str]:
    """The ``#+`` decorator lines of a query, without the ``#+`` marker (as grlc reads them)."""
    return [line[2:] for line in text.splitlines() if line.startswith("#+")]


def _scalar(text: str, number: int) -> str:
    """A YAML scalar as the headers write it: plain, or in single quotes (``''`` for ``'``).

    Plain scalars that YAML would read differently (``: `` makes a mapping, `` #`` starts a
    comment) are refused, so a header means the same here as in grlc.
    """
    if len(text) >= 2 and text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if ": " in text or " #" in text or text.startswith(("'", '"', "{", "[", "&", "*", "!", "|")):
        raise QueryHeaderError(
            f"header line {number}: put {text[:40]!r}… in single quotes (YAML would misread it)"
        )
    return text


def parse_header(text: str) -> dict[str, str | list[str]]:
    """Read the decorator header: ``key: value`` lines and ``key:`` followed by ``- item`` lines.

    This is the subset of YAML the headers use, so grlc reads the same headers; no YAML
    library is needed.
    """
    header: dict[str, str | list[str]] = {}
    current: str | None = None
    for number, raw in enumerate(header_lines(text), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("- "):
            items = header.get(current) if current else None
            if not isinstance(items, list):
                raise QueryHeaderError(f"header line {number}: a list item outside a list")
            items.append(_scalar(line[2:].strip(), number))
            continue
        key, sep, value = line.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z_][\w-]*", key):
            raise QueryHeaderError(f"header line {number}: expected 'key: value', got {line!r}")
        if key in header:
            raise QueryHeaderError(f"header line {number}: {key!r} given twice")
        value = value.strip()
        header[key] = _scalar(value, number) if value else []
        current = key
    return header


def bilingual(value: str | list[str] | None, key: str) -> dict[str, str]:
    """Split ``English / Nederlands`` into ``{"en": …, "nl": …}``."""
    if not isinstance(value, str) or not value:
        raise QueryHeaderError(f"the header has no {key!r}")
    parts = [part.strip() for part in value.split(" / ")]
    if len(parts) != len(LANGS) or not all(parts):
        raise QueryHeaderError(f"{key!r} must be 'English / Nederlands', got {value!r}")
    return dict(zip(LANGS, parts, strict=True))


def query_form(query_text: str) -> ExampleForm:
    """The form of a SPARQL query (SPARQL 1.1 §16): select, ask, construct or describe."""
    form = sparqltext.query_form(query_text)
    if form not in EXAMPLE_FORMS:
        raise QueryHeaderError("not a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    return form.value.lower()  # type: ignore[return-value]


def query_prefixes(query_text: str) -> dict[str, str]:
    """The ``PREFIX`` declarations of a query."""
    return sparqltext.prefix_declarations(query_text)


# ---------------------------------------------------------------- expectations


def parse_term(text: str, prefixes: Mapping[str, str]) -> tuple[Term | None, int]:
    """Parse one term at the start of ``text``; returns it (None for UNDEF) and its length."""
    match = _TERM.match(text)
    if match is None:
        raise QueryHeaderError(f"expected an RDF term at {text[:40]!r}")

    def expand(name: str) -> str:
        if name.startswith("<"):
            return name[1:-1]
        prefix, _, local = name.partition(":")
        if prefix not in prefixes:
            raise QueryHeaderError(f"unknown prefix {prefix!r} in {name!r}")
        return prefixes[prefix] + local

    kind = match.lastgroup
    term: Term | None
    if match.group("iri"):
        term = ox.NamedNode(match.group("iri")[1:-1])
    elif match.group("lex") is not None:
        lexical = re.sub(r"\\(.)", r"\1", match.group("lex"))
        if match.group("lang"):
            term = ox.Literal(lexical, language=match.group("lang").lower())
        elif match.group("dt"):
            term = ox.Literal(lexical, datatype=ox.NamedNode(expand(match.group("dt"))))
        else:
            term = ox.Literal(lexical)
    elif kind in ("decimal", "integer", "boolean"):
        term = ox.Literal(match.group(kind), datatype=ox.NamedNode(_XSD + kind))
    elif kind == "undef":
        term = None
    else:
        term = ox.NamedNode(expand(match.group("pname")))
    return term, match.end()


def parse_expectation(text: str, prefixes: Mapping[str, str] | None = None) -> Expectation:
    """Parse one ``expect`` statement; ``prefixes`` extend Meent's prefix map."""
    known = {**PREFIXES, **(prefixes or {})}
    kind, _, rest = text.strip().partition(" ")
    rest = rest.strip()
    if kind in COUNT_KINDS:
        if not re.fullmatch(r"\d+", rest):
            raise QueryHeaderError(f"{kind!r} takes a number: {text!r}")
        return Expectation(kind, text, count=int(rest))
    if kind == "ask":
        if rest not in ("true", "false"):
            raise QueryHeaderError(f"'ask' takes true or false: {text!r}")
        return Expectation(kind, text, answer=rest == "true")
    if kind in ROW_KINDS:
        bindings: dict[str, Term | None] = {}
        while rest:
            match = _BINDING.match(rest)
            if match is None:
                raise QueryHeaderError(f"expected ?variable=TERM at {rest[:40]!r} in {text!r}")
            term, length = parse_term(rest[match.end() :], known)
            bindings[match.group("var")] = term
            rest = rest[match.end() + length :].lstrip()
        if not bindings:
            raise QueryHeaderError(f"{kind!r} names no variable: {text!r}")
        return Expectation(kind, text, bindings=bindings)
    if kind in TRIPLE_KINDS:
        terms: list[Term | None] = []
        while rest:
            term, length = parse_term(rest, known)
            terms.append(term)
            rest = rest[length:].lstrip()
        if len(terms) != 3:
            raise QueryHeaderError(f"{kind!r} takes subject, predicate and object: {text!r}")
        return Expectation(kind, text, pattern=(terms[0], terms[1], terms[2]))
    raise QueryHeaderError(f"unknown expectation {kind!r} in {text!r}")


# ---------------------------------------------------------------- reading


def read_query(path: Path) -> ExampleQuery:
    """Read one ``.rq`` file into an :class:`ExampleQuery`."""
    text = path.read_text(encoding="utf-8")
    try:
        header = parse_header(text)
        tags = header.get("tags", [])
        if isinstance(tags, str):
            tags = [tags]
        expect = header.get("expect", [])
        if isinstance(expect, str):
            expect = [expect]
        query_text = "\n".join(
            line for line in text.splitlines() if not line.startswith("#+")
        ).strip()
        prefixes = query_prefixes(query_text)
        return ExampleQuery(
            slug=path.stem,
            path=path,
            summary=bilingual(header.get("summary"), "summary"),
            description=bilingual(header.get("description"), "description"),
            tags=tuple(tags),
            query_text=query_text + "\n",
            query_form=query_form(query_text),
            expectations=tuple(parse_expectation(item, prefixes) for item in expect),
        )
    except QueryHeaderError as error:
        raise QueryHeaderError(f"{path.name}: {error}") from error


def read_queries(directory: Path) -> list[ExampleQuery]:
    """Every ``*.rq`` directly in ``directory`` (not its subfolders), sorted by slug."""
    return [read_query(path) for path in sorted(directory.glob("*.rq"))]


# ---------------------------------------------------------------- publication


_EXECUTABLE = {
    "select": (SH.SPARQLSelectExecutable, SH.select),
    "ask": (SH.SPARQLAskExecutable, SH.ask),
    "construct": (SH.SPARQLConstructExecutable, SH.construct),
    "describe": (None, SPEX.describe),
}


def example_iri(slug: str, base_iri: str = BASE_IRI) -> URIRef:
    """The IRI of an example: ``{base}id/query/{slug}``."""
    return URIRef(f"{base_iri}id/query/{slug}")


def examples_graph(
    examples: Iterable[ExampleQuery], endpoint_iri: str, base_iri: str = BASE_IRI
) -> Graph:
    """The examples as ``sh:SPARQLExecutable`` resources, after SIB's ``sparql-examples``.

    Served at ``/.well-known/sparql-examples``; ``endpoint_iri`` is the SPARQL endpoint the
    examples run on (``schema:target``).
    """
    graph = Graph()
    graph.bind("sh", SH)
    graph.bind("schema", SCHEMA)
    graph.bind("spex", SPEX)
    target = URIRef(endpoint_iri)
    for example in examples:
        node = example_iri(example.slug, base_iri)
        form_class, text_property = _EXECUTABLE[example.query_form]
        graph.add((node, RDF.type, SH.SPARQLExecutable))
        if form_class is not None:
            graph.add((node, RDF.type, form_class))
        for lang, text in example.summary.items():
            graph.add((node, RDFS.label, Literal(text, lang=lang)))
        for lang, text in example.description.items():
            graph.add((node, RDFS.comment, Literal(text, lang=lang)))
        graph.add((node, text_property, Literal(example.query_text)))
        for tag in example.tags:
            graph.add((node, SCHEMA.keywords, Literal(tag)))
        graph.add((node, SCHEMA.target, target))
    return graph
