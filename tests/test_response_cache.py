"""The response cache answers repeated reads from memory, and never an answer the graph has
moved past: not after a contribution, not after a write straight to the store, not for
another representation, not for a client with credentials."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from servers import create_token
from starlette.types import Receive, Scope, Send

from service.config import Settings
from service.web import response_cache
from service.web.app import create_app
from service.web.response_cache import ResponseCache

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/meent/"
NOORDOOGST = "/doc/commons/noordoogst"
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"


def _cache(client: TestClient) -> ResponseCache:
    """The cache in the app's middleware stack (built on the first request)."""
    layer = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, ResponseCache):
        layer = layer.app
    return layer


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store="memory", project_root=ROOT))) as test_client:
        yield test_client


@pytest.fixture
def on_disk(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    store = tmp_path / "store"
    secret = create_token(store, "cache-test")
    settings = Settings(store=str(store), project_root=ROOT)
    with TestClient(create_app(settings)) as test_client:
        yield test_client, secret


def test_a_repeated_read_is_answered_from_the_cache(client: TestClient) -> None:
    first = client.get(NOORDOOGST, headers={"Accept": "text/turtle"})
    hits = _cache(client).hits
    second = client.get(NOORDOOGST, headers={"Accept": "text/turtle"})
    assert _cache(client).hits == hits + 1
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"] == first.headers["content-type"]
    # The security headers are added outside the cache, to cached answers too.
    assert second.headers["x-content-type-options"] == "nosniff"


def test_each_representation_is_kept_apart(client: TestClient) -> None:
    turtle = client.get(NOORDOOGST, headers={"Accept": "text/turtle"})
    html = client.get(NOORDOOGST, headers={"Accept": "text/html"})
    dutch = client.get(NOORDOOGST, headers={"Accept": "text/html", "Accept-Language": "nl"})
    html_again = client.get(NOORDOOGST, headers={"Accept": "text/html"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert html.headers["content-type"].startswith("text/html")
    assert html_again.content == html.content
    assert dutch.content != html.content
    assert "content-security-policy" in html_again.headers


def test_a_redirect_is_kept_with_its_location(client: TestClient) -> None:
    first = client.get("/id/commons/noordoogst", follow_redirects=False)
    hits = _cache(client).hits
    second = client.get("/id/commons/noordoogst", follow_redirects=False)
    assert _cache(client).hits == hits + 1
    assert second.status_code == first.status_code == 303
    assert second.headers["location"] == first.headers["location"]


def test_if_none_match_gets_a_304_from_the_cache(client: TestClient) -> None:
    first = client.get(NOORDOOGST)
    client.get(NOORDOOGST)  # kept now
    hits = _cache(client).hits
    again = client.get(NOORDOOGST, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]
    assert _cache(client).hits == hits + 1
    other = client.get(NOORDOOGST, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content


def test_if_modified_since_is_left_to_the_routes(client: TestClient) -> None:
    first = client.get(NOORDOOGST)
    again = client.get(NOORDOOGST, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert again.status_code == 304


def test_requests_with_credentials_are_not_answered_from_the_cache(client: TestClient) -> None:
    client.get("/catalog")
    client.get("/catalog")
    hits = _cache(client).hits
    client.get("/catalog", headers={"Authorization": "Bearer nothing"})
    client.get("/catalog", headers={"Cookie": "a=b"})
    assert _cache(client).hits == hits


def test_a_sparql_result_is_kept_until_the_graph_changes(client: TestClient) -> None:
    query = f"SELECT ?o WHERE {{ <{BASE}id/x/direct> {LABEL} ?o }}"
    accept = {"Accept": "application/sparql-results+json"}
    assert (
        client.get("/sparql", params={"query": query}, headers=accept).json()["results"]["bindings"]
        == []
    )
    store = client.app.state.services.store  # type: ignore[attr-defined]

    async def write() -> None:
        body = f'<{BASE}id/x/direct> {LABEL} "written past the service" .'
        await store.replace_graph(BASE + "graph/test/direct", body, format=ox.RdfFormat.N_TRIPLES)

    try:
        anyio.run(write)
        after = client.get("/sparql", params={"query": query}, headers=accept).json()
        assert [b["o"]["value"] for b in after["results"]["bindings"]] == [
            "written past the service"
        ]
    finally:

        async def drop() -> None:
            await store.drop_graph(BASE + "graph/test/direct")

        anyio.run(drop)


def test_a_contribution_shows_at_once(on_disk: tuple[TestClient, str]) -> None:
    client, secret = on_disk
    koppel = "/doc/koppel/2024-test-contribution"
    assert client.get(koppel).status_code == 404
    listing = client.get("/contributions").json()
    client.get("/contributions")
    headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {secret}"}
    assert client.post("/contributions", content=KOPPEL, headers=headers).status_code == 201
    page = client.get(koppel, headers={"Accept": "text/turtle"})
    assert page.status_code == 200 and "Test koppel" in page.text
    assert len(client.get("/contributions").json()["items"]) == len(listing["items"]) + 1


# --- the middleware on its own, with small ASGI apps -------------------------------------------


def _app(
    body: bytes, headers: list[tuple[bytes, bytes]] | None = None, incomplete: bool = False
) -> tuple[list[int], object]:
    calls: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(1)
        if incomplete:
            scope.setdefault("state", {})["response_incomplete"] = True
        start_headers = [(b"content-type", b"text/plain"), *(headers or [])]
        await send({"type": "http.response.start", "status": 200, "headers": start_headers})
        await send({"type": "http.response.body", "body": body[:3], "more_body": True})
        await send({"type": "http.response.body", "body": body[3:]})

    return calls, app


def _get_twice(cache: ResponseCache, path: str = "/x") -> list[bytes]:
    client = TestClient(cache)  # type: ignore[arg-type]
    return [client.get(path).content for _ in range(2)]


def test_a_streamed_answer_is_forwarded_and_kept_whole() -> None:
    calls, app = _app(b"hello world")
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=1000)  # type: ignore[arg-type]
    assert _get_twice(cache) == [b"hello world", b"hello world"]
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("headers", "incomplete"),
    [
        ([(b"cache-control", b"no-store")], False),
        ([(b"cache-control", b"private, max-age=60")], False),
        ([(b"set-cookie", b"a=b")], False),
        ([], True),  # a result cut at the timeout
    ],
)
def test_answers_that_must_not_be_kept_are_not(
    headers: list[tuple[bytes, bytes]], incomplete: bool
) -> None:
    calls, app = _app(b"hello world", headers, incomplete)
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=1000)  # type: ignore[arg-type]
    _get_twice(cache)
    assert len(calls) == 2


def test_a_write_count_that_moved_makes_entries_stale() -> None:
    calls, app = _app(b"hello world")
    count = [0]
    cache = ResponseCache(app, writes=lambda: count[0], max_bytes=1000)  # type: ignore[arg-type]
    client = TestClient(cache)  # type: ignore[arg-type]
    client.get("/x")
    count[0] += 1
    client.get("/x")
    client.get("/x")
    assert len(calls) == 2


def test_writing_requests_start_a_new_epoch() -> None:
    calls, app = _app(b"hello world")
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=1000)  # type: ignore[arg-type]
    client = TestClient(cache)  # type: ignore[arg-type]
    client.get("/x")
    client.post("/sparql", content=b"ASK {}")  # a query: no write (but a call)
    client.get("/x")
    assert len(calls) == 2
    client.post("/contributions", content=b"")
    client.get("/x")
    assert len(calls) == 4  # the POST, then the GET again


def test_the_least_recently_used_answers_go_first() -> None:
    calls, app = _app(b"0123456789")
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=25)  # type: ignore[arg-type]
    client = TestClient(cache)  # type: ignore[arg-type]
    for path in ("/a", "/b", "/a", "/c"):  # /c pushes out /b, the least recently used
        client.get(path)
    assert len(calls) == 3
    client.get("/a")
    client.get("/c")
    assert len(calls) == 3
    client.get("/b")
    assert len(calls) == 4


