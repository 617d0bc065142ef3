"""Property-based tests of the read side (issue 8): generated ``Accept``,
``Accept-Language``, cookies and conditional headers on every page and document, generated
IRIs and slugs in every path that takes one, and generated values for every query parameter
the routes read (``format``, ``page``, ``lang``, ``iri``, ``class``, ``q``, …). Every answer
keeps the invariant of ``fuzzkit``."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from fuzzkit import (
    LONG,
    NASTY,
    THINGS,
    fuzz,
    header_text,
    headers_bytes,
    iris,
    make_client,
    nasty_text,
    send,
    started,
)
from hypothesis import given
from hypothesis import strategies as st

BASE = "https://w3id.org/meent/"
DOC = "/doc/" + THINGS[0].removeprefix(BASE + "id/")
#: Every GET route, with a real argument where it takes one.
PAGES = (
    "/",
    "/sparql",
    "/.well-known/sparql-examples",
    "/.well-known/void",
    "/catalog",
    "/dumps/",
    "/ldes",
    "/ldes/1",
    "/sitemap.xml",
    "/robots.txt",
    "/def",
    "/def.ttl",
    "/shapes",
    "/def/context.jsonld",
    "/def/1.1.0",
    "/contribute",
    "/contributions",
    "/contributions/templates/",
    "/contributions/templates/koppel.ttl",
    "/search?q=noord",
    "/index?class=https%3A%2F%2Fw3id.org%2Fmeent%2Fdef%23Koppel",
    "/doc/commons",
    "/id/commons",
    DOC,
    DOC + ".ttl",
    "/id/" + THINGS[0].removeprefix(BASE + "id/"),
    "/resource?iri=https%3A%2F%2Fidentifier.overheid.nl%2Ftooi%2Fid%2Fgemeente%2Fgm0363",
)
ACCEPTS = (
    "text/html",
    "text/turtle",
    "application/ld+json",
    "application/rdf+xml",
    "*/*",
    "text/*;q=0",
    "application/json;q=abc, text/html;q=0.5",
    "image/png",
    "text/turtle;version=2",
    ",,,;;;",
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from started(make_client(tmp_path_factory.mktemp("fuzz-http")))


@fuzz(80)
@given(
    path=st.sampled_from(PAGES),
    method=st.sampled_from(["GET", "GET", "HEAD"]),
    accept=st.none() | st.sampled_from(ACCEPTS) | header_text,
    language=st.none() | st.sampled_from(["nl", "en;q=0", "nl-BE, en;q=0.5", "*"]) | header_text,
    cookie=st.none() | header_text.map(lambda value: f"meent_lang={value}"),
    condition=st.none()
    | header_text.map(lambda value: ("If-None-Match", value))
    | st.sampled_from(['"x"', "*", 'W/"x", "y"']).map(lambda value: ("If-None-Match", value))
    | header_text.map(lambda value: ("If-Modified-Since", value))
    | st.sampled_from(
        [
            "Mon, 01 Jan 99999 00:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 +9999",
            "Sat, 01 Jan 2100 00:00:00 GMT",
        ]
    ).map(lambda value: ("If-Modified-Since", value)),
)
def test_headers_keep_the_invariant(
    client: TestClient,
    path: str,
    method: str,
    accept: str | None,
    language: str | None,
    cookie: str | None,
    condition: tuple[str, str] | None,
) -> None:
    headers = {}
    if accept is not None:
        headers["Accept"] = accept
    if language is not None:
        headers["Accept-Language"] = language
    if cookie is not None:
        headers["Cookie"] = cookie
    if condition is not None:
        headers[condition[0]] = condition[1]
    send(client, method, path, headers=headers_bytes(headers))


#: Paths with one or two generated segments ({} each).
TEMPLATES = (
    "/id/{}/{}",
    "/doc/{}/{}",
    "/doc/{}",
    "/id/{}",
    "/doc/commons/{}",
    "/def/{}",
    "/def.{}",
    "/shapes.{}",
    "/dumps/{}",
    "/ldes/{}",
    "/contributions/{}",
    "/contributions/templates/{}.ttl",
    "/static/{}",
    "/.well-known/{}",
    "/{}",
)
segments = st.one_of(
    nasty_text,
    st.sampled_from(NASTY),
    LONG,
    st.sampled_from(["noordoogst", "commons", "1", "0", "..", ".", "", "x.ttl", "a.html"]),
    st.sampled_from(THINGS).map(lambda iri: iri.rsplit("/", 1)[-1]),
)


@fuzz(80)
@given(
    template=st.sampled_from(TEMPLATES),
    parts=st.lists(segments, min_size=2, max_size=2),
    encode=st.booleans(),
    method=st.sampled_from(["GET", "GET", "GET", "PUT", "DELETE", "POST"]),
    accept=st.sampled_from(["text/html", "text/turtle", "*/*"]),
)
def test_paths_keep_the_invariant(
    client: TestClient,
    template: str,
    parts: list[str],
    encode: bool,
    method: str,
    accept: str,
) -> None:
    """Slugs and ids as clients send them: percent-encoded, or raw where a URL allows."""
    safe = "" if encode else "/:@!$&'()*+,;="
    quoted = [quote(part, safe=safe) for part in parts]
    path = template.format(*quoted[: template.count("{}")])
    if method in ("PUT", "POST") and path.startswith("/contributions/"):
        path = path.removesuffix(".ttl") + ("/accept" if method == "POST" else "")
    send(client, method, path, headers={"Accept": accept})


#: Every query parameter a route reads, and where.
PARAMETERS = {
    "/": ("lang",),
    "/sparql": ("format", "query"),
    "/.well-known/sparql-examples": ("format",),
    "/ldes": ("format",),
    "/ldes/1": ("format",),
    "/sitemap.xml": ("page",),
    "/def": ("format", "lang"),
    "/contribute": ("lang",),
    "/contributions": ("page",),
    "/contributions/templates/koppel.ttl": ("lang",),
    "/search": ("q", "lang"),
    "/index": ("class", "page", "lang"),
    "/doc/commons": ("page", "lang"),
    "/id/commons": ("page",),
    DOC: ("format", "page", "lang"),
    DOC + ".jsonld": ("page",),
    "/resource": ("iri", "format", "page", "lang"),
}
values = st.one_of(
    nasty_text,
    st.sampled_from(NASTY),
    LONG,
    iris,
    st.sampled_from(["ttl", "html", "jsonld", "nq", "json", "nl", "en", "1", "2", "100001"]),
)


@fuzz(100)
@given(
    path=st.sampled_from(sorted(PARAMETERS)),
    data=st.data(),
    accept=st.sampled_from(["text/html", "*/*", "application/n-triples"]),
)
def test_query_parameters_keep_the_invariant(
    client: TestClient, path: str, data: st.DataObject, accept: str
) -> None:
    names = st.sampled_from([*PARAMETERS[path], "dry-run", "license", "x"])
    params = data.draw(st.lists(st.tuples(names, values), max_size=3), label="params")
    send(client, "GET", path, params=params, headers={"Accept": accept})
