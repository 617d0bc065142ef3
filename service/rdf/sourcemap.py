"""Where things are in a Turtle text: the line on which each subject's block starts.

A contributor fixes a file by line number, not by blank-node id or triple. The tokenizer
follows the Turtle 1.1 grammar (https://www.w3.org/TR/turtle/#sec-grammar) only as far as
telling statements apart: strings, IRIs and comments are skipped whole, so a ``.`` inside them
never ends a statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                 |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    | (?P<iri><[^<>"{}|^`\\\s]*>)
    | (?P<directive>@prefix|@base|(?i:prefix|base)(?=\s))
    | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<number>[+-]?(?:\d*\.\d+(?:[eE][+-]?\d+)?|\d+(?:\.\d*)?[eE][+-]?\d+|\d+))
    | (?P<bnode>_:[\w\-.]*[\w\-])
    | (?P<pname>(?:[^\W\d_][\w\-.]*)?:
               (?:(?:[\w\-:%]|\\.)(?:[\w\-:%.]|\\.)*(?:[\w\-:%]|\\.)|[\w\-:%])?)
    | (?P<punct>\^\^|[][(),;.])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)")


@dataclass
class SourceMap:
    """Line numbers (1-based) of subject blocks and of first mentions, keyed by IRI."""

    subjects: dict[str, int] = field(default_factory=dict)
    mentions: dict[str, int] = field(default_factory=dict)

    def line_of(self, iri: str) -> int | None:
        """The line where ``iri``'s block starts, else where it is first mentioned."""
        return self.subjects.get(iri) or self.mentions.get(iri)


def turtle_source_map(text: str, base_iri: str | None = None) -> SourceMap:
    result = SourceMap()
    prefixes: dict[str, str] = {}
    base = base_iri or ""
    line = 1
    depth = 0
    expect_subject = True
    directive: list[str] = []  # tokens of a @prefix/@base directive being read

    def expand(kind: str, value: str) -> str | None:
        if kind == "iri":
            if not base:
                return value[1:-1]
            try:
                return urljoin(base, value[1:-1])
            except ValueError:
                # urllib refuses some hosts that IRIs allow (``http://[V1.a]/``): no line then.
                return None
        prefix, _, local = value.partition(":")
        namespace = prefixes.get(prefix)
        return None if namespace is None else namespace + _ESCAPE.sub(r"\1", local)

    def _declare(tokens: list[str]) -> None:
        nonlocal base
        iri = tokens[-1]
        if not iri.startswith("<"):
            return
        if tokens[0].lower().endswith("prefix") and len(tokens) == 3:
            prefixes[tokens[1].rstrip(":")] = expand("iri", iri) or ""
        elif tokens[0].lower().endswith("base") and len(tokens) == 2:
            base = expand("iri", iri) or base

    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        value = match.group()
        start_line = line
        line += value.count("\n")
        if kind in ("ws", "comment"):
            continue
        if directive:
            if value == "." or (kind == "iri" and not directive[0].startswith("@")):
                # Turtle's @prefix/@base end with '.'; SPARQL-style PREFIX/BASE with the IRI.
                if kind == "iri":
                    directive.append(value)
                _declare(directive)
                directive = []
            else:
                directive.append(value)
            continue
        if kind == "directive":
            directive = [value]
            continue
        if value == "." and kind == "punct":
            if depth == 0:
                expect_subject = True
            continue
        if value in ("[", "("):
            if depth == 0 and expect_subject:
                expect_subject = False
            depth += 1
            continue
        if value in ("]", ")"):
            depth = max(0, depth - 1)
            continue
        if kind in ("iri", "pname"):
            iri = expand(kind, value)
            if iri is None:
                continue
            result.mentions.setdefault(iri, start_line)
            if expect_subject and depth == 0:
                result.subjects.setdefault(iri, start_line)
                expect_subject = False
            continue
        if kind != "punct":
            expect_subject = False
    return result
