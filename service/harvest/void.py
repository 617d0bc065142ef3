"""A VoID description of the published graph, served at ``/.well-known/void``
(``service.web.routes.void``) (W3C Note
"Describing Linked Datasets with the VoID Vocabulary", §6.2 for the well-known location).

The dataset is the catalogue's ``dcat:Dataset`` (same IRI), so the two descriptions merge.
Statistics (§4.6) are computed from the store — triples, entities (IRI subjects with a type),
distinct subjects and objects, classes, properties — with class partitions (§4.5,
``void:classPartition``: instances per class) and property partitions (``void:propertyPartition``:
triples per property). Linksets (§4.4) count the triples whose object is an IRI of another
dataset, grouped by that dataset's URI space; TOOI (the Dutch government's organisation
register) is named explicitly. ``void:vocabulary`` lists the namespaces of the properties and
classes used. The service keeps the statistics of a recent content version
(``service.web.services``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, RDF, XSD

from service.config import Settings
from service.harvest.catalog import (
    CC_BY_4,
    DATASET_ONLY,
    CatalogIris,
    TripleGraph,
    canonical_identifier,
    datetime_literal,
    text_literal,
    typed_literal,
)
from service.harvest.dumps import DUMPS, Manifest, download_url
from service.rdf.conneg import GRAPH_FORMATS
from service.store import Solutions, Store

VOID = "http://rdfs.org/ns/void#"
TOOI = "https://identifier.overheid.nl/tooi/"
#: Datasets named by their URI space when they are link targets.
KNOWN_TARGETS = {
    TOOI: "TOOI (Thesaurus en Ontologieën Overheidsinformatie)",
    "http://publications.europa.eu/resource/authority/": "EU Vocabularies authority tables",
    "http://www.wikidata.org/entity/": "Wikidata",
    "https://sws.geonames.org/": "GeoNames",
}
VOID_FORMATS = tuple(f for f in GRAPH_FORMATS if f.media_type not in DATASET_ONLY)
EXAMPLES = 3


def _count(result: object) -> int:
    assert isinstance(result, Solutions)
    return int(result.rows[0]["n"].value)


def namespace(iri: str) -> str:
    """The namespace of an IRI: up to and including its last ``#`` or ``/``."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1] if cut >= 0 else iri


def link_target(iri: str, base_iri: str) -> str | None:
    """The URI space of the dataset an object IRI belongs to, or None for our own."""
    if iri.startswith(base_iri):
        return None
    for space in KNOWN_TARGETS:
        if iri.startswith(space):
            return space
    try:
        parts = urlsplit(iri)
    except ValueError:
        # urllib refuses some hosts that IRIs allow (``http://[V1.a]/``), and a contribution
        # may hold one: no linkset for it rather than no VoID at all.
        return None
    if not parts.scheme.startswith("http"):
        return None
    return f"{parts.scheme}://{parts.netloc}/"


async def statistics(store: Store, base_iri: str) -> dict[str, object]:
    """Everything the description counts, from the union of the named graphs."""
    q = store.query
    stats: dict[str, object] = {
        "triples": _count(
            await q("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }")
        ),
        "subjects": _count(await q("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }")),
        "objects": _count(await q("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }")),
        "entities": _count(
            await q("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?s)) }")
        ),
    }
    classes = await q("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c")
    properties = await q("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p")
    links = await q(
        "SELECT ?p ?o (COUNT(*) AS ?n) WHERE { ?s ?p ?o "
        f"FILTER(isIRI(?o) && ?p != <{RDF.type}>) }} GROUP BY ?p ?o"
    )
    examples = await q(
        "SELECT DISTINCT ?s WHERE { ?s a ?c "
        f"FILTER(STRSTARTS(STR(?s), {ox.Literal(base_iri + 'id/')})) }} "
        f"ORDER BY ?s LIMIT {EXAMPLES}"
    )
    assert isinstance(classes, Solutions) and isinstance(properties, Solutions)
    assert isinstance(links, Solutions) and isinstance(examples, Solutions)
    stats["classes"] = sorted((r["c"].value, int(r["n"].value)) for r in classes)
    stats["properties"] = sorted((r["p"].value, int(r["n"].value)) for r in properties)
    linksets: dict[str, Counter[str]] = {}
    for row in links:
        target = link_target(row["o"].value, base_iri)
        if target is not None:
            linksets.setdefault(target, Counter())[row["p"].value] += int(row["n"].value)
    stats["linksets"] = linksets
    stats["examples"] = [r["s"].value for r in examples]
    return stats