def test_answers_larger_than_an_entry_may_be_are_passed_on_not_kept() -> None:
    calls, app = _app(b"x" * 100)
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=1000, max_entry_bytes=50)  # type: ignore[arg-type]
    assert _get_twice(cache) == [b"x" * 100] * 2
    assert len(calls) == 2


def test_a_large_answer_is_kept_the_second_time_it_is_asked_for() -> None:
    calls, app = _app(b"x" * 100)
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=1000, admit_bytes=50)  # type: ignore[arg-type]
    client = TestClient(cache)  # type: ignore[arg-type]
    assert [client.get("/x").content for _ in range(3)] == [b"x" * 100] * 3
    assert len(calls) == 2  # computed twice, then kept
    assert cache.hits == 1


def test_a_small_answer_is_kept_at_once() -> None:
    calls, app = _app(b"x" * 50)
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=1000, admit_bytes=50)  # type: ignore[arg-type]
    assert _get_twice(cache) == [b"x" * 50] * 2
    assert len(calls) == 1


def test_the_cache_remembers_only_the_latest_large_answers_asked_for_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(response_cache, "SEEN_KEYS", 2)
    calls, app = _app(b"x" * 100)
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=1000, admit_bytes=50)  # type: ignore[arg-type]
    client = TestClient(cache)  # type: ignore[arg-type]
    for path in ("/a", "/b", "/c", "/a", "/a"):  # /c pushes /a out: /a is asked "once" again
        client.get(path)
    assert len(calls) == 5
    client.get("/a")  # kept the second time in a row
    assert len(calls) == 5
    assert cache.hits == 1


