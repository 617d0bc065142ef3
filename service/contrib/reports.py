"""Validation reports a person can act on: each result placed at a file and line.

Shared by ``meent validate`` and (later) the contribution intake, so both explain a problem
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdflib import BNode, Literal, Node, URIRef

from service.contrib.validation import ValidationReport, ValidationResult
from service.rdf.sourcemap import SourceMap
from service.vocab import PREFIXES

_BY_LENGTH = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))


def compact(term: Node | None) -> str | None:
    """A term as a person writes it in Turtle: ``meent:Koppel``, ``<https://…>``, ``"x"@nl``."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        for prefix, namespace in _BY_LENGTH:
            local = term[len(namespace) :]
            if term.startswith(namespace) and local and _is_local_name(local):
                return f"{prefix}:{local}"
        return f"<{term}>"
    if isinstance(term, BNode):
        return "[]"
    if isinstance(term, Literal):
        return term.n3()
    return str(term)


def _is_local_name(local: str) -> bool:
    return all(c.isalnum() or c in "-_" for c in local)


@dataclass(frozen=True)
class Source:
    """One validated document: its name and where its subjects are."""

    name: str
    source_map: SourceMap


@dataclass(frozen=True)
class LocatedResult:
    result: ValidationResult
    source: str | None
    line: int | None

    def as_dict(self, lang: str) -> dict[str, Any]:
        r = self.result
        return {
            "file": self.source,
            "line": self.line,
            "severity": r.severity,
            "focusNode": str(r.focus) if isinstance(r.focus, URIRef) else compact(r.focus),
            "path": str(r.path) if r.path is not None else None,
            "value": compact(r.value),
            "message": r.message(lang),
            "sourceShape": str(r.source_shape) if isinstance(r.source_shape, URIRef) else None,
        }


def locate(report: ValidationReport, sources: list[Source]) -> list[LocatedResult]:
    """Place each result where the focus node's block starts (else its first mention)."""
    located = []
    for result in report.results:
        where: tuple[str | None, int | None] = (None, None)
        if isinstance(result.focus, URIRef):
            iri = str(result.focus)
            for lookup in ("subjects", "mentions"):
                hit = next((s for s in sources if iri in getattr(s.source_map, lookup)), None)
                if hit is not None:
                    where = (hit.name, getattr(hit.source_map, lookup)[iri])
                    break
        located.append(LocatedResult(result, *where))
    return located


def render_text(located: list[LocatedResult], lang: str) -> str:
    """Compiler-style lines: ``file:line: severity: focus path: message``."""
    lines = []
    for item in located:
        r = item.result
        where = ":".join(str(p) for p in (item.source, item.line) if p is not None)
        subject = compact(r.focus) or "?"
        path = f" {compact(r.path)}" if r.path is not None else ""
        value = f" (value {compact(r.value)})" if r.value is not None else ""
        prefix = f"{where}: " if where else ""
        lines.append(f"{prefix}{r.severity.lower()}: {subject}{path}{value}: {r.message(lang)}")
    return "\n".join(lines)
