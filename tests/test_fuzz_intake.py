"""Property-based tests of the contribution intake (issue 8): generated and mangled Turtle,
N-Triples and JSON-LD sent to every route that parses a contribution — ``?dry-run=true``,
``/contributions/validate``, an authenticated ``POST`` and ``PUT``, and the ``/contribute``
form — each answer checked against the invariant of ``fuzzkit``; then what was accepted is
read back through every page that shows the published graph."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from fuzzkit import (
    KOPPEL,
    bearer,
    fuzz,
    header_text,
    headers_bytes,
    jsonld_documents,
    koppels,
    make_client,
    mutated,
    ntriples_documents,
    send,
    started,
    turtle_documents,
)
from hypothesis import given
from hypothesis import strategies as st

TURTLE, NTRIPLES, JSONLD = "text/turtle", "application/n-triples", "application/ld+json"
#: Content-Type headers: the right one mostly, else a wrong, odd or absent one.
CONTENT_TYPES = (
    TURTLE,
    NTRIPLES,
    JSONLD,
    "text/turtle; charset=utf-16",
    "TEXT/TURTLE ; charset=UTF-8",
    "application/ld+json; profile=http://www.w3.org/ns/json-ld#expanded",
    "application/rdf+xml",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "text/turtle;;;=",
    "",
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("fuzz-intake")
    yield from started(make_client(tmp, max_contribution_bytes=200_000))


@pytest.fixture(scope="module")
def auth(client: TestClient) -> dict[str, str]:
    return bearer(client, "fuzz-intake")


@pytest.fixture(scope="module")
def existing(client: TestClient, auth: dict[str, str]) -> str:
    """A published contribution that PUT requests try to replace."""
    body = KOPPEL.replace(b"2024-test-contribution", b"fuzz-existing")
    response = send(
        client, "POST", "/contributions", content=body, headers={"Content-Type": TURTLE, **auth}
    )
    assert response.status_code == 201, response.text
    return response.headers["location"]


def _headers(media_type: str, accept: str | None, language: str | None) -> dict[str, bytes]:
    values = {"Content-Type": media_type}
    if accept is not None:
        values["Accept"] = accept
    if language is not None:
        values["Accept-Language"] = language
    return headers_bytes(values)


ROUTES = ("dry-run", "validate", "submit", "replace", "form")


def _submit(
    client: TestClient,
    route: str,
    body: bytes,
    headers: dict[str, bytes],
    auth: dict[str, str],
    existing: str,
) -> None:
    if route == "dry-run":
        send(client, "POST", "/contributions?dry-run=true", content=body, headers=headers)
    elif route == "validate":
        send(client, "POST", "/contributions/validate", content=body, headers=headers)
    elif route == "submit":
        send(client, "POST", "/contributions", content=body, headers={**headers, **auth})
    elif route == "replace":
        send(client, "PUT", existing, content=body, headers={**headers, **auth})
    else:
        form = "turtle=" + quote(body.decode("utf-8", errors="replace"), safe="")
        send(
            client,
            "POST",
            "/contribute",
            content=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )


def documents(strategy: st.SearchStrategy[bytes], media_type: str) -> st.SearchStrategy:
    """(body, Content-Type): the right type three times in four."""
    return st.tuples(
        mutated(strategy),
        st.one_of(st.just(media_type), st.just(media_type), st.sampled_from(CONTENT_TYPES)),
    )


@fuzz(40)
@given(
    document=st.one_of(
        documents(turtle_documents(), TURTLE),
        documents(koppels(), TURTLE),
        documents(ntriples_documents(), NTRIPLES),
    ),
    route=st.sampled_from(ROUTES),
    accept=st.none() | st.sampled_from(["application/json", "text/turtle", "*/*"]) | header_text,
    language=st.none() | header_text,
)
def test_turtle_and_ntriples_intake_keeps_the_invariant(
    client: TestClient,
    auth: dict[str, str],
    existing: str,
    document: tuple[bytes, str],
    route: str,
    accept: str | None,
    language: str | None,
) -> None:
    body, media_type = document
    _submit(client, route, body, _headers(media_type, accept, language), auth, existing)


@fuzz(30)
@given(
    document=documents(jsonld_documents(), JSONLD),
    route=st.sampled_from(ROUTES[:4]),
    accept=st.none() | st.sampled_from(["application/ld+json", "application/problem+json"]),
)
def test_jsonld_intake_keeps_the_invariant(
    client: TestClient,
    auth: dict[str, str],
    existing: str,
    document: tuple[bytes, str],
    route: str,
    accept: str | None,
) -> None:
    body, media_type = document
    _submit(client, route, body, _headers(media_type, accept, None), auth, existing)


@fuzz(30)
@given(
    body=st.binary(max_size=2000),
    media_type=st.sampled_from(CONTENT_TYPES) | header_text,
    route=st.sampled_from(ROUTES),
)
def test_arbitrary_bytes_keep_the_invariant(
    client: TestClient,
    auth: dict[str, str],
    existing: str,
    body: bytes,
    media_type: str,
    route: str,
) -> None:
    _submit(client, route, body, _headers(media_type, None, None), auth, existing)


@fuzz(8)
@given(document=st.one_of(turtle_documents(), koppels()), accept=header_text)
def test_what_was_accepted_reads_back_everywhere(
    client: TestClient, auth: dict[str, str], document: bytes, accept: str
) -> None:
    """Published hostile data must not break a page that shows it: the resource pages of
    its subjects, the landing page, VoID, the catalogue, the sitemap, the change feed."""
    response = send(
        client,
        "POST",
        "/contributions",
        content=document,
        headers={"Content-Type": TURTLE, **auth},
    )
    if response.status_code != 201:
        return
    location = response.headers["location"]
    detail = send(client, "GET", location).json()
    subjects = {
        t.subject.value
        for t in ox.parse(detail["data"].encode(), ox.RdfFormat.TURTLE)
        if isinstance(t.subject, ox.NamedNode)
    }
    for path in (location, "/", "/.well-known/void", "/sitemap.xml", "/catalog", "/ldes/1"):
        for wanted in ("text/html", accept):
            send(client, "GET", path, headers=headers_bytes({"Accept": wanted}))
    for iri in sorted(subjects)[:4]:
        for wanted in ("text/html", "application/ld+json", accept):
            headers = headers_bytes({"Accept": wanted})
            send(client, "GET", "/resource", params={"iri": iri}, headers=headers)


def test_the_fixture_itself_is_accepted(client: TestClient) -> None:
    """The generators start from a document the intake accepts: a sanity check."""
    body = KOPPEL.replace(b"2024-test-contribution", b"fuzz-sanity")
    response = send(
        client, "POST", "/contributions/validate", content=body, headers={"Content-Type": TURTLE}
    )
    assert response.status_code == 200, response.text
