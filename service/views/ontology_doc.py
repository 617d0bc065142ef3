"""The documentation of the ontology (``/def``) and of the shapes (``/shapes``), built from
their named graphs: every class, property and concept scheme, and every shape, with an anchor
so a term IRI (``…/def#Koppel``) lands on its section."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyoxigraph as ox

from service.store import Store
from service.views.graphindex import GraphIndex
from service.views.labels import compact, label_of, pick
from service.views.links import local_href
from service.vocab import PREFIXES

_RDFS, _OWL, _SKOS, _SH = PREFIXES["rdfs"], PREFIXES["owl"], PREFIXES["skos"], PREFIXES["sh"]
_SCHEMA, _DCT = PREFIXES["schema"], PREFIXES["dct"]
_RDF_PROPERTY = PREFIXES["rdf"] + "Property"


@dataclass(frozen=True)
class Ref:
    """A term another term refers to, linked and labelled."""

    iri: str
    href: str
    label: str


@dataclass
class TermDoc:
    anchor: str
    iri: str
    curie: str
    label: str
    kind: str
    definition: str | None = None
    comment: str | None = None
    #: (message key, references) rows: subclass of, domain, range, shapes …
    rows: list[tuple[str, list[Ref]]] = field(default_factory=list)
    #: for shapes: their property shapes
    parts: list[TermDoc] = field(default_factory=list)
    #: small facts as (message key, text): severity, counts, messages
    notes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Doc:
    iri: str
    title: str
    description: str | None
    version: str | None
    license: Ref | None
    namespace: str
    prefix: str
    sections: list[tuple[str, list[TermDoc]]]


async def graph_index(store: Store, graph_iri: str) -> GraphIndex:
    result = await store.query(
        "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
        substitutions={"g": ox.NamedNode(graph_iri)},
    )
    assert isinstance(result, list)
    return GraphIndex(result)


class _Writer:
    def __init__(
        self, index: GraphIndex, lang: str, base_iri: str, labels: dict[str, list[ox.Literal]]
    ) -> None:
        self.index, self.lang, self.base_iri, self.labels = index, lang, base_iri, labels

    def text(self, node: ox.NamedNode, predicate: str) -> str | None:
        chosen = pick(self.index.literals(node, predicate), self.lang)
        return chosen.value if chosen is not None else None

    def ref(self, iri: str) -> Ref:
        own = iri.startswith(self.base_iri)
        # Reused vocabularies are documented by their publishers: link to them directly.
        href = local_href(iri, self.base_iri) if own else iri
        return Ref(iri, href, label_of(iri, self.labels, self.lang))

    def refs(self, node: ox.NamedNode, *predicates: str) -> list[Ref]:
        return [self.ref(o.value) for p in predicates for o in self.index.iris(node, p)]


def _anchor(iri: str) -> str:
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]


def ontology_doc(ontology: GraphIndex, shapes: GraphIndex, lang: str, base_iri: str) -> Doc:
    labels = {**shapes.labels(), **ontology.labels()}
    w = _Writer(ontology, lang, base_iri, labels)
    iri = ox.NamedNode(base_iri + "def")
    namespace = base_iri + "def#"
    shapes_by_class: dict[str, list[Ref]] = {}
    shapes_by_path: dict[str, list[Ref]] = {}
    sw = _Writer(shapes, lang, base_iri, labels)
    for shape in shapes.typed(_SH + "NodeShape"):
        for target in shapes.iris(shape, _SH + "targetClass"):
            shapes_by_class.setdefault(target.value, []).append(sw.ref(shape.value))
        for part in shapes.iris(shape, _SH + "property"):
            for path in shapes.iris(part, _SH + "path"):
                shapes_by_path.setdefault(path.value, []).append(sw.ref(part.value))

    classes = []
    for node in ontology.typed(_OWL + "Class"):
        if not node.value.startswith(namespace):
            continue
        properties = [
            w.ref(p.value)
            for p in ontology.subjects(_RDFS + "domain", node.value)
            + ontology.subjects(_SCHEMA + "domainIncludes", node.value)
            if isinstance(p, ox.NamedNode)
        ]
        classes.append(
            TermDoc(
                anchor=_anchor(node.value),
                iri=node.value,
                curie=compact(node.value),
                label=label_of(node.value, labels, lang),
                kind="owl:Class",
                definition=w.text(node, _SKOS + "definition"),
                comment=w.text(node, _RDFS + "comment"),
                rows=[
                    ("subclass_of", w.refs(node, _RDFS + "subClassOf")),
                    ("used_with", sorted(properties, key=lambda r: r.label.lower())),
                    ("shapes_applying", shapes_by_class.get(node.value, [])),
                    (
                        "instances",
                        [Ref(node.value, "/index?" + urlencode({"class": node.value}), "…")],
                    ),
                ],
            )
        )
    properties = []
    for node in ontology.typed(_OWL + "ObjectProperty", _OWL + "DatatypeProperty", _RDF_PROPERTY):
        if not node.value.startswith(namespace):
            continue
        types = {t.value for t in ontology.iris(node, PREFIXES["rdf"] + "type")}
        kind = (
            "owl:DatatypeProperty" if _OWL + "DatatypeProperty" in types else "owl:ObjectProperty"
        )
        properties.append(
            TermDoc(
                anchor=_anchor(node.value),
                iri=node.value,
                curie=compact(node.value),
                label=label_of(node.value, labels, lang),
                kind=kind,
                definition=w.text(node, _SKOS + "definition"),
                comment=w.text(node, _RDFS + "comment"),
                rows=[
                    ("domain", w.refs(node, _RDFS + "domain", _SCHEMA + "domainIncludes")),
                    ("range", w.refs(node, _RDFS + "range", _SCHEMA + "rangeIncludes")),
                    ("subproperty_of", w.refs(node, _RDFS + "subPropertyOf")),
                    ("shapes_applying", shapes_by_path.get(node.value, [])),
                ],
            )
        )
    schemes = []
    for node in ontology.typed(_SKOS + "ConceptScheme"):
        concepts = [
            w.ref(c.value)
            for c in ontology.subjects(_SKOS + "inScheme", node.value)
            if isinstance(c, ox.NamedNode)
        ]
        schemes.append(
            TermDoc(
                anchor="scheme-" + _anchor(node.value),
                iri=node.value,
                curie=node.value,
                label=label_of(node.value, labels, lang),
                kind="skos:ConceptScheme",
                definition=w.text(node, _SKOS + "definition"),
                rows=[("concepts", sorted(concepts, key=lambda r: r.label.lower()))],
            )
        )
    licence = ontology.iris(iri, _DCT + "license")
    version = pick(ontology.literals(iri, _OWL + "versionInfo"), lang)
    return Doc(
        iri=iri.value,
        title=w.text(iri, _DCT + "title") or "Meent ontology",
        description=w.text(iri, _DCT + "description"),
        version=version.value if version else None,
        license=Ref(licence[0].value, licence[0].value, licence[0].value) if licence else None,
        namespace=namespace,
        prefix="meent",
        sections=[
            ("classes", sorted(classes, key=lambda t: t.label.lower())),
            ("properties_title", sorted(properties, key=lambda t: t.label.lower())),
            ("schemes", sorted(schemes, key=lambda t: t.label.lower())),
        ],
    )


def shapes_doc(shapes: GraphIndex, ontology: GraphIndex, lang: str, base_iri: str) -> Doc:
    labels = {**ontology.labels(), **shapes.labels()}
    w = _Writer(shapes, lang, base_iri, labels)
    iri = ox.NamedNode(base_iri + "shapes")
    node_shapes = []
    for node in shapes.typed(_SH + "NodeShape"):
        parts = []
        for part in shapes.iris(node, _SH + "property"):
            notes = []
            severity = shapes.iris(part, _SH + "severity")
            if severity:
                notes.append(("severity", severity[0].value.removeprefix(_SH)))
            low = shapes.literals(part, _SH + "minCount")
            high = shapes.literals(part, _SH + "maxCount")
            if low or high:
                notes.append(
                    (
                        "count_range",
                        f"{low[0].value if low else 0}…{high[0].value if high else '∞'}",
                    )
                )
            message = w.text(part, _SH + "message")
            if message:
                notes.append(("message", message))
            parts.append(
                TermDoc(
                    anchor=_anchor(part.value),
                    iri=part.value,
                    curie=compact(part.value),
                    label=w.text(part, _SH + "name") or _anchor(part.value),
                    kind="sh:PropertyShape",
                    rows=[
                        ("path", w.refs(part, _SH + "path")),
                        ("range", w.refs(part, _SH + "class", _SH + "datatype", _SH + "node")),
                    ],
                    notes=notes,
                )
            )
        node_shapes.append(
            TermDoc(
                anchor=_anchor(node.value),
                iri=node.value,
                curie=compact(node.value),
                label=label_of(node.value, labels, lang),
                kind="sh:NodeShape",
                comment=w.text(node, _RDFS + "comment"),
                rows=[
                    (
                        "target",
                        w.refs(
                            node,
                            _SH + "targetClass",
                            _SH + "targetSubjectsOf",
                            _SH + "targetObjectsOf",
                            _SH + "targetNode",
                        ),
                    )
                ],
                parts=parts,
            )
        )
    licence = shapes.iris(iri, _DCT + "license")
    version = pick(shapes.literals(iri, _OWL + "versionInfo"), lang)
    return Doc(
        iri=iri.value,
        title=w.text(iri, _DCT + "title") or "Meent shapes",
        description=w.text(iri, _DCT + "description"),
        version=version.value if version else None,
        license=Ref(licence[0].value, licence[0].value, licence[0].value) if licence else None,
        namespace=base_iri + "shapes#",
        prefix="meentsh",
        sections=[("shapes", sorted(node_shapes, key=lambda t: t.label.lower()))],
    )
