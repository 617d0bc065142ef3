"""A contribution's named graph: its data and its PROV-O record, written in one step.

The store replaces one graph atomically, so the data and the record that says where they
came from share one graph, ``{base}graph/contribution/{id}``: a reader never sees data without
its provenance or a record without its data. The record is about ``{base}id/contribution/{id}``
(so it dereferences like every other thing) and uses only IRIs in that namespace and the
contributor's ``{base}id/contributor/{slug}``, which contributions may not describe
themselves — so the record and the submitted data can always be told apart.

What the record says (PROV-O, SPDX checksum, SHACL report)::

    <id/contribution/X> a prov:Entity ; dct:identifier "X" ; sd:name <graph/contribution/X> ;
        prov:wasAttributedTo <id/contributor/koppel-a> ; prov:generatedAtTime … ;
        dct:created … ; dct:modified … ; dct:license <…/by/4.0/> ;
        spdx:checksum <…#checksum> ;            # SHA-256 of the submitted bytes
        prov:wasGeneratedBy <…#submission> ;
        meent:standing <https://w3id.org/meent/id/standing/reported-by-contributor> ;
        prov:invalidatedAtTime … ; prov:wasInvalidatedBy <…#retraction> .   # once retracted
    <…#submission> a prov:Activity ; prov:wasAssociatedWith <contributor> [, <curator>] ;
        prov:used <https://w3id.org/meent/shapes> ; prov:generated <…#report> .
    <…#report> a sh:ValidationReport ; sh:conforms true ; owl:versionInfo "1.1.0" ;
        dct:conformsTo <https://w3id.org/meent/shapes> ; sh:result <…#result-1> , … .
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import Literal, URIRef

from service.contrib.validation import ValidationResult

PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SH = "http://www.w3.org/ns/shacl#"
SPDX = "http://spdx.org/rdf/terms#"
SD_NAME = ox.NamedNode("http://www.w3.org/ns/sparql-service-description#name")
OWL_VERSION = ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo")
XSD = "http://www.w3.org/2001/XMLSchema#"
SHAPES = ox.NamedNode("https://w3id.org/meent/shapes")
MEENT_STANDING = ox.NamedNode("https://w3id.org/meent/def#standing")
#: What a contribution's statements rest on: a contributor's report, checked against the shapes
#: but not against a published source (the standings scheme in ontology/schemes.ttl).
REPORTED_BY_CONTRIBUTOR = ox.NamedNode("https://w3id.org/meent/id/standing/reported-by-contributor")
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
LICENCES = (CC_BY, CC0)
SEVERITY = {"Violation": SH + "Violation", "Warning": SH + "Warning", "Info": SH + "Info"}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _time(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=_n(XSD + "dateTime"))


@dataclass(frozen=True)
class Names:
    """The IRIs of one contribution under a base IRI."""

    base: str
    id: str

    @property
    def graph(self) -> str:
        return f"{self.base}graph/contribution/{self.id}"

    @property
    def record(self) -> str:
        return f"{self.base}id/contribution/{self.id}"

    def part(self, name: str) -> ox.NamedNode:
        return _n(f"{self.record}#{name}")

    def agent(self, slug: str) -> str:
        return f"{self.base}id/contributor/{slug}"


@dataclass
class Record:
    names: Names
    contributor: str  # the token's name
    contributor_slug: str
    created: str
    sha256: str
    licence: str
    shapes_version: str
    warnings: Sequence[ValidationResult] = ()
    modified: str | None = None
    curator: tuple[str, str] | None = None  # (name, slug) of who accepted it in review
    revisions: list[str] = field(default_factory=list)  # checksums of earlier versions


def _term(node: object) -> ox.NamedNode | ox.Literal | None:
    if isinstance(node, URIRef):
        return _n(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        return ox.Literal(str(node), datatype=_n(str(node.datatype)) if node.datatype else None)
    return None  # blank nodes: not referable from another part of the graph


def record_triples(record: Record) -> list[ox.Triple]:
    names = record.names
    me = _n(names.record)
    agent = _n(names.agent(record.contributor_slug))
    submission = names.part("submission")
    report = names.part("report")
    checksum = names.part("checksum")
    t: list[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]] = [
        (me, RDF_TYPE, _n(PROV + "Entity")),
        (me, RDFS_LABEL, ox.Literal(f"Contribution {names.id}", language="en")),
        (me, RDFS_LABEL, ox.Literal(f"Bijdrage {names.id}", language="nl")),
        (me, _n(DCT + "identifier"), ox.Literal(names.id)),
        (me, SD_NAME, _n(names.graph)),
        (me, _n(PROV + "wasAttributedTo"), agent),
        (me, _n(PROV + "generatedAtTime"), _time(record.modified or record.created)),
        (me, _n(DCT + "created"), _time(record.created)),
        (me, _n(DCT + "license"), _n(record.licence)),
        (me, _n(SPDX + "checksum"), checksum),
        (me, _n(PROV + "wasGeneratedBy"), submission),
        (me, MEENT_STANDING, REPORTED_BY_CONTRIBUTOR),
        (checksum, RDF_TYPE, _n(SPDX + "Checksum")),
        (checksum, _n(SPDX + "algorithm"), _n(SPDX + "checksumAlgorithm_sha256")),
        (checksum, _n(SPDX + "checksumValue"), ox.Literal(record.sha256)),
        (agent, RDF_TYPE, _n(PROV + "Agent")),
        (agent, RDFS_LABEL, ox.Literal(record.contributor)),
        (submission, RDF_TYPE, _n(PROV + "Activity")),
        (submission, _n(PROV + "wasAssociatedWith"), agent),
        (submission, _n(PROV + "endedAtTime"), _time(record.modified or record.created)),
        (submission, _n(PROV + "used"), SHAPES),
        (submission, _n(PROV + "generated"), report),
        (report, RDF_TYPE, _n(SH + "ValidationReport")),
        (report, _n(SH + "conforms"), ox.Literal("true", datatype=_n(XSD + "boolean"))),
        (report, _n(DCT + "conformsTo"), SHAPES),
        (report, OWL_VERSION, ox.Literal(record.shapes_version)),
    ]
    if record.modified:
        t.append((me, _n(DCT + "modified"), _time(record.modified)))
    for old in record.revisions:
        t.append((me, _n(PROV + "wasRevisionOf"), _n(f"{names.record}#sha256-{old}")))
    if record.curator is not None:
        name, slug = record.curator
        curator = _n(names.agent(slug))
        t += [
            (submission, _n(PROV + "wasAssociatedWith"), curator),
            (curator, RDF_TYPE, _n(PROV + "Agent")),
            (curator, RDFS_LABEL, ox.Literal(name)),
        ]
    for n, result in enumerate(record.warnings, start=1):
        node = names.part(f"result-{n}")
        t += [
            (report, _n(SH + "result"), node),
            (node, RDF_TYPE, _n(SH + "ValidationResult")),
            (node, _n(SH + "resultSeverity"), _n(SEVERITY.get(result.severity, SH + "Warning"))),
        ]
        for predicate, value in (
            ("focusNode", result.focus),
            ("resultPath", result.path),
            ("value", result.value),
            ("sourceShape", result.source_shape),
        ):
            term = _term(value)
            if term is not None:
                t.append((node, _n(SH + predicate), term))
        for lang, message in result.messages.items():
            t.append((node, _n(SH + "resultMessage"), ox.Literal(message, language=lang or None)))
    return [ox.Triple(*triple) for triple in t]


def retraction_triples(names: Names, when: str, who: str, slug: str) -> list[ox.Triple]:
    """What a retraction adds to the record: when, and by whom."""
    me = _n(names.record)
    retraction = names.part("retraction")
    agent = _n(names.agent(slug))
    return [
        ox.Triple(*t)
        for t in (
            (me, _n(PROV + "invalidatedAtTime"), _time(when)),
            (me, _n(PROV + "wasInvalidatedBy"), retraction),
            (retraction, RDF_TYPE, _n(PROV + "Activity")),
            (retraction, _n(PROV + "wasAssociatedWith"), agent),
            (retraction, _n(PROV + "endedAtTime"), _time(when)),
            (agent, RDF_TYPE, _n(PROV + "Agent")),
            (agent, RDFS_LABEL, ox.Literal(who)),
        )
    ]


def graph_triples(data: Iterable[ox.Triple], record: Record) -> list[ox.Triple]:
    """Everything the contribution's graph holds: the data, then the record."""
    return [*data, *record_triples(record)]


