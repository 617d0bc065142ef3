"""What a SPARQL request is, read from its text before the engine sees it.

The engine decides whether a query is valid; this module only answers the questions the
protocol layer must answer first: which form (to pick a result format or refuse an update)
and whether it asks for federation (``SERVICE``), which is off on the public endpoint.
Strings, IRIs and comments are skipped whole, so a keyword inside them does not count
(SPARQL 1.1 Query §19.8 grammar tokens).
"""

from __future__ import annotations

import re
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
    return [match.group().upper() for match in _TOKEN.finditer(text) if match.lastgroup == "word"]


def query_form(text: str) -> QueryForm:
    """The form of the request: the first keyword after the prologue (BASE/PREFIX)."""
    for word in keywords(text):
        if word in ("BASE", "PREFIX"):
            continue
        if word in QueryForm.__members__:
            return QueryForm(word)
        if word in UPDATE_KEYWORDS:
            return QueryForm.UPDATE
        return QueryForm.UNKNOWN
    return QueryForm.UNKNOWN


def uses_service(text: str) -> bool:
    """Whether the query contains a ``SERVICE`` clause (federated query)."""
    return "SERVICE" in keywords(text)
