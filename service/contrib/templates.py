"""Template Turtle files, one per class a contributor may write, generated from the shapes so
they never drift from what validation asks (issue 6, "For people").

For a class, every node shape targeting it or one of its superclasses (``rdfs:subClassOf*`` in
the ontology; SHACL 1.0 §2.1.3.2) contributes its property shapes. Each property becomes one
line, required ones first (a minimum count ≥ 1 at ``sh:Violation``), then recommended ones (the
same at ``sh:Warning``), then optional ones commented out; each with a comment naming its level
and the shape's ``sh:message``. Values are placeholders that are still valid Turtle:
``<https://w3id.org/meent/id/{type}/CHANGE-ME>`` for resources, ``"…"@nl`` for text, an example
value of the right datatype (marked CHANGE-ME) for dates and numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from rdflib import Graph, Literal, Node, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, SKOS, XSD

from service.vocab import BASE_IRI, PREFIXES

PLACEHOLDER = "CHANGE-ME"
TEXT = "…"
_M = PREFIXES["meent"]
_ORG = PREFIXES["org"]

#: Template name and IRI type segment (docs/architecture.md, "IRIs") of each class a
#: contributor may write.
WRITABLE: dict[str, tuple[str, str]] = {
    _M + "Commons": ("commons", "commons"),
    _ORG + "Organization": ("organisation", "organisation"),
    _ORG + "OrganizationalUnit": ("unit", "unit"),
    _M + "Collaboration": ("collaboration", "collaboration"),
    _M + "Programme": ("programme", "programme"),
    _M + "Cohort": ("cohort", "cohort"),
    _M + "Koppel": ("koppel", "koppel"),
    _M + "Practice": ("practice", "practice"),
    _M + "Lesson": ("lesson", "lesson"),
    _M + "Goal": ("goal", "goal"),
    PREFIXES["skos"] + "Concept": ("concept", "theme"),
    PREFIXES["dct"] + "Location": ("location", "district"),
    _M + "SourceDocument": ("source", "source"),
    PREFIXES["schema"] + "Event": ("event", "event"),
    PREFIXES["foaf"] + "Person": ("person", "person"),
    _M + "BarrierEncounter": ("barrier-encounter", "barrier-encounter"),
    _M + "InstrumentApplication": ("instrument-application", "instrument-application"),
    _M + "Step": ("step", "step"),
    _M + "PublicRole": ("public-role", "public-role"),
    _M + "SharedResource": ("shared-resource", "resource"),
    _M + "Tenure": ("tenure", "tenure"),
    _M + "Premise": ("premise", "premise"),
    _M + "Participation": ("participation", "participation"),
    _M + "ProgressObservation": ("observation", "observation"),
    PREFIXES["rdf"] + "Statement": ("statement", "statement"),
    PREFIXES["eli"] + "LegalResource": ("regulation", "regulation"),
}
#: Segments for classes that only appear as values (``sh:class``).
_SEGMENTS = {cls: segment for cls, (_, segment) in WRITABLE.items()} | {
    _M + "ConsentRecord": "consent",
    _M + "Toolbox": "toolbox",
    PREFIXES["org"] + "Site": "site",
    PREFIXES["skos"] + "ConceptScheme": "scheme",
    PREFIXES["cv"] + "PublicOrganisation": "organisation",
    "https://identifier.overheid.nl/tooi/def/ont/Gemeente": "gemeente",
}
_EXAMPLES = {
    XSD.date: "2024-01-01",
    XSD.dateTime: "2024-01-01T00:00:00Z",
    XSD.gYear: "2024",
    XSD.gYearMonth: "2024-01",
    XSD.decimal: "0.5",
    XSD.double: "0.5",
    XSD.integer: "1",
    XSD.nonNegativeInteger: "1",
    XSD.positiveInteger: "1",
    XSD.boolean: "true",
    XSD.anyURI: "https://example.org/" + PLACEHOLDER,
}
LEVELS = ("required", "recommended", "optional")
#: Where the shapes say only "an IRI": the kind of resource the property usually points to.
_POINTS_TO = {
    PREFIXES["prov"] + "wasDerivedFrom": f"<{BASE_IRI}id/source/{PLACEHOLDER}>",
    PREFIXES["dct"] + "spatial": f"<{BASE_IRI}id/district/{PLACEHOLDER}>",
    PREFIXES["foaf"] + "homepage": f"<https://example.org/{PLACEHOLDER}>",
}
_LITERAL_RANGES = {RDFS.Literal, RDF.langString}


@dataclass
class Line:
    """One property of the template, merged from every property shape with its path."""

    predicate: URIRef
    level: int = 2  # index into LEVELS
    messages: list[dict[str, str]] = field(default_factory=list)
    constraints: dict[URIRef, list[Node]] = field(default_factory=dict)


class TemplateMaker:
    """Templates from one shapes graph and one ontology graph."""

    def __init__(self, shapes: Graph, ontology: Graph) -> None:
        self.shapes = shapes
        self.ontology = ontology

    def names(self) -> dict[str, URIRef]:
        """Template name → class, for the writable classes some node shape targets."""
        targeted = {str(c) for c in self.shapes.objects(None, SH.targetClass)}
        return {
            name: URIRef(cls)
            for cls, (name, _) in WRITABLE.items()
            if cls in targeted or any(str(s) in targeted for s in self._supers(URIRef(cls)))
        }

    def _supers(self, cls: URIRef) -> set[URIRef]:
        found = {cls}
        for graph in (self.ontology, self.shapes):
            found |= {s for s in graph.transitive_objects(cls, RDFS.subClassOf)}
        return {s for s in found if isinstance(s, URIRef)}

    def lines(self, cls: URIRef) -> list[Line]:
        """The template's properties, required first, then recommended, then optional."""
        classes = self._supers(cls)
        by_predicate: dict[URIRef, Line] = {}
        for node in sorted(
            {n for c in classes for n in self.shapes.subjects(SH.targetClass, c)}, key=str
        ):
            for shape in sorted(self.shapes.objects(node, SH.property), key=str):
                predicate = self._predicate(shape)
                if predicate is None or _forbidden(self.shapes, shape):
                    continue
                line = by_predicate.setdefault(predicate, Line(predicate))
                level = _level(self.shapes, shape)
                messages = _messages(self.shapes, shape)
                if level < line.level:
                    line.level = level
                    line.messages.insert(0, messages)
                elif messages:
                    line.messages.append(messages)
                for key, values in _constraints(self.shapes, shape).items():
                    line.constraints.setdefault(key, []).extend(values)
        for predicate, line in by_predicate.items():  # shapes on wherever it is used
            for node in self.shapes.subjects(SH.targetSubjectsOf, predicate):
                for shape in self.shapes.objects(node, SH.property):
                    if self.shapes.value(shape, SH.path) == predicate:
                        for key, values in _constraints(self.shapes, shape).items():
                            line.constraints.setdefault(key, []).extend(values)
        return sorted(by_predicate.values(), key=lambda line: (line.level, str(line.predicate)))

    def _predicate(self, shape: Node) -> URIRef | None:
        path = self.shapes.value(shape, SH.path)
        if isinstance(path, URIRef):
            return path
        alternatives = self.shapes.value(path, SH.alternativePath) if path is not None else None
        if alternatives is not None:  # the first alternative is the one to write
            first = next(iter(Collection(self.shapes, alternatives)), None)
            return first if isinstance(first, URIRef) else None
        return None  # inverse and sequence paths are not written on this subject

    def render(self, name: str, lang: str = "en") -> str:
        """The template called ``name`` (``koppel``), its comments in ``lang``."""
        cls = self.names()[name]
        segment = WRITABLE[str(cls)][1]
        used: set[str] = set()
        out = [
            f"# {_label(self.ontology, cls, lang)}: "
            + (
                "sjabloon gegenereerd uit de SHACL-vormen van Meent."
                if lang == "nl"
                else "template generated from Meent's SHACL shapes."
            ),
            "# "
            + (
                f"Vervang elke {PLACEHOLDER} en elke {TEXT}; verplichte regels moeten blijven, "
                "optionele staan als commentaar."
                if lang == "nl"
                else f"Replace every {PLACEHOLDER} and every {TEXT}; required lines must stay, "
                "optional ones are commented out."
            ),
            "",
        ]
        body = [f"<{BASE_IRI}id/{segment}/example>", f"    a {_short(cls, used)} ;"]
        for line in self.lines(cls):
            message = _pick(line.messages, lang)
            level = LEVELS[line.level]
            body.append(f"    # {level}" + (f": {message}" if message else ""))
            statement = f"{_short(line.predicate, used)} {self._value(line, used)} ;"
            body.append(f"    {'# ' if level == 'optional' else ''}{statement}")
        body.append(".")
        prefixes = [f"@prefix {p}: <{PREFIXES[p]}> ." for p in sorted(used)]
        return "\n".join([*out, *prefixes, "", *body]) + "\n"

    def _value(self, line: Line, used: set[str]) -> str:
        c = line.constraints
        for key in (SH.hasValue, SH["in"]):
            if c.get(key):
                return _term(c[key][0], used)
        if str(line.predicate) in _POINTS_TO:
            return _POINTS_TO[str(line.predicate)]
        if segment := self._concept_segment(line.predicate):
            return f"<{BASE_IRI}id/{segment}/{PLACEHOLDER}>"
        classes = [v for v in c.get(SH["class"], []) if isinstance(v, URIRef)]
        ranges = [
            r
            for r in self.ontology.objects(line.predicate, RDFS.range)
            if isinstance(r, URIRef)
            and r not in _LITERAL_RANGES
            and not str(r).startswith(str(XSD))
        ]
        if not classes and not c.get(SH.datatype) and SH.Literal not in c.get(SH.nodeKind, []):
            classes = ranges
        if classes or c.get(SH.node) or SH.IRI in c.get(SH.nodeKind, []):
            segment = _SEGMENTS.get(str(classes[0]), "") if classes else ""
            if not segment and classes:
                segment = _local(classes[0]).lower()
            return f"<{BASE_IRI}id/{segment or 'thing'}/{PLACEHOLDER}>"
        datatypes = [d for d in c.get(SH.datatype, []) if d != RDF.langString]
        if datatypes and isinstance(datatypes[0], URIRef):
            datatype = datatypes[0]
            example = _EXAMPLES.get(datatype, PLACEHOLDER)
            return f'"{example}"^^{_short(datatype, used)}'
        if RDF.langString in c.get(SH.datatype, []) or c.get(SH.languageIn) or c.get(SH.uniqueLang):
            return f'"{TEXT}"@nl, "{TEXT}"@en'
        if SH.Literal in c.get(SH.nodeKind, []):
            return f'"{TEXT}"'
        return f'"{TEXT}"@nl, "{TEXT}"@en'

    def _concept_segment(self, predicate: URIRef) -> str | None:
        """For a property whose values come from a concept scheme (``rdfs:seeAlso`` the scheme
        in the ontology), the IRI type segment its concepts share: ``instrument`` for
        ``meent:instrument``, so the placeholder already names the right kind of concept."""
        for scheme in self.ontology.objects(predicate, RDFS.seeAlso):
            concept = next(iter(self.ontology.subjects(SKOS.inScheme, scheme)), None)
            if isinstance(concept, URIRef) and str(concept).startswith(f"{BASE_IRI}id/"):
                return str(concept).removeprefix(f"{BASE_IRI}id/").split("/")[0]
        return None


