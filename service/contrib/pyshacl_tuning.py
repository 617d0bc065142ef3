"""How pySHACL (0.40, pinned in pyproject.toml) is driven so that validating a contribution
with its context costs little (service.contrib.incremental; each found with a profiler):

- ``fast_constraint_lookup``: pySHACL's list of constraint parameters answers membership by
  hashing, not by comparing with each of forty entries;
- ``MemoisedQueryGraph``: a data graph that parses each SPARQL text once (SPARQL targets);
- ``ShapesGraph``: a shapes graph that keeps its answers to triple patterns, which pySHACL asks
  anew on every validation;
- ``Targets`` and ``Facts``: each shape's targets, read once, found among the focus nodes
  whose types and predicates are read once per validation;
- ``validate_focus``: pySHACL's validation loop with only the top-level targets narrowed to
  the focus nodes, so nested shapes still see every value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pyshacl import Validator as ShaclValidator
from rdflib import Graph, Node, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query


class ParameterList(list):  # type: ignore[type-arg]
    """pySHACL's list of constraint parameters with a set's membership test.

    For every shape it evaluates, pySHACL asks of each of the shape's predicates whether it
    is a constraint parameter: ``p in list``, rdflib's Python ``__eq__`` against each of some
    forty entries. That was a third of a contribution's validation; a hash lookup answers
    the same question."""

    def __init__(self, items: Iterable[URIRef]) -> None:
        super().__init__(items)
        self._members = frozenset(self)

    def __contains__(self, item: object) -> bool:
        return item in self._members


def fast_constraint_lookup() -> None:
    """Give pySHACL's shape module (0.40, see pyproject) the parameter list above. It keeps
    the list in a module attribute it fills on first use; filling it first changes only how
    membership is tested. Shapes marked advanced copy the list into a plain one, so only the
    shapes that need it (SPARQL targets) are marked advanced."""
    from pyshacl import shape
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP

    if not isinstance(getattr(shape, "CONSTRAINT_PARAMS", (None,))[0], ParameterList):
        shape.CONSTRAINT_PARAMS = (  # type: ignore[attr-defined]
            ParameterList(ALL_CONSTRAINT_PARAMETERS),
            CONSTRAINT_PARAMETERS_MAP,
        )


@lru_cache(maxsize=256)
def prepared(text: str) -> Query:
    return prepareQuery(text)


class MemoisedQueryGraph(Graph):
    """An rdflib graph that parses each SPARQL text once (pySHACL's SPARQL targets and
    constraints ask the same queries on every validation)."""

    def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if isinstance(query_object, str):
            query_object = prepared(query_object)
        return super().query(query_object, *args, **kwargs)


class ShapesGraph(Graph):
    """The shapes, keeping the answer to each triple pattern until they change.

    For every shape it evaluates, pySHACL lists the shape's predicates to find its constraint
    parameters, and reads their values: the same few thousand questions of the same graph on
    every validation, a sixth of a contribution's. The shapes change only when pySHACL adds
    its system triples, the first time, and an answer is a handful of triples, so each is
    kept."""

    #: Patterns kept at most (each answer is kept until the graph changes); far more than
    #: the shapes are ever asked, so a bound that is never reached in practice.
    LIMIT = 50_000

    def __init__(self) -> None:
        super().__init__()
        self._answers: dict[tuple[Node | None, ...], tuple[tuple[Node, Node, Node], ...]] = {}

    @classmethod
    def of(cls, shapes: Graph) -> ShapesGraph:
        graph = cls()
        for prefix, namespace in shapes.namespaces():
            graph.bind(prefix, namespace)
        graph += shapes
        return graph

    def triples(self, triple: Any) -> Any:  # type: ignore[override]
        if isinstance(triple[1], PropertyPath):  # property paths are evaluated through triples()
            return super().triples(triple)
        answer = self._answers.get(triple)
        if answer is None:
            answer = tuple(super().triples(triple))  # type: ignore[arg-type]
            if len(self._answers) >= self.LIMIT:
                self._answers.clear()
            self._answers[triple] = answer
        return iter(answer)

    def add(self, triple: Any) -> Any:  # type: ignore[override]
        # pySHACL adds its system triples again for every validator made; they are there.
        if triple not in self:
            self._answers.clear()
            super().add(triple)
        return self

    def addN(self, quads: Any) -> Any:  # type: ignore[override]
        self._answers.clear()
        return super().addN(quads)

    def remove(self, triple: Any) -> Any:  # type: ignore[override]
        self._answers.clear()
        return super().remove(triple)


def memoised_copy(graph: Graph) -> MemoisedQueryGraph:
    copy = MemoisedQueryGraph()
    copy += graph
    return copy


@dataclass(frozen=True)
class Facts:
    """What target declarations ask of each focus node, read from the data graph once per
    validation rather than once per shape: its classes (its types and their superclasses,
    ``rdfs:subClassOf*`` as pySHACL follows it), the predicates it is the subject of and those
    it is the object of."""

    classes: dict[Node, frozenset[Node]]
    subject_of: dict[Node, frozenset[Node]]
    object_of: dict[Node, frozenset[Node]]

    @classmethod
    def read(cls, graph: Graph, focus: frozenset[Node]) -> Facts:
        superclasses: dict[Node, frozenset[Node]] = {}

        def closure(node_type: Node) -> frozenset[Node]:
            if node_type not in superclasses:
                superclasses[node_type] = frozenset(
                    graph.transitive_objects(node_type, RDFS.subClassOf)
                )
            return superclasses[node_type]

        classes = {
            node: frozenset().union(*(closure(t) for t in graph.objects(node, RDF.type)))
            for node in focus
        }
        subject_of = {node: frozenset(graph.predicates(node, None)) for node in focus}
        object_of = {node: frozenset(graph.predicates(None, node)) for node in focus}
        return cls(classes, subject_of, object_of)


@dataclass(frozen=True)
class Targets:
    """A shape's target declarations (SHACL §2.1.3), read from the shapes graph once."""

    nodes: frozenset[Node]
    classes: frozenset[Node]  # sh:targetClass, and the shape itself if it is a class
    subjects_of: frozenset[Node]
    objects_of: frozenset[Node]
    advanced: bool  # sh:target (SPARQL): asked of pySHACL

    @property
    def declared(self) -> bool:
        return bool(
            self.nodes or self.classes or self.subjects_of or self.objects_of or self.advanced
        )

    @classmethod
    def of(cls, shape: Any) -> Targets:
        nodes, classes, implicit, objects_of, subjects_of = shape.target()
        return cls(
            frozenset(nodes),
            frozenset(classes) | frozenset(implicit),
            frozenset(subjects_of),
            frozenset(objects_of),
            bool(shape.advanced_target()),
        )

    def among(self, shape: Any, graph: Graph, focus: frozenset[Node], facts: Facts) -> list[Node]:
        """The nodes of ``focus`` this shape targets in ``graph``: what pySHACL's
        ``Shape.focus_nodes`` finds, narrowed to ``focus``, without scanning the graph for
        every instance of every target class (a fifth of a contribution's validation)."""
        if self.advanced:
            return [node for node in shape.focus_nodes(graph) if node in focus]
        return [
            node
            for node in focus
            if node in self.nodes
            or not self.classes.isdisjoint(facts.classes[node])
            or not self.subjects_of.isdisjoint(facts.subject_of[node])
            or not self.objects_of.isdisjoint(facts.object_of[node])
        ]


def validate_focus(
    validator: ShaclValidator, shapes: list[tuple[Any, Targets]], focus: frozenset[Node]
) -> Graph:
    """pySHACL's validation loop over the ``shapes`` that have targets, with each shape's
    targets narrowed to ``focus``.

    Not pySHACL's own ``focus_nodes`` option: it narrows *every* shape evaluation, nested
    ones included, so a ``sh:node`` or ``sh:qualifiedValueShape`` check of a value outside
    the list passes without being evaluated, and results are lost. Here only the targets of
    the top-level evaluation are narrowed; nested shapes see every value."""
    graph = validator.data_graph
    executor = validator.make_executor()
    facts = Facts.read(graph, focus)
    conforms = True
    reports: list[Any] = []
    for shape, targets in shapes:
        targeted = targets.among(shape, graph, focus, facts)
        if not targeted:
            continue
        shape_conforms, shape_reports = shape.validate(executor, graph, focus=targeted)
        conforms = conforms and shape_conforms
        reports.extend(shape_reports)
    report, _ = validator.create_validation_report(validator.shacl_graph, conforms, reports)
    return report
