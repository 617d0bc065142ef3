"""Ways into the graph: what it holds (counts per class and per graph), lists of the things
of one class or one IRI type, and a search over labels.

Every list is paged with a stable order and one extra row to tell whether a next page exists.
Values from the request (a class IRI, a type segment, a search text) are bound with
``substitutions`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from service.store import Solutions, Store
from service.views.labels import LABEL_PREDICATES

PAGE_SIZE = 50
SEARCH_LIMIT = 50
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_LABELS = " ".join(str(ox.NamedNode(p)) for p in LABEL_PREDICATES)


@dataclass(frozen=True)
class Count:
    iri: ox.NamedNode
    count: int


@dataclass(frozen=True)
class Listing:
    items: list[ox.NamedNode]
    page: int
    has_next: bool


async def class_counts(store: Store) -> list[Count]:
    """How many things of each class the published graphs hold, most first."""
    result = await store.query(
        "SELECT ?class (COUNT(DISTINCT ?x) AS ?n) WHERE { GRAPH ?g { ?x a ?class } "
        "FILTER(isIRI(?class)) } GROUP BY ?class "
        "ORDER BY DESC(?n) ?class"
    )
    assert isinstance(result, Solutions)
    return [Count(row["class"], int(row["n"].value)) for row in result]


async def graph_counts(store: Store) -> list[Count]:
    """Triples per published named graph, in IRI order."""
    result = await store.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    )
    assert isinstance(result, Solutions)
    return [Count(row["g"], int(row["n"].value)) for row in result]


async def _listing(
    store: Store, sparql: str, page: int, bindings: dict[str, ox.NamedNode | ox.Literal]
) -> Listing:
    offset = (page - 1) * PAGE_SIZE
    result = await store.query(
        f"{sparql} ORDER BY ?x LIMIT {PAGE_SIZE + 1} OFFSET {offset}", substitutions=bindings
    )
    assert isinstance(result, Solutions)
    items = [row["x"] for row in result if isinstance(row["x"], ox.NamedNode)]
    return Listing(items[:PAGE_SIZE], page, len(result) > PAGE_SIZE)


async def instances(store: Store, class_iri: ox.NamedNode, page: int = 1) -> Listing:
    """Things typed ``class_iri``, in IRI order."""
    return await _listing(
        store, "SELECT DISTINCT ?x WHERE { ?x a ?class }", page, {"class": class_iri}
    )


async def under(store: Store, prefix: str, page: int = 1) -> Listing:
    """Typed things whose IRI is ``prefix`` + one more segment (``…/id/commons/`` + slug).

    The prefix is bound as a value to join on — a trailing VALUES binding is invisible to a
    FILTER (SPARQL 1.1 Query §18.2.4.3 joins it after the pattern) — so the pattern computes
    each IRI's prefix and the binding picks the matching ones.
    """
    return await _listing(
        store,
        'SELECT DISTINCT ?x WHERE { ?x a ?type . BIND(REPLACE(STR(?x), "[^/]+$", "") AS ?prefix) }',
        page,
        {"prefix": ox.Literal(prefix)},
    )


async def search(store: Store, text: str) -> list[ox.NamedNode]:
    """Things whose label contains ``text`` (case-insensitive), best matches first.

    A FILTER cannot see a bound value (see ``under``), but a SELECT expression can: it is
    evaluated after the binding is joined (§18.2.4.4). So every label is ranked by whether it
    matches — then by whether it starts with the text, then by its length — and the rows that
    do not match are dropped here.
    """
    needle = text.strip().lower()
    if not needle:
        return []
    result = await store.query(
        "SELECT DISTINCT ?x (CONTAINS(LCASE(STR(?label)), ?q) AS ?hit) "
        "(STRSTARTS(LCASE(STR(?label)), ?q) AS ?prefix) (STRLEN(STR(?label)) AS ?length) "
        f"WHERE {{ VALUES ?lp {{ {_LABELS} }} GRAPH ?g {{ ?x ?lp ?label }} "
        f"FILTER(isIRI(?x)) }} "
        f"ORDER BY DESC(?hit) DESC(?prefix) ?length ?x LIMIT {SEARCH_LIMIT * 4}",
        substitutions={"q": ox.Literal(needle)},
    )
    assert isinstance(result, Solutions)
    found: list[ox.NamedNode] = []
    for row in result:
        if row["hit"] is None or row["hit"].value != "true":
            break  # hits come first; the rest do not match
        if row["x"] not in found:
            found.append(row["x"])
    return found[:SEARCH_LIMIT]