def _forbidden(shapes: Graph, shape: Node) -> bool:
    """``sh:maxCount 0``: a property that must never be written (private contact details)."""
    return any(int(m) == 0 for m in shapes.objects(shape, SH.maxCount) if isinstance(m, Literal))


def _level(shapes: Graph, shape: Node) -> int:
    counts = [*shapes.objects(shape, SH.minCount), *shapes.objects(shape, SH.qualifiedMinCount)]
    if not any(isinstance(c, Literal) and int(c) >= 1 for c in counts):
        return 2
    severity = shapes.value(shape, SH.severity, default=SH.Violation)
    return 0 if severity == SH.Violation else 1


def _messages(shapes: Graph, shape: Node) -> dict[str, str]:
    return {
        (m.language or ""): " ".join(str(m).split())
        for m in shapes.objects(shape, SH.message)
        if isinstance(m, Literal)
    }


def _constraints(shapes: Graph, shape: Node) -> dict[URIRef, list[Node]]:
    """The value constraints of ``shape``, with ``sh:or`` alternatives and list values
    flattened and the qualified value shape's constraints included."""
    found: dict[URIRef, list[Node]] = {}
    for node in _with_parts(shapes, shape):
        for key in (SH["class"], SH.datatype, SH.nodeKind, SH.node, SH.hasValue, SH.uniqueLang):
            found.setdefault(key, []).extend(shapes.objects(node, key))
        for key in (SH["in"], SH.languageIn):
            for head in shapes.objects(node, key):
                found.setdefault(key, []).extend(Collection(shapes, head))
    return {k: v for k, v in found.items() if v}