def test_a_cache_of_size_zero_is_off() -> None:
    calls, app = _app(b"hello world")
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=0)  # type: ignore[arg-type]
    _get_twice(cache)
    assert len(calls) == 2


# --- queries sent by POST -------------------------------------------------------------------

RESULTS = {"Accept": "application/sparql-results+json"}


def test_a_posted_query_is_kept_by_its_body(client: TestClient) -> None:
    query = f"SELECT ?o WHERE {{ <{BASE}id/commons/noordoogst> {LABEL} ?o }}"
    headers = {**RESULTS, "Content-Type": "application/sparql-query"}
    first = client.post("/sparql", content=query, headers=headers)
    assert first.status_code == 200 and first.json()["results"]["bindings"]
    assert first.headers["cache-control"] == "no-cache"
    hits = _cache(client).hits
    again = client.post("/sparql", content=query, headers=headers)
    assert _cache(client).hits == hits + 1
    assert again.content == first.content
    # Another body is another query; the same query as a form is another request.
    other = client.post("/sparql", content=query.replace("?o", "?label"), headers=headers)
    assert _cache(client).hits == hits + 1
    assert other.json()["head"]["vars"] == ["label"]
    form = {**RESULTS, "Content-Type": "application/x-www-form-urlencoded"}
    client.post("/sparql", data={"query": query}, headers=form)
    assert _cache(client).hits == hits + 1
    client.post("/sparql", data={"query": query}, headers=form)
    assert _cache(client).hits == hits + 2


def test_a_query_whose_answer_changes_by_itself_is_never_kept(client: TestClient) -> None:
    query = "SELECT (STRUUID() AS ?id) WHERE {}"
    headers = {**RESULTS, "Content-Type": "application/sparql-query"}
    hits = _cache(client).hits
    answers = [client.post("/sparql", content=query, headers=headers) for _ in range(2)]
    assert _cache(client).hits == hits
    assert all(a.headers["cache-control"] == "no-store" for a in answers)
    ids = [a.json()["results"]["bindings"][0]["id"]["value"] for a in answers]
    assert ids[0] != ids[1]


def test_a_posted_query_is_fresh_after_a_write(client: TestClient) -> None:
    query = f"ASK {{ <{BASE}id/x/posted> {LABEL} ?o }}"
    headers = {**RESULTS, "Content-Type": "application/sparql-query"}
    assert client.post("/sparql", content=query, headers=headers).json()["boolean"] is False
    assert client.post("/sparql", content=query, headers=headers).json()["boolean"] is False
    store = client.app.state.services.store  # type: ignore[attr-defined]
    graph = BASE + "graph/test/posted"

    async def write() -> None:
        body = f'<{BASE}id/x/posted> {LABEL} "written" .'
        await store.replace_graph(graph, body, format=ox.RdfFormat.N_TRIPLES)

    try:
        anyio.run(write)
        assert client.post("/sparql", content=query, headers=headers).json()["boolean"] is True
    finally:
        anyio.run(lambda: store.drop_graph(graph))


def _echo() -> tuple[list[bytes], object]:
    """An app that answers with the body it was sent."""
    bodies: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"echo:" + body})

    return bodies, app


def test_a_post_read_reaches_the_app_whole_and_is_kept_by_body() -> None:
    bodies, app = _echo()
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=1000, post_reads=frozenset({"/q"}))  # type: ignore[arg-type]
    client = TestClient(cache)  # type: ignore[arg-type]
    answers = [client.post("/q", content=body).content for body in (b"a", b"a", b"b", b"a")]
    assert answers == [b"echo:a", b"echo:a", b"echo:b", b"echo:a"]
    assert bodies == [b"a", b"b"]


def test_a_post_read_larger_than_the_limit_is_passed_on_whole_and_not_kept() -> None:
    bodies, app = _echo()
    cache = ResponseCache(  # type: ignore[arg-type]
        app, writes=lambda: 0, max_bytes=10_000, post_reads=frozenset({"/q"}), max_post_bytes=10
    )
    client = TestClient(cache)  # type: ignore[arg-type]
    big = b"x" * 100

    def chunks():  # sent in pieces, so the cache stops reading after the limit
        yield from (big[i : i + 7] for i in range(0, len(big), 7))

    assert client.post("/q", content=chunks()).content == b"echo:" + big
    assert client.post("/q", content=big).content == b"echo:" + big
    assert bodies == [big, big]


def test_a_post_elsewhere_is_neither_kept_nor_a_read() -> None:
    bodies, app = _echo()
    cache = ResponseCache(app, writes=lambda: 0, max_bytes=1000, post_reads=frozenset({"/q"}))  # type: ignore[arg-type]
    client = TestClient(cache)  # type: ignore[arg-type]
    client.post("/other", content=b"a")
    client.post("/other", content=b"a")
    assert bodies == [b"a", b"a"]
