"""What a person sees of a description: labels instead of IRIs, facts grouped by property,
in the reader's language, with where each fact comes from."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from service.views.describe import Description, Fact
from service.views.labels import DESCRIPTION_PREDICATES, LABEL_PREDICATES, label_of, pick
from service.views.links import local_href
from service.vocab import PREFIXES

RDF_TYPE = PREFIXES["rdf"] + "type"
SOURCE_PREDICATES = (PREFIXES["prov"] + "wasDerivedFrom", PREFIXES["dct"] + "source")


@dataclass(frozen=True)
class Link:
    iri: str
    href: str
    label: str


@dataclass(frozen=True)
class Value:
    text: str
    link: Link | None = None
    lang: str | None = None
    datatype: str | None = None
    graph: Link | None = None


@dataclass(frozen=True)
class Group:
    predicate: Link
    values: list[Value]


@dataclass(frozen=True)
class Source:
    link: Link
    pages: list[str]


@dataclass
class ResourceView:
    iri: str
    title: str
    description: str | None
    types: list[Link]
    groups: list[Group]
    incoming: list[Group]
    sources: list[Source]
    graphs: list[Link]
    own_truncated: bool
    local: bool
    extra: dict[str, str] = field(default_factory=dict)


class _Namer:
    """Turns IRIs into links with labels, for one page."""

    def __init__(self, description: Description, lang: str, base_iri: str) -> None:
        self.labels = description.labels()
        self.lang = lang
        self.base_iri = base_iri

    def link(self, iri: str) -> Link:
        return Link(iri, local_href(iri, self.base_iri), label_of(iri, self.labels, self.lang))

    def value(
        self, term: ox.NamedNode | ox.BlankNode | ox.Literal, graph: ox.NamedNode | None
    ) -> Value:
        graph_link = self.link(graph.value) if graph is not None else None
        if isinstance(term, ox.NamedNode):
            return Value(term.value, link=self.link(term.value), graph=graph_link)
        if isinstance(term, ox.BlankNode):
            return Value("…", graph=graph_link)
        datatype = None if term.language else _short_datatype(term.datatype.value)
        return Value(term.value, lang=term.language, datatype=datatype, graph=graph_link)


def _short_datatype(iri: str) -> str | None:
    if iri in (PREFIXES["xsd"] + "string", PREFIXES["rdf"] + "langString"):
        return None
    return iri.removeprefix(PREFIXES["xsd"])


def _in_language(facts: list[Fact], lang: str) -> list[Fact]:
    """The facts to show for one property: where some literal is in the reader's language
    (or its fallback), the other languages' versions of it are left out."""
    literals = [f.object for f in facts if isinstance(f.object, ox.Literal) and f.object.language]
    if not literals:
        return facts
    best = pick(literals, lang)
    assert best is not None
    keep = best.language
    return [
        f
        for f in facts
        if not (isinstance(f.object, ox.Literal) and f.object.language) or f.object.language == keep
    ]


def build(description: Description, lang: str, base_iri: str) -> ResourceView:
    namer = _Namer(description, lang, base_iri)
    iri = description.iri.value
    own = description.own
    by_predicate: dict[str, list[Fact]] = {}
    for fact in own:
        by_predicate.setdefault(fact.predicate.value, []).append(fact)

    description_text = None
    for predicate in DESCRIPTION_PREDICATES:
        chosen = pick(
            (f.object for f in by_predicate.get(predicate, ()) if isinstance(f.object, ox.Literal)),
            lang,
        )
        if chosen is not None:
            description_text = chosen.value
            break

    hidden = {RDF_TYPE, *SOURCE_PREDICATES, *LABEL_PREDICATES[:2], *DESCRIPTION_PREDICATES[:1]}
    groups = [
        Group(
            namer.link(predicate),
            [namer.value(f.object, f.graph) for f in _in_language(facts, lang)],
        )
        for predicate, facts in by_predicate.items()
        if predicate not in hidden
    ]
    groups.sort(key=lambda group: group.predicate.label.lower())

    incoming_by_predicate: dict[str, list[Fact]] = {}
    for fact in description.incoming:
        incoming_by_predicate.setdefault(fact.predicate.value, []).append(fact)
    incoming = [
        Group(namer.link(predicate), [namer.value(f.subject, f.graph) for f in facts])
        for predicate, facts in incoming_by_predicate.items()
    ]

    pages = description.pages()
    sources = [
        Source(namer.link(f.object.value), pages.get(f.object.value, []))
        for predicate in SOURCE_PREDICATES
        for f in by_predicate.get(predicate, ())
        if isinstance(f.object, ox.NamedNode)
    ]
    graphs = sorted(
        {f.graph.value for f in own if f.graph is not None},
    )
    return ResourceView(
        iri=iri,
        title=label_of(iri, namer.labels, lang),
        description=description_text,
        types=sorted(
            (
                namer.link(f.object.value)
                for f in by_predicate.get(RDF_TYPE, ())
                if isinstance(f.object, ox.NamedNode)
            ),
            key=lambda link: link.label.lower(),
        ),
        groups=groups,
        incoming=incoming,
        sources=sources,
        graphs=[namer.link(g) for g in graphs],
        own_truncated=description.own_truncated,
        local=iri.startswith(base_iri),
    )
