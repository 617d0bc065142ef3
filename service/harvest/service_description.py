"""The SPARQL Service Description of ``/sparql``
(https://www.w3.org/TR/sparql11-service-description/), with VoID counts of the default
dataset: what a client may ask, in which formats, over which graphs.
"""

from __future__ import annotations

import pyoxigraph as ox

from service.config import Settings
from service.rdf.conneg import GRAPH_FORMATS, RESULT_FORMATS
from service.store import Store

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS = "http://www.w3.org/ns/formats/"
SD_PREFIXES = {"sd": SD, "void": VOID, "formats": FORMATS}
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

#: W3C format IRIs (https://www.w3.org/ns/formats/) for the formats /sparql writes.
FORMAT_IRIS = {
    "application/sparql-results+json": "SPARQL_Results_JSON",
    "application/sparql-results+xml": "SPARQL_Results_XML",
    "text/csv": "SPARQL_Results_CSV",
    "text/tab-separated-values": "SPARQL_Results_TSV",
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF_XML",
    "application/n-quads": "N-Quads",
    "application/trig": "TriG",
}


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def _void(name: str) -> ox.NamedNode:
    return ox.NamedNode(VOID + name)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=XSD_INTEGER)


async def service_description(store: Store, settings: Settings, endpoint: str) -> list[ox.Triple]:
    """The description of the service at ``endpoint`` (its ``sd:endpoint`` is that URL)."""
    service = ox.NamedNode(endpoint)
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), service),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
    ]
    if settings.federation:
        triples.append(ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
    for fmt in (*RESULT_FORMATS, *GRAPH_FORMATS):
        name = FORMAT_IRIS.get(fmt.media_type)
        if name:
            triples.append(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(FORMATS + name)))

    dataset = ox.BlankNode()
    default_graph = ox.BlankNode()
    triples += [
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, _sd("Graph")),
        ox.Triple(default_graph, _void("triples"), _integer(await store.triple_count())),
    ]
    for graph_iri in sorted(await store.graph_iris()):
        named = ox.BlankNode()
        graph = ox.BlankNode()
        count = await store.triple_count(graph_iri)
        triples += [
            ox.Triple(dataset, _sd("namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(named, _sd("name"), ox.NamedNode(graph_iri)),
            ox.Triple(named, _sd("graph"), graph),
            ox.Triple(graph, RDF_TYPE, _sd("Graph")),
            ox.Triple(graph, _void("triples"), _integer(count)),
        ]
    return triples
