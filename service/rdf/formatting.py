"""Canonical Turtle: the one layout every file in ontology/, shapes/ and data/ is kept in.

Canonical means "what rdflib's ``longturtle`` serialiser writes for the parsed graph, with
Meent's prefix map": subjects sorted, one block per subject, ``a`` first, then predicates
sorted. Comparing a file with its canonical form catches drift without relying on ``#``
comments (they are not kept: explanations belong in ``rdfs:comment``/``skos:editorialNote``).
"""

from pathlib import Path

from rdflib import Graph

from service.vocab import PREFIXES


def canonical_turtle(text: str) -> str:
    """Parse Turtle and write it back in the canonical layout."""
    graph = Graph(bind_namespaces="core")
    graph.parse(data=text, format="turtle")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph.serialize(format="longturtle")


def is_canonical(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return canonical_turtle(text) == text


def format_file(path: Path) -> bool:
    """Rewrite ``path`` canonically; return whether it changed."""
    text = path.read_text(encoding="utf-8")
    formatted = canonical_turtle(text)
    if formatted == text:
        return False
    path.write_text(formatted, encoding="utf-8")
    return True
