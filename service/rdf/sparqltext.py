"""What a SPARQL request is, read from its text before the engine sees it.

The engine decides whether a query is valid; this module only answers the questions Meent
must answer first: which form (to pick a result format or refuse an update), whether it asks
for federation (``SERVICE``, off on the public endpoint), whether it names its own dataset
(``FROM``), how deep it nests, and which prefixes it declares. It is the one lexer of SPARQL
text in the service: the endpoint, the stores and the example questions all read it here.
Strings, IRIs and comments are skipped whole, so a keyword inside them does not count
(SPARQL 1.1 Query §19.8 grammar tokens).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

_TOKEN = re.compile(
    r"""
    (?P<skip>\s+|\#[^\n]*)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                 |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    | (?P<iri><[^<>"{}|^`\\\s]*>)
    | (?P<var>[?$][\w]+)
    | (?P<pname>[\w.\-]*:[\w.\-:%]*)
    | (?P<word>[A-Za-z_]\w*)
    | (?P<number>\d+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)


class QueryForm(StrEnum):
    SELECT = "SELECT"
    ASK = "ASK"
    CONSTRUCT = "CONSTRUCT"
    DESCRIBE = "DESCRIBE"
    UPDATE = "UPDATE"
    UNKNOWN = "UNKNOWN"

    @property
    def returns_graph(self) -> bool:
        return self in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)


def keywords(text: str) -> list[str]:
    """The bare words of a SPARQL text, upper-cased, outside strings, IRIs and comments."""
    return scan(text)[0]


def query_form(text: str) -> QueryForm:
    """The form of the request: the first keyword after the prologue (BASE/PREFIX)."""
    return form_of(keywords(text))


def form_of(words: Iterable[str]) -> QueryForm:
    """``query_form`` of a text whose ``keywords`` are ``words``."""
    for word in words:
        if word in ("BASE", "PREFIX"):
            continue
        if word in QueryForm.__members__:
            return QueryForm(word)
        if word in UPDATE_KEYWORDS:
            return QueryForm.UPDATE
        return QueryForm.UNKNOWN
    return QueryForm.UNKNOWN


#: Functions whose value differs from one evaluation to the next (SPARQL 1.1 Query §17.4).
NONDETERMINISTIC = frozenset({"RAND", "NOW", "UUID", "STRUUID", "BNODE"})


def is_repeatable(words: Iterable[str]) -> bool:
    """Whether evaluating a query (its ``keywords``) again on the same data gives the same
    answer: no call of RAND, NOW, UUID, STRUUID or BNODE (a variable or a prefixed name of
    that name does not count)."""
    return NONDETERMINISTIC.isdisjoint(words)


def prefix_declarations(text: str) -> dict[str, str]:
    """The ``PREFIX`` declarations of a query or update: prefix (without its colon) → IRI."""
    declared: dict[str, str] = {}
    expect, prefix = "", ""
    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "skip":
            continue
        if expect == "pname" and kind == "pname" and token.endswith(":") and token.count(":") == 1:
            expect, prefix = "iri", token[:-1]
        elif expect == "iri" and kind == "iri":
            declared[prefix] = token[1:-1]
            expect = ""
        else:
            expect = "pname" if kind == "word" and token.upper() == "PREFIX" else ""
    return declared


def uses_service(text: str) -> bool:
    """Whether the query contains a ``SERVICE`` clause (federated query)."""
    return "SERVICE" in keywords(text)


def cap_rows(text: str, cap: int) -> str:
    """The query with at most ``cap`` solutions: its top-level LIMIT lowered to ``cap``, or
    ``LIMIT cap`` added where SPARQL 1.1 Query §19.8 puts it (after the solution modifiers,
    before a trailing VALUES clause). Other forms than SELECT/CONSTRUCT/DESCRIBE are returned
    as they are."""
    if query_form(text) not in (QueryForm.SELECT, QueryForm.CONSTRUCT, QueryForm.DESCRIBE):
        return text
    depth = 0
    limit_value: re.Match[str] | None = None
    values_at: int | None = None
    previous = ""
    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "skip":
            continue
        if kind == "other" and token in "{(":
            depth += 1
        elif kind == "other" and token in "})":
            depth = max(0, depth - 1)
        elif depth == 0 and kind == "word" and token.upper() == "VALUES":
            values_at = match.start()
        elif depth == 0 and kind == "number" and previous == "LIMIT":
            limit_value = match
        previous = token.upper() if kind == "word" else ""
    if limit_value is not None:
        if int(limit_value.group()) <= cap:
            return text
        return text[: limit_value.start()] + str(cap) + text[limit_value.end() :]
    if values_at is not None:
        return f"{text[:values_at]}LIMIT {cap}\n{text[values_at:]}"
    # On a line of its own, so a trailing comment cannot swallow it.
    return f"{text}\nLIMIT {cap}"


_OPENING, _CLOSING = frozenset("({["), frozenset(")}]")
#: Operators that chain (``^`` is left out: every typed literal has two).
_OPERATORS = frozenset({"+", "-", "*", "/", "|", "!", "&", "=", "<", ">"})


def complexity(text: str) -> tuple[int, int]:
    """The deepest bracket nesting and the number of chaining operators (``UNION``, ``||``,
    ``/``, ``+``…) of a query: what a recursive parser and evaluator recurse on."""
    _, deepest, operators = scan(text)
    return deepest, operators


def scan(text: str) -> tuple[list[str], int, int]:
    """``keywords`` and ``complexity`` in one pass over the text (the endpoint asks both of
    every query)."""
    words: list[str] = []
    depth = deepest = operators = 0
    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "other":
            if token in _OPENING:
                depth += 1
                deepest = max(deepest, depth)
            elif token in _CLOSING:
                depth -= 1
            elif token in _OPERATORS:
                operators += 1
        elif kind == "word":
            word = token.upper()
            words.append(word)
            if word == "UNION":
                operators += 1
    return words, deepest, operators
