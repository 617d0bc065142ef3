"""Triples indexed by subject and predicate, for pages built from a whole (small) graph.

The ontology and shapes documentation read their graph once and walk it in Python: a few
thousand triples, faster than a query per term and simpler than a SPARQL join per section.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from service.views.labels import LABEL_PREDICATES

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

Node = ox.NamedNode | ox.BlankNode


class GraphIndex:
    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self._out: dict[Node, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = (
            defaultdict(lambda: defaultdict(list))
        )
        self._by_po: dict[tuple[str, str], list[Node]] = defaultdict(list)
        for triple in triples:
            subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
            if isinstance(obj, ox.Triple) or isinstance(subject, ox.Triple):
                continue  # RDF-star terms have no place in these pages
            self._out[subject][predicate].append(obj)
            if isinstance(obj, ox.NamedNode):
                self._by_po[(predicate, obj.value)].append(subject)

    def objects(
        self, subject: Node, predicate: str
    ) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
        return list(self._out.get(subject, {}).get(predicate, ()))

    def iris(self, subject: Node, predicate: str) -> list[ox.NamedNode]:
        return sorted(
            (o for o in self.objects(subject, predicate) if isinstance(o, ox.NamedNode)),
            key=lambda node: node.value,
        )

    def literals(self, subject: Node, predicate: str) -> list[ox.Literal]:
        return [o for o in self.objects(subject, predicate) if isinstance(o, ox.Literal)]

    def subjects(self, predicate: str, obj: str) -> list[Node]:
        return list(self._by_po.get((predicate, obj), ()))

    def typed(self, *classes: str) -> list[ox.NamedNode]:
        """Named subjects of any of ``classes``, in IRI order."""
        found = {
            s
            for cls in classes
            for s in self.subjects(RDF_TYPE, cls)
            if isinstance(s, ox.NamedNode)
        }
        return sorted(found, key=lambda node: node.value)

    def labels(self) -> dict[str, list[ox.Literal]]:
        """Every named subject's label literals, for ``labels.label_of``."""
        found: dict[str, list[ox.Literal]] = {}
        for subject, predicates in self._out.items():
            if not isinstance(subject, ox.NamedNode):
                continue
            for predicate in LABEL_PREDICATES:
                values = [o for o in predicates.get(predicate, ()) if isinstance(o, ox.Literal)]
                if values:
                    found[subject.value] = values
                    break
        return found
