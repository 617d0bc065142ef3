"""The JSON-LD ``@context`` of the ontology (``/def/context.jsonld``), generated from it.

Every prefix of ``vocab.PREFIXES`` becomes a term, so compact IRIs (``org:Organization``) work;
every Meent class and property becomes a plain term (``Koppel``, ``inCohort``). Object
properties say their values are IRIs (``"@type": "@id"``); datatype properties with one
XSD range carry that datatype, and those whose range is ``rdf:langString`` are language maps.
"""

from __future__ import annotations

from typing import Any

from service.views.graphindex import GraphIndex
from service.vocab import PREFIXES

_OWL, _RDFS, _RDF, _XSD = PREFIXES["owl"], PREFIXES["rdfs"], PREFIXES["rdf"], PREFIXES["xsd"]


def context(ontology: GraphIndex, base_iri: str) -> dict[str, Any]:
    namespace = base_iri + "def#"
    terms: dict[str, Any] = {prefix: iri for prefix, iri in sorted(PREFIXES.items())}
    terms["meent"] = namespace
    for node in ontology.typed(_OWL + "Class"):
        if node.value.startswith(namespace):
            terms[node.value[len(namespace) :]] = node.value
    for node in ontology.typed(_OWL + "ObjectProperty"):
        if node.value.startswith(namespace):
            terms[node.value[len(namespace) :]] = {"@id": node.value, "@type": "@id"}
    for node in ontology.typed(_OWL + "DatatypeProperty"):
        if not node.value.startswith(namespace):
            continue
        definition: dict[str, str] = {"@id": node.value}
        ranges = [r.value for r in ontology.iris(node, _RDFS + "range")]
        if ranges == [_RDF + "langString"]:
            definition["@container"] = "@language"
        elif len(ranges) == 1 and ranges[0].startswith(_XSD):
            definition["@type"] = ranges[0]
        terms[node.value[len(namespace) :]] = definition
    return {"@context": terms}
