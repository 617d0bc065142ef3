"""The class diagram of the ontology (``ontology/diagram.svg``), drawn from ``meent.ttl``.

The diagram is the ontology's main classes as boxes, ``rdfs:subClassOf`` as hollow arrows to the
reused classes they specialise, and each object property between two ``meent:`` classes as a
labelled arrow from its domain to its range (``rdfs:domain``/``rdfs:range`` or
``schema:domainIncludes``/``schema:rangeIncludes``). Graphviz lays it out: this module only
writes its DOT input, so what is drawn is decided here and how it is drawn is Graphviz's job.
``meent diagram`` writes the SVG; ``tests/test_ontology.py`` checks the committed one still
names every class, so it cannot silently fall behind the ontology.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from service.vocab import MEENT, PREFIXES, SCHEMA


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` is not installed (Debian package ``graphviz``)."""


def _curie(term: URIRef) -> str:
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        if str(term).startswith(namespace):
            return f"{prefix}:{str(term)[len(namespace) :]}"
    return str(term)


def _ends(graph: Graph, prop: URIRef, strict: URIRef, loose: URIRef) -> set[URIRef]:
    return {o for o in (*graph.objects(prop, strict), *graph.objects(prop, loose))}


def meent_classes(ontology: Graph) -> list[URIRef]:
    return sorted(
        c for c in ontology.subjects(RDF.type, OWL.Class) if str(c).startswith(str(MEENT))
    )


def diagram_dot(ontology: Graph) -> str:
    """DOT text: every meent: class, its reused superclasses, and properties between classes."""
    classes = meent_classes(ontology)
    ours = set(classes)
    lines = [
        "digraph meent {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=10, nodesep=0.25, ranksep=0.6];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef5ee", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    ]
    reused: set[URIRef] = set()
    for cls in classes:
        lines.append(f'  "{_curie(cls)}";')
        for parent in sorted(ontology.objects(cls, RDFS.subClassOf)):
            if isinstance(parent, URIRef):
                reused.add(parent)
                lines.append(f'  "{_curie(cls)}" -> "{_curie(parent)}" [arrowhead=onormal];')
    for parent in sorted(reused - ours):
        lines.append(f'  "{_curie(parent)}" [fillcolor="#f4f4f4", fontcolor="#444444"];')
    properties = sorted(
        p for p in ontology.subjects(RDF.type, OWL.ObjectProperty) if str(p).startswith(str(MEENT))
    )
    for prop in properties:
        domains = _ends(ontology, prop, RDFS.domain, SCHEMA.domainIncludes) & ours
        ranges = _ends(ontology, prop, RDFS.range, SCHEMA.rangeIncludes) & ours
        for domain in sorted(domains):
            for range_ in sorted(ranges):
                lines.append(
                    f'  "{_curie(domain)}" -> "{_curie(range_)}" [label="{_curie(prop)}"];'
                )
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot: str) -> str:
    """Lay the diagram out with Graphviz; raises GraphvizMissing when ``dot`` is not there."""
    program = shutil.which("dot")
    if program is None:
        raise GraphvizMissing("Graphviz's dot is not installed (apt-get install graphviz)")
    done = subprocess.run(  # a fixed program, on DOT text generated above
        [program, "-Tsvg"], input=dot, capture_output=True, text=True, check=True
    )
    return done.stdout


def write_diagram(ontology_dir: Path, out: Path) -> None:
    ontology = Graph()
    for path in sorted(ontology_dir.glob("*.ttl")):
        ontology.parse(path, format="turtle")
    out.write_text(render_svg(diagram_dot(ontology)), encoding="utf-8")
