"""SHACL validation with Meent's shapes and ontology (pySHACL).

The shapes (``shapes/*.ttl``) and the ontology (``ontology/*.ttl``) are parsed once per
:class:`Validator`; each call validates a data graph with the ontology mixed in, so
``sh:class`` and ``rdfs:subClassOf`` see the model and concept schemes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pyshacl import validate
from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import SH

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True)
class ValidationResult:
    """One ``sh:ValidationResult``, flattened for people and JSON."""

    focus: Node
    path: Node | None
    value: Node | None
    severity: str
    source_shape: Node | None
    constraint: Node | None
    messages: dict[str, str] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        """The message in ``lang``, else English, else any, else a generic one."""
        for key in (lang, "en", ""):
            if key in self.messages:
                return self.messages[key]
        if self.messages:
            return next(iter(self.messages.values()))
        return f"does not conform to {self.constraint}"


@dataclass(frozen=True)
class ValidationReport:
    results: tuple[ValidationResult, ...]
    graph: Graph

    @property
    def conforms(self) -> bool:
        """True when nothing is a Violation: warnings and infos never fail."""
        return not self.violations

    @property
    def violations(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    @property
    def warnings(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity != "Violation")


def load_turtle_dir(folder: Path) -> Graph:
    graph = Graph()
    for path in sorted(folder.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


class Validator:
    """Validates data graphs against the shapes, with the ontology as ontology graph."""

    def __init__(self, shapes: Graph, ontology: Graph) -> None:
        self.shapes = shapes
        self.ontology = ontology

    @classmethod
    def from_project(cls, root: Path) -> Validator:
        return cls(load_turtle_dir(root / "shapes"), load_turtle_dir(root / "ontology"))

    def validate(self, data: Graph) -> ValidationReport:
        # The ontology is added to the data rather than passed as pySHACL's ont_graph: that
        # mixes in only classes and properties, not the SKOS concepts of the schemes, and
        # the shapes check that a theme (instrument, barrier, …) is a concept of its scheme.
        combined = Graph()
        combined += data
        combined += self.ontology
        _, report_graph, _ = validate(
            combined,
            shacl_graph=self.shapes,
            inference="none",
            advanced=True,
            allow_warnings=True,
        )
        return ValidationReport(tuple(report_results(report_graph)), report_graph)


def report_results(report: Graph) -> list[ValidationResult]:
    results = []
    # Only the report's own results: pySHACL also writes the nested results of a failed
    # sh:node check (as sh:detail), which would report one problem twice.
    for node in report.objects(None, SH.result):
        messages: dict[str, str] = {}
        for message in report.objects(node, SH.resultMessage):
            if isinstance(message, Literal):
                messages.setdefault(message.language or "", str(message))
        results.append(
            ValidationResult(
                focus=report.value(node, SH.focusNode),
                path=_path(report, report.value(node, SH.resultPath)),
                value=report.value(node, SH.value),
                severity=SEVERITIES.get(report.value(node, SH.resultSeverity), "Violation"),
                source_shape=report.value(node, SH.sourceShape),
                constraint=report.value(node, SH.sourceConstraintComponent),
                messages=messages,
            )
        )
    results.sort(key=lambda r: (r.severity != "Violation", str(r.focus), str(r.path)))
    return results


def _path(report: Graph, path: Node | None) -> Node | None:
    # Complex paths come back as blank nodes; a person needs the predicate they point at.
    if isinstance(path, BNode):
        inverse = report.value(path, SH.inversePath)
        if isinstance(inverse, URIRef):
            return inverse
    return path
