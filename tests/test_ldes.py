"""``/ldes``: the change feed replays into the published graph, pages by time, caches right."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
import pytest
from background import settled_dumps
from fastapi.testclient import TestClient

from service.config import Settings
from service.harvest.dumps import canonical_hash
from service.web.app import create_app

TREE = "https://w3id.org/tree#"
AS = "https://www.w3.org/ns/activitystreams#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
MEMBER = "https://w3id.org/meent/ldes/member/"
NEW_GRAPH = "https://w3id.org/meent/graph/data/feed-test"
PAGE = 4


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(store="memory", ldes_page_size=PAGE, dump_interval=0))
    ) as client:
        yield client


@dataclass
class Replica:
    """A harvester: replays members into its own store and remembers where it stopped."""

    store: ox.Store = field(default_factory=ox.Store)
    last_seq: int = 0
    last_page: str | None = None
    fetched: list[str] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)

    def follow(self, client: TestClient, start: str) -> None:
        url: str | None = start
        while url is not None:
            response = client.get(url)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("application/trig")
            self.fetched.append(url)
            quads = list(ox.parse(response.content, ox.RdfFormat.TRIG))
            self.apply(quads)
            self.last_page = url
            url = next_page(quads)

    def apply(self, quads: list[ox.Quad]) -> None:
        members = sorted(
            {q.object.value for q in quads if q.predicate.value == TREE + "member"},
            key=lambda iri: int(iri.removeprefix(MEMBER)),
        )
        for iri in members:
            seq = int(iri.removeprefix(MEMBER))
            if seq <= self.last_seq:
                continue
            about = [q for q in quads if q.subject.value == iri]
            kind = next(q.object.value for q in about if q.predicate.value == RDF_TYPE)
            graph = next(q.object for q in about if q.predicate.value == AS + "object")
            if self.store.contains_named_graph(graph):
                self.store.remove_graph(graph)
            if kind == AS + "Update":
                content = [q for q in quads if q.graph_name == ox.NamedNode(iri)]
                self.store.extend(ox.Quad(q.subject, q.predicate, q.object, graph) for q in content)
            self.last_seq = seq
            self.applied.append(seq)

    def canonical_hash(self) -> str:
        return canonical_hash(self.store.quads_for_pattern(None, None, None, None))


def next_page(quads: list[ox.Quad]) -> str | None:
    nodes = [q.object.value for q in quads if q.predicate.value == TREE + "node"]
    return nodes[0] if nodes else None


def service_hash(client: TestClient) -> str:
    return settled_dumps(client)["canonicalHash"]["value"]


def change(client: TestClient, work) -> None:
    """Change the published graph through the store, as a sync or a contribution does."""
    assert client.portal is not None
    client.portal.call(work, client.app.state.services.store)


def test_the_stream_points_at_its_first_page(client: TestClient) -> None:
    response = client.get("/ldes", headers={"Accept": "application/n-quads"})
    assert response.status_code == 200
    quads = list(ox.parse(response.content, ox.RdfFormat.N_QUADS))
    types = {q.object.value for q in quads if q.predicate.value == RDF_TYPE}
    assert "https://w3id.org/ldes#EventStream" in types
    views = [q.object.value for q in quads if q.predicate.value == TREE + "view"]
    assert views == ["http://testserver/ldes/1"]


def test_replaying_the_feed_rebuilds_the_published_graph(client: TestClient) -> None:
    replica = Replica()
    replica.follow(client, "/ldes/1")
    assert len(replica.fetched) >= 2  # the sync wrote more graphs than a page holds
    assert replica.canonical_hash() == service_hash(client)


def test_a_harvester_fetches_only_what_is_new(client: TestClient) -> None:
    replica = Replica()
    replica.follow(client, "/ldes/1")
    pages_before, seen = list(replica.fetched), replica.last_seq

    async def add_and_drop(store) -> None:
        for n in range(PAGE + 1):  # enough to close the open page and start another
            label = "<http://www.w3.org/2000/01/rdf-schema#label>"
            body = f'<https://w3id.org/meent/id/x/{n}> {label} "{n}" .'
            await store.replace_graph(NEW_GRAPH, body, format=ox.RdfFormat.N_TRIPLES)
        await store.drop_graph("https://w3id.org/meent/graph/data/districts")

    change(client, add_and_drop)
    replica.fetched.clear()
    assert replica.last_page is not None
    replica.follow(client, replica.last_page)
    assert replica.applied[-(PAGE + 2) :] == list(range(seen + 1, seen + PAGE + 3))
    assert replica.fetched[0] == pages_before[-1]  # the open page again, then only new ones
    assert not set(replica.fetched) & set(pages_before[:-1])
    assert replica.canonical_hash() == service_hash(client)

    async def restore(store) -> None:
        await store.drop_graph(NEW_GRAPH)

    change(client, restore)


def test_closed_pages_are_immutable_and_the_newest_is_short_cached(client: TestClient) -> None:
    closed = client.get("/ldes/1")
    assert "immutable" in closed.headers["cache-control"]
    etag = closed.headers["etag"]
    again = client.get("/ldes/1", headers={"If-None-Match": etag})
    assert again.status_code == 304
    last = Replica()
    last.follow(client, "/ldes/1")
    newest = client.get(last.fetched[-1])
    assert newest.headers["cache-control"] == "public, max-age=5"
    assert "tree#relation" not in newest.text


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/trig"),
        ("*/*", "application/trig"),
        ("application/n-quads", "application/n-quads"),
        ("application/ld+json", "application/ld+json"),
    ],
)
def test_feed_formats(client: TestClient, accept: str | None, media_type: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/ldes/1", headers=headers)
    assert response.headers["content-type"].startswith(media_type)
    assert "Accept" in response.headers["vary"]


def test_feed_refuses_what_cannot_hold_graphs_and_unknown_pages(client: TestClient) -> None:
    assert client.get("/ldes/1", headers={"Accept": "text/turtle"}).status_code == 406
    assert client.get("/ldes/0").status_code == 404
    assert client.get("/ldes/abc").status_code == 404
    assert client.get("/ldes/100000").status_code == 404


def test_the_change_log_survives_a_restart(tmp_path) -> None:
    settings = Settings(store=str(tmp_path / "store"), ldes_page_size=PAGE, dump_interval=0)
    with TestClient(create_app(settings)) as first:
        before = first.get("/ldes/1").content
    with TestClient(create_app(settings)) as second:  # nothing changed: nothing new logged
        assert second.get("/ldes/1").content == before
        replica = Replica()
        replica.follow(second, "/ldes/1")
        assert replica.canonical_hash() == service_hash(second)