def build_void(
    landing: str,
    stats: dict[str, object],
    settings: Settings,
    manifest: Manifest,
    modified: datetime,
) -> list[ox.Triple]:
    """The VoID description, for the host whose landing page is ``landing``."""
    iris = CatalogIris.of(settings)
    graph = TripleGraph()
    type_ = str(RDF.type)
    integer = str(XSD.integer)
    dataset = iris.dataset
    graph.add(dataset, type_, VOID + "Dataset")
    graph.add(dataset, str(DCTERMS.title), text_literal(settings.instance_title, "en"))
    graph.add(dataset, str(DCTERMS.description), text_literal(settings.instance_description, "en"))
    graph.add(dataset, str(DCTERMS.license), CC_BY_4)
    graph.add(dataset, str(DCTERMS.publisher), settings.publisher)
    graph.add(dataset, str(DCTERMS.modified), datetime_literal(modified))
    graph.add(dataset, "http://xmlns.com/foaf/0.1/homepage", landing)
    graph.add(dataset, VOID + "sparqlEndpoint", landing + "sparql")
    graph.add(dataset, VOID + "uriSpace", text_literal(settings.base_iri + "id/"))
    graph.add(dataset, VOID + "feature", "http://www.w3.org/ns/formats/Turtle")
    graph.add(dataset, VOID + "feature", "http://www.w3.org/ns/formats/N-Quads")
    for dump in DUMPS:
        graph.add(dataset, VOID + "dataDump", download_url(landing, dump.name))
    for example in stats["examples"]:  # type: ignore[attr-defined]
        graph.add(dataset, VOID + "exampleResource", example)
    for key, prop in (
        ("triples", "triples"),
        ("entities", "entities"),
        ("subjects", "distinctSubjects"),
        ("objects", "distinctObjects"),
    ):
        graph.add(dataset, VOID + prop, typed_literal(str(stats[key]), integer))
    classes: list[tuple[str, int]] = stats["classes"]  # type: ignore[assignment]
    properties: list[tuple[str, int]] = stats["properties"]  # type: ignore[assignment]
    graph.add(dataset, VOID + "classes", typed_literal(str(len(classes)), integer))
    graph.add(dataset, VOID + "properties", typed_literal(str(len(properties)), integer))
    for cls, count in classes:
        part = ox.BlankNode()
        graph.add(dataset, VOID + "classPartition", part)
        graph.add(part, VOID + "class", cls)
        graph.add(part, VOID + "entities", typed_literal(str(count), integer))
    for prop, count in properties:
        part = ox.BlankNode()
        graph.add(dataset, VOID + "propertyPartition", part)
        graph.add(part, VOID + "property", prop)
        graph.add(part, VOID + "triples", typed_literal(str(count), integer))
    vocabularies = {namespace(p) for p, _ in properties} | {namespace(c) for c, _ in classes}
    for vocabulary in sorted(vocabularies):
        graph.add(dataset, VOID + "vocabulary", vocabulary)
    linksets: dict[str, Counter[str]] = stats["linksets"]  # type: ignore[assignment]
    for number, (space, predicates) in enumerate(sorted(linksets.items()), start=1):
        target = f"{iris.catalog}#target-{number}"
        linkset = f"{iris.catalog}#linkset-{number}"
        graph.add(target, type_, VOID + "Dataset")
        graph.add(target, VOID + "uriSpace", text_literal(space))
        if space in KNOWN_TARGETS:
            graph.add(target, str(DCTERMS.title), text_literal(KNOWN_TARGETS[space], "en"))
        graph.add(linkset, type_, VOID + "Linkset")
        graph.add(dataset, VOID + "subset", linkset)
        graph.add(linkset, VOID + "subjectsTarget", dataset)
        graph.add(linkset, VOID + "objectsTarget", target)
        graph.add(linkset, VOID + "triples", typed_literal(str(sum(predicates.values())), integer))
        for predicate in sorted(predicates):
            graph.add(linkset, VOID + "linkPredicate", predicate)
    canonical_identifier(graph, dataset, manifest)
    return graph.triples