def _with_parts(shapes: Graph, shape: Node) -> Iterator[Node]:
    yield shape
    for head in shapes.objects(shape, SH["or"]):
        yield from Collection(shapes, head)
    yield from shapes.objects(shape, SH.qualifiedValueShape)


def _pick(messages: list[dict[str, str]], lang: str) -> str:
    for found in messages:
        for key in (lang, "en", ""):
            if key in found:
                return found[key]
    return ""


def _label(ontology: Graph, cls: URIRef, lang: str) -> str:
    labels = {
        (x.language or ""): str(x)
        for x in ontology.objects(cls, RDFS.label)
        if isinstance(x, Literal)
    }
    return labels.get(lang) or labels.get("en") or _local(cls)


def _local(iri: URIRef) -> str:
    return str(iri).rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _short(iri: URIRef, used: set[str]) -> str:
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        local = str(iri)[len(namespace) :]
        if (
            str(iri).startswith(namespace)
            and local
            and all(c.isalnum() or c in "-_" for c in local)
        ):
            used.add(prefix)
            return f"{prefix}:{local}"
    return f"<{iri}>"


def _term(term: Node, used: set[str]) -> str:
    if isinstance(term, URIRef):
        return _short(term, used)
    if isinstance(term, Literal):
        return term.n3()
    return f'"{TEXT}"'
