"""What a contribution may not say, whatever the shapes allow.

Contributions are data in their own graph, so they cannot write *into* another graph; but
the public graph is the union, so triples about the model would change what everyone reads.
A contribution is refused (as violations in its report, at the line of the offending block)
when it

- describes a term of the ontology or the shapes: any subject in ``meent:`` or ``meentsh:``,
  or any subject the ontology graph describes (classes, properties, concept schemes and
  their concepts — new concepts are proposed to the curators, not contributed);
- adds a concept to one of Meent's concept schemes (``skos:inScheme``/``skos:topConceptOf``
  pointing at one);
- defines vocabulary at all: ``rdfs:subClassOf``, ``rdfs:subPropertyOf``, ``rdfs:domain``,
  ``rdfs:range``, ``owl:equivalentClass``/``equivalentProperty``/``sameAs``/``inverseOf``, any
  ``sh:`` predicate, or a type that makes something a class, property, ontology or shape;
- describes what the service itself mints: ``{base}id/contribution/…``,
  ``{base}id/contributor/…`` and ``{base}graph/…``.

Curated resources may be *extended* (a new koppel pointing at a curated cohort, a description
of a curated commons): contradictions with their published facts are what the shapes catch
with the store as context (a second founding date, a second label in one language).
"""

from __future__ import annotations

from rdflib import Graph, Node, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS

from service.contrib.validation import ValidationResult

VOCABULARY_PREDICATES = {
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    RDFS.domain,
    RDFS.range,
    OWL.equivalentClass,
    OWL.equivalentProperty,
    OWL.sameAs,
    OWL.inverseOf,
}
VOCABULARY_TYPES = {
    OWL.Class,
    RDFS.Class,
    RDF.Property,
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    OWL.Ontology,
    SH.NodeShape,
    SH.PropertyShape,
    SKOS.ConceptScheme,
}
CONSTRAINT = URIRef("https://w3id.org/meent/shapes#ProtectedTerms")

_SUBJECT = {
    "en": "A contribution may not describe {what}: it belongs to Meent's {owner}. "
    "Remove this block; to change it, ask the curators.",
    "nl": "Een bijdrage mag {what_nl} niet beschrijven: dat hoort bij {owner_nl} van Meent. "
    "Verwijder dit blok; vraag de curatoren om een wijziging.",
}
_PREDICATE = {
    "en": "A contribution may not define vocabulary ({term}): classes, properties, shapes "
    "and concept schemes are Meent's ontology. Describe things with the existing terms.",
    "nl": "Een bijdrage mag geen vocabulaire definiëren ({term}): klassen, eigenschappen, "
    "vormen en begrippenlijsten zijn Meents ontologie. Beschrijf dingen met de bestaande termen.",
}
_SCHEME = {
    "en": "A contribution may not add concepts to Meent's concept scheme {term}; "
    "propose a new concept to the curators instead.",
    "nl": "Een bijdrage mag geen begrippen toevoegen aan Meents begrippenlijst {term}; "
    "stel een nieuw begrip voor aan de curatoren.",
}


def _violation(
    focus: Node, path: Node | None, value: Node | None, messages: dict
) -> ValidationResult:
    return ValidationResult(focus, path, value, "Violation", None, CONSTRAINT, messages)


class Protection:
    """The protected terms of one project (its ontology and shapes) under one base IRI."""

    def __init__(self, ontology: Graph, shapes: Graph, base_iri: str) -> None:
        self.model_terms = {s for s in ontology.subjects() if isinstance(s, URIRef)}
        self.shape_terms = {s for s in shapes.subjects() if isinstance(s, URIRef)}
        self.schemes = set(ontology.subjects(RDF.type, SKOS.ConceptScheme))
        self.namespaces = {
            f"{base_iri}def": ("ontology", "de ontologie"),
            f"{base_iri}shapes": ("shapes", "de vormen"),
            f"{base_iri}id/contribution/": ("contribution records", "de bijdrageregistratie"),
            f"{base_iri}id/contributor/": ("contribution records", "de bijdrageregistratie"),
            f"{base_iri}graph/": ("named graphs", "de benoemde grafen"),
        }

    def _owner(self, subject: URIRef) -> tuple[str, str] | None:
        for namespace, owner in self.namespaces.items():
            if subject.startswith(namespace):
                return owner
        if subject in self.shape_terms:
            return ("shapes", "de vormen")
        if subject in self.model_terms:
            return ("ontology", "de ontologie")
        return None

    def check(self, data: Graph) -> list[ValidationResult]:
        results: list[ValidationResult] = []
        for subject in sorted({s for s in data.subjects() if isinstance(s, URIRef)}):
            owner = self._owner(subject)
            if owner is not None:
                what = f"<{subject}>"
                results.append(
                    _violation(
                        subject,
                        None,
                        None,
                        {
                            "en": _SUBJECT["en"].format(what=what, owner=owner[0]),
                            "nl": _SUBJECT["nl"].format(what_nl=what, owner_nl=owner[1]),
                        },
                    )
                )
        for s, p, o in sorted(data):
            term = None
            if p in VOCABULARY_PREDICATES or (isinstance(p, URIRef) and p.startswith(str(SH))):
                term = p
            elif p == RDF.type and o in VOCABULARY_TYPES:
                term = o
            if term is not None:
                text = {k: v.format(term=f"<{term}>") for k, v in _PREDICATE.items()}
                results.append(_violation(s, p, o, text))
            elif p in (SKOS.inScheme, SKOS.topConceptOf) and o in self.schemes:
                text = {k: v.format(term=f"<{o}>") for k, v in _SCHEME.items()}
                results.append(_violation(s, p, o, text))
        return results