# --- reading records back ----------------------------------------------------------------------

#: One row per record in the contribution graphs, newest first; ?prefix is bound.
LIST_QUERY = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
PREFIX spdx: <http://spdx.org/rdf/terms#>
SELECT ?g ?record ?id ?who ?agent ?created ?modified ?retracted ?sha ?licence WHERE {
  GRAPH ?g {
    ?record sd:name ?g ; dct:identifier ?id ; prov:wasAttributedTo ?agent ;
      dct:created ?created ; dct:license ?licence ; spdx:checksum/spdx:checksumValue ?sha .
    ?agent rdfs:label ?who .
    OPTIONAL { ?record dct:modified ?modified }
    OPTIONAL { ?record prov:invalidatedAtTime ?retracted }
  }
  FILTER (STRSTARTS(STR(?g), ?prefix))
}
ORDER BY DESC(?created) ?id
"""

#: The triples a contribution's graph holds besides its record (its submitted data).
DATA_QUERY = """
CONSTRUCT { ?s ?p ?o } WHERE {
  GRAPH ?g { ?s ?p ?o }
  FILTER (isBlank(?s) || !(STRSTARTS(STR(?s), ?records) || STRSTARTS(STR(?s), ?agents)))
}
"""

#: The warnings a contribution passed with.
REPORT_QUERY = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?result ?severity ?focus ?path ?value ?message ?version WHERE {
  GRAPH ?g {
    ?record prov:wasGeneratedBy/prov:generated ?report .
    ?report owl:versionInfo ?version .
    OPTIONAL {
      ?report sh:result ?result . ?result sh:resultSeverity ?severity .
      OPTIONAL { ?result sh:focusNode ?focus }
      OPTIONAL { ?result sh:resultPath ?path }
      OPTIONAL { ?result sh:value ?value }
      OPTIONAL { ?result sh:resultMessage ?message }
    }
  }
}
"""
