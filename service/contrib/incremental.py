"""Incremental validation: a contribution checked together with the part of the store it touches.

Validating a contribution against the whole store would cost time in proportion to the store.
Instead (docs/architecture.md, "The pieces and how data flows") the contribution is validated
together with its *context*:

1. every IRI the contribution mentions (as subject or object): all of its published triples —
   types, labels, founding dates, ``skos:inScheme`` of concepts, ``org:memberOf`` of people;
2. for the IRIs those triples point at: the facts nested shapes follow (``rdf:type``,
   ``skos:inScheme``, ``org:memberOf``, ``org:unitOf``, ``meent:consent``), and the types of
   what *those* point at (a koppel's civil servant → member of a unit → the unit's type);
3. the ontology's class hierarchy (``rdfs:subClassOf``), which ``sh:class`` and
   ``sh:targetClass`` follow.

Three rounds of index lookups fetch 1 and 2, so the cost depends on the contribution, not
the store.

Only the nodes whose results the contribution can change are validated as focus nodes
(``focus_nodes``); the rest of the context is there for the checks to look at. When that finds
something, the same nodes are validated once more without the contribution, and only results
the contribution *adds* are reported. So a problem already in the published data (or one that
only looks like a problem because the context stops at depth 2) never blocks a contribution,
while every conflict it creates does: a second founding date where one is allowed, a koppel
pointing at a unit that does not exist, a person without recorded consent.

How pySHACL is driven so that a small validation costs little is
``service.contrib.pyshacl_tuning``; here the parsed shapes are built once and reused, and the
context is borrowed, not copied. A 50-triple contribution against a store of a million
triples: ~10 ms for the context, ~12 ms for pySHACL (``bench/``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio.to_thread
import pyoxigraph as ox
from pyshacl import Validator as ShaclValidator
from pyshacl.graph_abstraction import DataGraph
from pyshacl.rdfutil import load_from_source
from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS

from service.contrib.pyshacl_tuning import (
    MemoisedQueryGraph,
    ShapesGraph,
    Targets,
    fast_constraint_lookup,
    memoised_copy,
    validate_focus,
)
from service.contrib.validation import (
    ValidationReport,
    ValidationResult,
    load_turtle_dir,
    report_results,
)
from service.rdf.parsing import from_ox
from service.store import Store
from service.vocab import MEENT, ORG

log = logging.getLogger("meent")

#: Predicates that nested shapes follow from a mentioned resource's neighbours.
NESTED = (RDF.type, SKOS.inScheme, ORG.memberOf, ORG.unitOf, MEENT.consent)
#: IRIs per context query (a VALUES block); larger contributions take several queries.
CHUNK = 400
#: Bound to ?exclude when no graph is left out of the context.
NO_GRAPH = ox.NamedNode("urn:meent:no-graph")
RDF_TYPE = ox.NamedNode(str(RDF.type))

#: The triples of a set of resources (optionally: only some predicates), outside ?exclude.
#: VALUES come first so the engine looks each resource up in its index rather than joining a
#: scan of the store (a nested OPTIONAL was evaluated that way: seconds on a large store).
_FACTS_QUERY = """
CONSTRUCT {{ ?s ?p ?o }}
WHERE {{
  VALUES ?s {{ {iris} }}
  GRAPH ?g {{ ?s ?p ?o }}
  FILTER (?g != {exclude})
  {predicates}
}}
"""


def mentioned_iris(data: Graph) -> set[URIRef]:
    """The IRIs a contribution mentions as subject or object — not its predicates, nor its
    classes: the shapes need the class hierarchy (added from the ontology), not the classes'
    labels and definitions, which would only become focus nodes to validate."""
    iris = {s for s in data.subjects() if isinstance(s, URIRef)}
    iris.update(o for _, p, o in data if isinstance(o, URIRef) and p != RDF.type)
    return iris


def _values(iris: Iterable[URIRef]) -> str:
    """A VALUES block of IRIs in their N-Triples form, which pyoxigraph validates — the same
    way the store binds ``substitutions`` (``service.store.common.values_clause``): what a
    contributor wrote never becomes SPARQL syntax. (Not ``substitutions`` themselves: those
    bind after the pattern, too late for the FILTERs that use them here.)"""
    return " ".join(str(ox.NamedNode(str(iri))) for iri in iris)


async def _facts(
    store: Store, iris: set[URIRef], exclude: ox.NamedNode, predicates: tuple[URIRef, ...] = ()
) -> list[ox.Triple]:
    ordered = sorted(iris)
    # A FILTER, not a second VALUES block: with two, the engine scanned the whole store.
    only = f"FILTER (?p IN ({', '.join(str(ox.NamedNode(p)) for p in predicates)}))"
    only = only if predicates else ""
    found: list[ox.Triple] = []
    for start in range(0, len(ordered), CHUNK):
        query = _FACTS_QUERY.format(
            exclude=exclude, iris=_values(ordered[start : start + CHUNK]), predicates=only
        )
        triples = await store.query(query)
        assert isinstance(triples, list)
        found.extend(triples)
    return found


def _iri_objects(triples: list[ox.Triple]) -> set[URIRef]:
    """What the triples point at, classes aside (see ``mentioned_iris``)."""
    return {
        URIRef(t.object.value)
        for t in triples
        if isinstance(t.object, ox.NamedNode) and t.predicate != RDF_TYPE
    }


async def fetch_context(store: Store, data: Graph, *, exclude_graph: str | None = None) -> Graph:
    """What the published store says about the resources ``data`` mentions (see the module
    docstring), leaving out ``exclude_graph`` (a contribution's own graph, when it is being
    replaced). Three rounds of index lookups: the mentioned resources' facts, the nested
    facts of what those point at, the types of what *those* point at."""
    exclude = ox.NamedNode(exclude_graph) if exclude_graph else NO_GRAPH
    mentioned = mentioned_iris(data)
    first = await _facts(store, mentioned, exclude)
    second = await _facts(store, _iri_objects(first) - mentioned, exclude, NESTED)
    third = await _facts(store, _iri_objects(second) - mentioned, exclude, (RDF.type,))
    context = MemoisedQueryGraph()
    add = context.add
    for triple in (*first, *second, *third):
        add((from_ox(triple.subject), from_ox(triple.predicate), from_ox(triple.object)))
    return context


def focus_nodes(
    data: Graph, context: Graph, objects_targeted: frozenset[URIRef]
) -> frozenset[Node]:
    """The nodes whose results a contribution can change.

    The shapes follow paths forward only (no ``sh:inversePath``) and their SPARQL targets
    select subjects, so a node's results depend on its own triples and on those of what it
    points at. A contribution therefore changes the results of

    * its subjects (IRIs and blank nodes): their own triples change;
    * the objects of ``objects_targeted`` predicates (``sh:targetObjectsOf``): they become
      targets — a person named as a koppel's civil servant;
    * what it mentions that points back at one of its subjects in the published data.

    Published resources it does not mention that point at its subjects are out of reach, as
    is everything beyond the context (see ``fetch_context``): the price of a cost that does
    not grow with the store."""
    subjects = set(data.subjects())
    nodes: set[Node] = set(subjects)
    for _, predicate, obj in data:
        if predicate in objects_targeted:
            nodes.add(obj)
    for node in mentioned_iris(data) - subjects:
        if any(obj in subjects for obj in context.objects(node)):
            nodes.add(node)
    return frozenset(nodes)


def _key(result: ValidationResult) -> tuple[Node | None, ...]:
    return (
        result.focus,
        result.path,
        result.value,
        result.source_shape,
        result.constraint,
        Literal(result.severity),
    )


class IncrementalValidator:
    """The shapes, parsed once, applied to a contribution and its context."""

    def __init__(self, shapes: Graph, ontology: Graph) -> None:
        self.shapes = shapes
        self.ontology = ontology
        self._shapes_source = load_from_source(ShapesGraph.of(shapes), multigraph=False)
        self._parsed_shapes: Any = None
        self._targeted: list[tuple[Any, Targets]] = []
        self._lock = threading.Lock()  # the parsed shapes graph is not shared across threads
        self.hierarchy = Graph()
        for predicate in (RDFS.subClassOf, RDFS.subPropertyOf):
            for triple in ontology.triples((None, predicate, None)):
                self.hierarchy.add(triple)
        self.objects_targeted = frozenset(
            o for o in shapes.objects(None, SH.targetObjectsOf) if isinstance(o, URIRef)
        )
        self.version = str(shapes.value(URIRef("https://w3id.org/meent/shapes"), OWL.versionInfo))

    @classmethod
    def from_project(cls, root: Path) -> IncrementalValidator:
        return cls(load_turtle_dir(root / "shapes"), load_turtle_dir(root / "ontology"))

    def _run(self, focus: frozenset[Node], data: Graph) -> tuple[list[ValidationResult], Graph]:
        options = {
            "inference": "none",
            "advanced": True,  # sh:SPARQLTarget
            "allow_warnings": True,
            "allow_infos": True,
            "inplace": True,  # without inference pySHACL changes nothing: no copy needed
            "logger": log,
            "debug": False,
            "abort_on_first": False,
            "iterate_rules": False,
            "use_js": False,
            "sparql_mode": False,
            "focus_nodes": None,  # see validate_focus
            "use_shapes": None,
        }
        with self._lock:
            validator = ShaclValidator(
                DataGraph.from_rdflib(data), shacl_graph=self._shapes_source, options=options
            )
            if self._parsed_shapes is None:
                fast_constraint_lookup()
                self._parsed_shapes = validator.shacl_graph
                # Most shapes are reached only through others (sh:property, sh:node);
                # asking each of them for targets on every run costs more than the checks.
                self._targeted = []
                for shape in self._parsed_shapes.shapes:
                    targets = Targets.of(shape)
                    # Only SPARQL targets need pySHACL's advanced features (the shapes use
                    # no sh:expression or rules; test_shapes checks that).
                    shape.set_advanced(targets.advanced)
                    if targets.declared:
                        self._targeted.append((shape, targets))
            else:
                validator.shacl_graph = self._parsed_shapes
            report = validate_focus(validator, self._targeted, focus)
        return report_results(report), report

    def validate_with_context(self, data: Graph, context: Graph) -> ValidationReport:
        """Results ``data`` adds to ``context`` (blocking; see :meth:`validate`).

        The context from ``fetch_context`` is borrowed rather than copied (copying it was a
        sixth of a validation): the contribution and the class hierarchy are added to it for
        the run and taken out again, so the caller gets it back as it was."""
        focus = focus_nodes(data, context, self.objects_targeted)
        graph = context if isinstance(context, MemoisedQueryGraph) else memoised_copy(context)
        hierarchy = [t for t in self.hierarchy if t not in graph]
        added = [t for t in data if t not in graph]
        for triple in (*hierarchy, *added):
            graph.add(triple)
        try:
            after, report = self._run(focus, graph)
            before: set[tuple[Node | None, ...]] = set()
            # The run without the contribution is only needed when there is something to
            # subtract.
            if after:
                for triple in added:
                    graph.remove(triple)
                added = []
                before = {_key(r) for r in self._run(focus, graph)[0]}
        finally:
            for triple in (*hierarchy, *added):
                graph.remove(triple)
        kept = tuple(r for r in after if _key(r) not in before)
        return ValidationReport(kept, only_results(report, {_key(r) for r in kept}))

    async def validate(
        self, store: Store, data: Graph, *, exclude_graph: str | None = None
    ) -> ValidationReport:
        context = await fetch_context(store, data, exclude_graph=exclude_graph)
        return await anyio.to_thread.run_sync(self.validate_with_context, data, context)


def only_results(report: Graph, keep: set[tuple[Node | None, ...]]) -> Graph:
    """A copy of a ``sh:ValidationReport`` graph with only the results whose key is in
    ``keep`` (with their nested blank nodes), and ``sh:conforms`` set to match."""
    kept = Graph()
    for prefix, namespace in report.namespaces():
        kept.bind(prefix, namespace)
    for node in report.subjects(RDF.type, SH.ValidationReport):
        conforms = True
        kept.add((node, RDF.type, SH.ValidationReport))
        for result_node in report.objects(node, SH.result):
            (result,) = report_results(_single(report, node, result_node)) or (None,)
            if result is None or _key(result) not in keep:
                continue
            conforms = conforms and result.severity != "Violation"
            kept.add((node, SH.result, result_node))
            _copy_tree(report, result_node, kept)
        kept.add((node, SH.conforms, Literal(conforms)))
    return kept


def _single(report: Graph, node: Node, result_node: Node) -> Graph:
    one = Graph()
    one.add((node, SH.result, result_node))
    _copy_tree(report, result_node, one)
    return one


def _copy_tree(source: Graph, node: Node, target: Graph) -> None:
    """``node``'s triples and, recursively, those of the blank nodes it points at."""
    seen: set[Node] = set()
    todo = [node]
    while todo:
        subject = todo.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for _, predicate, obj in source.triples((subject, None, None)):
            target.add((subject, predicate, obj))
            if isinstance(obj, BNode):
                todo.append(obj)
