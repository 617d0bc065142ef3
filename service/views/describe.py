"""The description of one resource, as the store holds it (the RDF a ``/doc`` page is).

A description is the resource's own triples, the triples pointing at it ("mentioned by"), and
— so a reader needs no second request to see what a link is — the labels and web pages of
everything those triples mention. Every fact keeps the named graph it lives in.

Nothing is unbounded: own triples stop at ``OWN_LIMIT``; incoming triples come a page at a
time (``INCOMING_PAGE`` per page, in a stable order); labels are fetched only for what the
page shows.

The resource's IRI is bound as a query parameter (``substitutions``), never pasted into the
query text. Labels are looked up for IRIs that came back from the store as parsed terms; they
are written into a ``VALUES`` block by pyoxigraph's own N-Triples serialisation, the same way
the store binds substitutions, because a single-row substitution cannot name a set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from service.store import Solutions, Store
from service.views.labels import LABEL_PREDICATES

OWN_LIMIT = 1000
INCOMING_PAGE = 100
#: IRIs per label query: keeps each query small for remote servers' URL and body limits.
LABEL_BATCH = 400
FOAF_PAGE = "http://xmlns.com/foaf/0.1/page"
#: What is fetched about everything a page mentions: its names and where it can be read.
ABOUT_PREDICATES = (*LABEL_PREDICATES, FOAF_PAGE)

Object = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass(frozen=True)
class Fact:
    """One triple about (or pointing at) the resource, with the graph it lives in."""

    subject: ox.NamedNode | ox.BlankNode
    predicate: ox.NamedNode
    object: Object
    graph: ox.NamedNode | None


@dataclass
class Description:
    iri: ox.NamedNode
    own: list[Fact]
    own_truncated: bool
    incoming: list[Fact]
    page: int
    has_next: bool
    #: label and page facts about everything mentioned, by IRI
    about: dict[str, list[Fact]] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.own or self.incoming)

    def labels(self) -> dict[str, list[ox.Literal]]:
        """Label literals by IRI, the resource's own included."""
        return label_literals({**self.about, self.iri.value: self.own})

    def pages(self) -> dict[str, list[str]]:
        """``foaf:page`` URLs by IRI (where a source document can be read)."""
        found: dict[str, list[str]] = {}
        for iri, facts in self.about.items():
            urls = [f.object.value for f in facts if f.predicate.value == FOAF_PAGE]
            if urls:
                found[iri] = sorted(urls)
        return found

    def quads(self) -> list[ox.Quad]:
        """All facts as quads in their graphs, without duplicates, in a stable order."""
        seen: dict[tuple[str, ...], ox.Quad] = {}
        for fact in [*self.own, *self.incoming, *(f for fs in self.about.values() for f in fs)]:
            graph = fact.graph if fact.graph is not None else ox.DefaultGraph()
            quad = ox.Quad(fact.subject, fact.predicate, fact.object, graph)
            seen.setdefault(
                (str(quad.subject), str(quad.predicate), str(quad.object), str(graph)), quad
            )
        return [seen[key] for key in sorted(seen)]


def label_literals(facts_by_iri: dict[str, list[Fact]]) -> dict[str, list[ox.Literal]]:
    """Label literals by IRI: those of the best label predicate each IRI has."""
    found: dict[str, list[ox.Literal]] = {}
    for iri, facts in facts_by_iri.items():
        for predicate in LABEL_PREDICATES:
            values = [
                f.object
                for f in facts
                if f.predicate.value == predicate and isinstance(f.object, ox.Literal)
            ]
            if values:
                found[iri] = values
                break
    return found


async def describe(store: Store, iri: ox.NamedNode, *, page: int = 1) -> Description:
    """The description of ``iri``: own triples, one page of incoming ones, and labels."""
    own_rows = await _select(
        store,
        f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT {OWN_LIMIT + 1}",
        iri,
    )
    own = [Fact(iri, row["p"], row["o"], row["g"]) for row in own_rows[:OWN_LIMIT]]
    offset = (page - 1) * INCOMING_PAGE
    incoming_rows = await _select(
        store,
        f"SELECT ?x ?p ?g WHERE {{ GRAPH ?g {{ ?x ?p ?s }} }} "
        f"ORDER BY ?p ?x ?g LIMIT {INCOMING_PAGE + 1} OFFSET {offset}",
        iri,
    )
    incoming = [Fact(row["x"], row["p"], iri, row["g"]) for row in incoming_rows[:INCOMING_PAGE]]
    description = Description(
        iri=iri,
        own=own,
        own_truncated=len(own_rows) > OWN_LIMIT,
        incoming=incoming,
        page=page,
        has_next=len(incoming_rows) > INCOMING_PAGE,
    )
    mentioned: set[str] = set()
    for fact in [*own, *incoming]:
        for term in (fact.subject, fact.predicate, fact.object, fact.graph):
            if isinstance(term, ox.NamedNode) and term != iri:
                mentioned.add(term.value)
    description.about = await about(store, mentioned)
    return description


async def about(store: Store, iris: set[str]) -> dict[str, list[Fact]]:
    """Label and ``foaf:page`` facts about each of ``iris``."""
    found: dict[str, list[Fact]] = {}
    ordered = sorted(iris)
    predicates = ", ".join(str(ox.NamedNode(p)) for p in ABOUT_PREDICATES)
    for start in range(0, len(ordered), LABEL_BATCH):
        batch = " ".join(str(ox.NamedNode(iri)) for iri in ordered[start : start + LABEL_BATCH])
        # One VALUES block and a FILTER: with a second VALUES block (for ?p) the engine joins
        # the two with a scan of the whole store — milliseconds that grow with the store.
        result = await store.query(
            "SELECT ?x ?p ?o ?g WHERE { "
            f"VALUES ?x {{ {batch} }} GRAPH ?g {{ ?x ?p ?o }} FILTER (?p IN ({predicates})) }}"
        )
        assert isinstance(result, Solutions)
        for row in result:
            found.setdefault(row["x"].value, []).append(
                Fact(row["x"], row["p"], row["o"], row["g"])
            )
    return found


async def _select(store: Store, sparql: str, iri: ox.NamedNode) -> list[ox.QuerySolution]:
    result = await store.query(sparql, substitutions={"s": iri})
    assert isinstance(result, Solutions)
    return list(result.rows)


async def exists(store: Store, iri: ox.NamedNode) -> bool:
    """Whether the published graphs say anything about ``iri`` or point at it."""
    result = await store.query(
        "ASK { { GRAPH ?g { ?s ?p ?o } } UNION { GRAPH ?g { ?x ?p ?s } } }",
        substitutions={"s": iri},
    )
    return bool(result)
