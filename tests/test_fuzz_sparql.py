"""Property-based tests of ``/sparql`` (issue 8): generated queries — well-formed and not,
updates, federation, property paths, functions on hostile arguments — sent by GET, by POST
form and by POST body, with odd parameters and headers. Every answer keeps the invariant of
``fuzzkit``; a query that runs too long ends at the (short) timeout with a 503.

The service runs on an on-disk store here, as in production: public queries then run in
worker processes that are killed at the timeout, so a generated runaway query costs at most
``TIMEOUT`` seconds of one CPU."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from fuzzkit import (
    CLASSES,
    PROPERTIES,
    THINGS,
    fuzz,
    header_text,
    headers_bytes,
    iris,
    make_client,
    nasty_text,
    send,
)
from hypothesis import given
from hypothesis import strategies as st

TIMEOUT = 0.5
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("fuzz-sparql")
    with make_client(
        tmp,
        store=str(tmp / "store"),
        query_timeout=TIMEOUT,
        query_workers=2,
        max_query_bytes=20_000,
    ) as client:
        yield client


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


variables = st.sampled_from(["?s", "?p", "?o", "?x", "?g", "$l"])
known = st.sampled_from(CLASSES + PROPERTIES + THINGS).map(lambda iri: f"<{iri}>")
terms = st.one_of(
    variables,
    known,
    iris.map(lambda iri: f"<{iri}>"),
    nasty_text.map(_quoted),
    st.sampled_from(["1", "-0", "1e999", "9" * 40, "true", '"x"@nl', '"1"^^<nonsense:x>', "[]"]),
)
paths = st.recursive(
    st.one_of(known, st.just("a"), st.just("<http://example.org/p>")),
    lambda inner: st.one_of(
        inner.map(lambda p: f"{p}*"),
        inner.map(lambda p: f"{p}+"),
        inner.map(lambda p: f"^{p}"),
        inner.map(lambda p: f"!{p}"),
        st.tuples(inner, inner).map(lambda pq: f"({pq[0]}|{pq[1]})"),
        st.tuples(inner, inner).map(lambda pq: f"{pq[0]}/{pq[1]}"),
    ),
    max_leaves=5,
)
expressions = st.recursive(
    terms,
    lambda inner: st.one_of(
        st.tuples(
            st.sampled_from(
                [
                    "REGEX",
                    "STRLEN",
                    "SUBSTR",
                    "REPLACE",
                    "LANGMATCHES",
                    "ENCODE_FOR_URI",
                    "IRI",
                    "STRDT",
                    "STRLANG",
                    "CONCAT",
                    "<http://www.w3.org/2001/XMLSchema#integer>",
                    "<http://www.w3.org/2001/XMLSchema#dateTime>",
                    "xsd:nope",
                    "COALESCE",
                    "SHA512",
                    "TZ",
                    "ABS",
                    "ROUND",
                ]
            ),
            st.lists(inner, max_size=3),
        ).map(lambda fa: f"{fa[0]}({', '.join(fa[1])})"),
        st.tuples(inner, st.sampled_from(["/", "*", "+", "=", "<", "&&", "||", "!="]), inner).map(
            " ".join
        ),
    ),
    max_leaves=6,
)
patterns = st.recursive(
    st.one_of(
        st.tuples(terms, st.one_of(terms, paths), terms).map(lambda t: " ".join(t) + " ."),
        expressions.map(lambda e: f"FILTER({e})"),
        st.tuples(expressions, variables).map(lambda ev: f"BIND({ev[0]} AS {ev[1]})"),
        st.lists(terms, max_size=3).map(lambda ts: f"VALUES ?v {{ {' '.join(ts)} }}"),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda ps: "{ " + " ".join(ps) + " }"),
        st.tuples(inner, inner).map(lambda ab: f"{{ {ab[0]} }} UNION {{ {ab[1]} }}"),
        inner.map(lambda p: f"OPTIONAL {{ {p} }}"),
        inner.map(lambda p: f"MINUS {{ {p} }}"),
        inner.map(lambda p: f"GRAPH ?g {{ {p} }}"),
        inner.map(lambda p: f"SERVICE <http://127.0.0.1:9/sparql> {{ {p} }}"),
    ),
    max_leaves=6,
)
modifiers = st.sampled_from(
    ["", "LIMIT 5", "LIMIT 99999999999999999999", "OFFSET -1", "ORDER BY ?s", "GROUP BY ?s"]
)


@st.composite
def queries(draw: st.DrawFn) -> str:
    prologue = draw(
        st.sampled_from(
            ["", "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n", "BASE <http://[V1.a]/>\n"]
        )
    )
    where = " ".join(draw(st.lists(patterns, min_size=1, max_size=3)))
    head = draw(
        st.sampled_from(
            [
                "SELECT *",
                "SELECT DISTINCT ?s",
                "SELECT (COUNT(*) AS ?n)",
                "ASK",
                "CONSTRUCT { ?s ?p ?o }",
                "DESCRIBE ?s",
                "DESCRIBE <https://w3id.org/meent/id/commons/noordoogst>",
                "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> } ;",
                "DELETE",
                "CLEAR ALL ;",
                "DROP GRAPH <https://w3id.org/meent/graph/ontology> ;",
                "LOAD <http://127.0.0.1:9/data.ttl> ;",
                "WITH <urn:g> DELETE { ?s ?p ?o }",
                "",
            ]
        )
    )
    text = f"{prologue}{head} WHERE {{ {where} }} {draw(modifiers)}"
    how = draw(st.sampled_from(["keep", "keep", "keep", "cut", "noise"]))
    if how == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if how == "noise":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(nasty_text) + text[at:]
    return text


extra_params = st.lists(
    st.tuples(
        st.sampled_from(
            ["format", "default-graph-uri", "named-graph-uri", "update", "query", "timeout"]
        ),
        st.one_of(
            st.sampled_from(["json", "csv", "ttl", "jsonld", "html", "text/turtle", "rdf"]),
            iris,
            nasty_text,
        ),
    ),
    max_size=2,
)
accepts = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/sparql-results+json",
            "text/csv",
            "text/turtle",
            "application/ld+json;q=0.5, */*;q=0.1",
            "text/html",
            "image/png",
        ]
    ),
    header_text,
)


@fuzz(60)
@given(
    query=st.one_of(queries(), nasty_text),
    how=st.sampled_from(["get", "form", "direct"]),
    params=extra_params,
    accept=accepts,
    charset=st.sampled_from(["", "; charset=utf-8", "; charset=latin-1", ";;charset"]),
)
def test_queries_keep_the_invariant(
    client: TestClient,
    query: str,
    how: str,
    params: list[tuple[str, str]],
    accept: str | None,
    charset: str,
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    if how == "get":
        url = "/sparql?" + urlencode([("query", query), *params])
        send(client, "GET", url, headers=headers_bytes(headers), timeout_ok=True)
    elif how == "form":
        body = urlencode([("query", query), *params]).encode()
        headers["Content-Type"] = FORM + charset
        send(
            client,
            "POST",
            "/sparql",
            content=body,
            headers=headers_bytes(headers),
            timeout_ok=True,
        )
    else:
        headers["Content-Type"] = DIRECT + charset
        url = "/sparql" + ("?" + urlencode(params) if params else "")
        send(
            client,
            "POST",
            url,
            content=query.encode("utf-8", errors="surrogatepass"),
            headers=headers_bytes(headers),
            timeout_ok=True,
        )


@fuzz(20)
@given(body=st.binary(max_size=1000), media_type=header_text)
def test_arbitrary_bodies_keep_the_invariant(
    client: TestClient, body: bytes, media_type: str
) -> None:
    headers = headers_bytes({"Content-Type": media_type})
    send(client, "POST", "/sparql", content=body, headers=headers, timeout_ok=True)
