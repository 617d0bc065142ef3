"""Dereferenceable IRIs, documents and pages (issue 4): redirects, content negotiation by
Accept and by extension, conditional requests, Link headers, unknown IRIs, paging of incoming
links, escaping — against the real curated graph and small generated fixtures."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.store import Store
from service.views.browse import search, under
from service.views.describe import INCOMING_PAGE, describe
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/meent/"
NOORDOOGST = BASE + "id/commons/noordoogst"
KOPPEL = BASE + "id/koppel/2024-noordoogst"
GM0363 = "https://identifier.overheid.nl/tooi/id/gemeente/gm0363"
HUB = BASE + "id/thing/hub"
MANY = 1000


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """The service on an in-memory store synced from the real ontology/, shapes/, data/."""
    with TestClient(create_app(Settings(store="memory", project_root=ROOT))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A project whose data has one thing that 1000 things point at, and a hostile label."""
    root = tmp_path_factory.mktemp("crowded")
    (root / "ontology").mkdir()
    (root / "shapes").mkdir()
    (root / "data").mkdir()
    lines = [
        f'<{HUB}> a <{BASE}def#Thing> ; <http://www.w3.org/2000/01/rdf-schema#label> "hub"@en .'
    ]
    for n in range(MANY):
        lines.append(
            f"<{BASE}id/thing/t{n:04d}> a <{BASE}def#Thing> ; <{BASE}def#pointsAt> <{HUB}> ; "
            f'<http://www.w3.org/2000/01/rdf-schema#label> "thing {n}"@en .'
        )
    lines.append(
        f"<{BASE}id/thing/evil> <http://www.w3.org/2000/01/rdf-schema#label> "
        '"<script>alert(\\"x\\")</script> evil"@en ; '
        '<http://purl.org/dc/terms/description> "</script><img src=x onerror=alert(1)>"@en .'
    )
    (root / "data" / "crowd.ttl").write_text("\n".join(lines) + "\n")
    with TestClient(create_app(Settings(store="memory", project_root=root))) as test_client:
        yield test_client


def _triples(body: bytes, media_type: str) -> set[ox.Triple]:
    fmt = ox.RdfFormat.from_media_type(media_type)
    assert fmt is not None, media_type
    return {quad.triple for quad in ox.parse(body, fmt)}


def _own_triples(path: Path, subject: str) -> set[ox.Triple]:
    """What a curated file says about ``subject``: the facts its document must carry."""
    return {
        quad.triple
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
        if quad.subject == ox.NamedNode(subject)
    }


# --- /id → 303 → /doc --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    ["text/html", "text/turtle", "application/ld+json", "application/n-triples", "*/*", None],
)
@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/id/commons/noordoogst", "/doc/commons/noordoogst"),
        ("/id/koppel/2024-noordoogst", "/doc/koppel/2024-noordoogst"),
        ("/id/commons", "/doc/commons"),
    ],
)
def test_id_answers_303_to_its_document(
    client: TestClient, path: str, location: str, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(path, headers=headers, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == location
    assert "Accept" in response.headers["vary"]


def test_redirect_keeps_the_query(client: TestClient) -> None:
    response = client.get("/id/commons/noordoogst?lang=nl", follow_redirects=False)
    assert response.headers["location"] == "/doc/commons/noordoogst?lang=nl"


# --- /doc by Accept and by extension --------------------------------------------------------------

ACCEPT_TABLE = [
    ("text/html", "text/html; charset=utf-8"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html; charset=utf-8"),
    ("text/turtle", "text/turtle; charset=utf-8"),
    ("application/x-turtle", "text/turtle; charset=utf-8"),
    ("application/n-triples", "application/n-triples"),
    ("text/plain", "application/n-triples"),
    ("application/ld+json", "application/ld+json; charset=utf-8"),
    ("application/rdf+xml", "application/rdf+xml; charset=utf-8"),
    ("application/n-quads", "application/n-quads"),
    ("application/trig", "application/trig"),
    ("text/turtle;q=0.5, application/ld+json", "application/ld+json; charset=utf-8"),
    ("text/html;q=0.1, text/turtle", "text/turtle; charset=utf-8"),
    ("*/*", "text/html; charset=utf-8"),
]


@pytest.mark.parametrize(("accept", "content_type"), ACCEPT_TABLE)
def test_doc_negotiates_by_accept(client: TestClient, accept: str, content_type: str) -> None:
    response = client.get("/doc/commons/noordoogst", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    vary = response.headers["vary"]
    assert "Accept" in vary
    if content_type.startswith("text/html"):
        assert "Accept-Language" in vary


EXTENSION_TABLE = [
    ("ttl", "text/turtle; charset=utf-8"),
    ("nt", "application/n-triples"),
    ("jsonld", "application/ld+json; charset=utf-8"),
    ("rdf", "application/rdf+xml; charset=utf-8"),
    ("nq", "application/n-quads"),
    ("trig", "application/trig"),
    ("html", "text/html; charset=utf-8"),
]


@pytest.mark.parametrize(("extension", "content_type"), EXTENSION_TABLE)
def test_doc_extension_wins_over_accept(
    client: TestClient, extension: str, content_type: str
) -> None:
    # Whatever the Accept header says, a pasted link with an extension gets that format.
    response = client.get(
        f"/doc/commons/noordoogst.{extension}", headers={"Accept": "application/rdf+xml;q=0.1"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize(("extension", "content_type"), EXTENSION_TABLE[:-1])
def test_doc_rdf_parses_and_holds_the_resource_triples(
    client: TestClient, extension: str, content_type: str
) -> None:
    response = client.get(f"/doc/commons/noordoogst.{extension}")
    triples = _triples(response.content, content_type.split(";")[0])
    expected = _own_triples(ROOT / "data" / "organisations.ttl", NOORDOOGST)
    assert len(expected) > 10
    assert expected <= triples
    # incoming links and the labels of what it links to come along
    assert (
        ox.Triple(
            ox.NamedNode(KOPPEL), ox.NamedNode(BASE + "def#initiative"), ox.NamedNode(NOORDOOGST)
        )
        in triples
    )
    theme_label = ox.Triple(
        ox.NamedNode(BASE + "id/theme/urban-agriculture"),
        ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
        ox.Literal("urban agriculture", language="en"),
    )
    assert theme_label in triples


def test_doc_nquads_keep_the_named_graph(client: TestClient) -> None:
    body = client.get("/doc/commons/noordoogst.nq").content
    graphs = {quad.graph_name for quad in ox.parse(body, ox.RdfFormat.N_QUADS)}
    assert ox.NamedNode(BASE + "graph/data/organisations") in graphs
    assert ox.NamedNode(BASE + "graph/meta") not in graphs


def test_format_parameter_selects_a_format(client: TestClient) -> None:
    response = client.get("/doc/commons/noordoogst?format=ttl", headers={"Accept": "text/html"})
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/doc/commons/noordoogst", {"Accept": "application/pdf"}),
        ("/def", {"Accept": "image/png"}),
    ],
)
def test_unsupported_format_is_406_problem(client: TestClient, path: str, headers: dict) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert "text/turtle" in response.json()["supported"]


def test_canonical_iris_resolve_on_any_host(client: TestClient) -> None:
    # The test client's host is http://testserver; the IRIs stay canonical.
    body = client.get("/doc/commons/noordoogst.nt").text
    assert f"<{NOORDOOGST}> " in body
    assert "testserver" not in body


# --- conditional requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/doc/commons/noordoogst",
        "/doc/commons/noordoogst.ttl",
        "/def",
        "/def.ttl",
        "/shapes",
        "/",
        f"/resource?iri={quote(GM0363)}",
        "/def/context.jsonld",
    ],
)
def test_if_none_match_gives_304(client: TestClient, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["last-modified"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_if_modified_since(client: TestClient) -> None:
    first = client.get("/doc/commons/noordoogst.ttl")
    last_modified = parsedate_to_datetime(first.headers["last-modified"])
    same = client.get(
        "/doc/commons/noordoogst.ttl", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert same.status_code == 304
    earlier = format_datetime(last_modified.replace(year=last_modified.year - 1), usegmt=True)
    older = client.get("/doc/commons/noordoogst.ttl", headers={"If-Modified-Since": earlier})
    assert older.status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3)
    both = client.get(
        "/doc/commons/noordoogst.ttl",
        headers={"If-None-Match": '"stale"', "If-Modified-Since": first.headers["last-modified"]},
    )
    assert both.status_code == 200


def test_each_representation_has_its_own_etag(client: TestClient) -> None:
    tags = {
        client.get(f"/doc/commons/noordoogst.{ext}").headers["etag"] for ext, _ in EXTENSION_TABLE
    }
    tags.add(
        client.get("/doc/commons/noordoogst.html", headers={"Accept-Language": "nl"}).headers[
            "etag"
        ]
    )
    assert len(tags) == len(EXTENSION_TABLE) + 1


# --- Link headers --------------------------------------------------------------------------------


def test_link_header_names_canonical_and_alternates(client: TestClient) -> None:
    link = client.get("/doc/commons/noordoogst", headers={"Accept": "text/turtle"}).headers["link"]
    assert f'<{NOORDOOGST}>; rel="canonical"' in link
    for extension, content_type in EXTENSION_TABLE:
        if extension == "ttl":
            continue
        media_type = content_type.split(";")[0]
        assert (
            f'</doc/commons/noordoogst.{extension}>; rel="alternate"; type="{media_type}"' in link
        )


def test_def_link_header(client: TestClient) -> None:
    link = client.get("/def", headers={"Accept": "text/html"}).headers["link"]
    assert f'<{BASE}def>; rel="canonical"' in link
    assert '</def.ttl>; rel="alternate"; type="text/turtle"' in link


# --- unknown IRIs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/id/commons/does-not-exist",
        "/doc/commons/does-not-exist",
        "/doc/commons/does-not-exist.ttl",
        "/doc/nothing-here",
        "/id/commons/no%20such",
        "/index?class=" + quote(BASE + "def#NoSuchClass"),
        "/resource?iri=" + quote("https://example.org/unknown"),
    ],
)
def test_unknown_is_404_problem_for_programs(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/turtle, */*;q=0.1"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "path", ["/id/commons/noord-oogst", "/doc/commons/noordoogst-farm", "/doc/nothing-here"]
)
def test_unknown_is_a_helpful_page_for_browsers(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'action="/search"' in response.text
    if "noord" in path:  # the nearest labels are suggested
        assert 'href="/doc/commons/noordoogst"' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/resource?iri=not%20an%20iri",
        "/resource?iri=",
        "/resource",
        "/doc/commons/noordoogst?page=0",
        "/doc/commons/noordoogst?page=abc",
        "/doc/commons/..",
        "/doc/commons/%22%3E%3Cscript%3E",
        "/id/%3Cx%3E/y",
        "/search?q=" + quote('") } ; DROP ALL ; SELECT * { ?s ?p "'),
        "/search?q=" + "x" * 300,
        "/index?class=" + quote("<bad iri>"),
        "/def/not-a-version",
    ],
)
def test_odd_requests_never_fail_with_500(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert 300 <= response.status_code < 500 or response.status_code == 200


# --- /resource for any IRI -----------------------------------------------------------------------


def test_resource_shows_an_external_iri(client: TestClient) -> None:
    response = client.get(f"/resource?iri={quote(GM0363)}", headers={"Accept-Language": "nl"})
    assert response.status_code == 200
    assert "<h1>Gemeente Amsterdam</h1>" in response.text
    assert "niet van Meent zelf" in response.text
    turtle = client.get(f"/resource?iri={quote(GM0363)}&format=ttl")
    assert turtle.headers["content-type"] == "text/turtle; charset=utf-8"
    triples = _triples(turtle.content, "text/turtle")
    assert _own_triples(ROOT / "data" / "organisations.ttl", GM0363) <= triples


@pytest.mark.parametrize(
    ("iri", "location"),
    [
        (NOORDOOGST, "/doc/commons/noordoogst"),
        (BASE + "def#Koppel", "/def#Koppel"),
        (BASE + "shapes#KoppelShape", "/shapes#KoppelShape"),
    ],
)
def test_resource_redirects_canonical_iris(client: TestClient, iri: str, location: str) -> None:
    response = client.get(f"/resource?iri={quote(iri)}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == location


# --- pages for people ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "query", "lang", "heading"),
    [
        ({"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}, "", "nl", "Koppel NoordOogst (2024)"),
        ({"Accept-Language": "en-GB"}, "", "en", "NoordOogst koppel (2024)"),
        ({"Accept-Language": "de"}, "", "en", "NoordOogst koppel (2024)"),
        ({"Accept-Language": "en"}, "?lang=nl", "nl", "Koppel NoordOogst (2024)"),
    ],
)
def test_page_in_the_readers_language(
    client: TestClient, headers: dict, query: str, lang: str, heading: str
) -> None:
    response = client.get("/doc/koppel/2024-noordoogst" + query, headers=headers)
    assert f'<html lang="{lang}">' in response.text
    assert f"<h1>{heading}</h1>" in response.text
    client.cookies.clear()


def test_language_choice_is_remembered(client: TestClient) -> None:
    client.get("/?lang=nl")
    response = client.get("/doc/commons/noordoogst", headers={"Accept-Language": "en"})
    client.cookies.clear()
    assert '<html lang="nl">' in response.text
    assert "Waar dit vandaan komt" in response.text


def test_resource_page_shows_labels_sources_and_formats(client: TestClient) -> None:
    html = client.get("/doc/commons/noordoogst", headers={"Accept-Language": "en"}).text
    # properties labelled by the ontology, values by their labels, not raw IRIs
    assert ">theme</a></dt>" in html
    assert ">urban agriculture</a>" in html
    assert "<dt>as <a" in html and ">NoordOogst koppel (2024)</a>" in html  # mentioned by
    # where the facts come from: sources with their web pages
    assert 'href="https://meent.coop/publiek-collectief-samenwerken-hoedan/"' in html
    assert "/resource?iri=https%3A%2F%2Fw3id.org%2Fmeent%2Fgraph%2Fdata%2Forganisations" in html
    for extension, _ in EXTENSION_TABLE[:-1]:
        assert f'href="/doc/commons/noordoogst.{extension}"' in html
    assert (
        "/sparql?query=DESCRIBE%20%3Chttps%3A%2F%2Fw3id.org%2Fmeent%2Fid%2Fcommons%2Fnoordoogst%3E"
        in html
    )
    # schema.org JSON-LD for search engines
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match is not None
    assert '"@type": "Organization"' in match.group(1)
    headings = [int(level) for level in re.findall(r"<h([1-6])", html)]
    assert headings[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(headings))
    assert "<script src" not in html and "https://fonts" not in html


def test_ontology_documents_every_term_with_anchors(client: TestClient) -> None:
    html = client.get("/def", headers={"Accept-Language": "en"}).text
    for anchor in ("Koppel", "Commons", "inCohort", "theme", "scheme-themes"):
        assert f'id="{anchor}"' in html
    koppel = html[html.index('id="Koppel"') :]
    koppel = koppel[: koppel.index("</section>")]
    assert "prov:Agent" in koppel or "Agent" in koppel  # alignment
    assert 'href="/shapes#KoppelShape"' in koppel  # the shape that applies
    assert 'href="/def#inCohort"' in koppel  # a property used with it


@pytest.mark.parametrize("path", ["/def", "/def.ttl"])
def test_ontology_as_rdf(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    triples = _triples(response.content, "text/turtle")
    koppel_is_class = ox.Triple(
        ox.NamedNode(BASE + "def#Koppel"),
        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode("http://www.w3.org/2002/07/owl#Class"),
    )
    assert koppel_is_class in triples


def test_jsonld_context(client: TestClient) -> None:
    context = client.get("/def/context.jsonld").json()["@context"]
    assert context["meent"] == BASE + "def#"
    assert context["org"] == "http://www.w3.org/ns/org#"
    assert context["Koppel"] == BASE + "def#Koppel"
    assert context["inCohort"] == {"@id": BASE + "def#inCohort", "@type": "@id"}


def test_shapes_page(client: TestClient) -> None:
    html = client.get("/shapes", headers={"Accept-Language": "nl"}).text
    assert 'id="KoppelShape"' in html and 'id="KoppelShape-inCohort"' in html
    assert "Noem het ene cohort" in html  # the Dutch message


def test_landing_counts_and_links(client: TestClient) -> None:
    html = client.get("/", headers={"Accept-Language": "en"}).text
    commons = re.search(
        r'title="https://w3id.org/meent/def#Commons">([^<]+)</a></td><td class="n">(\d+)', html
    )
    assert commons is not None and int(commons.group(2)) >= 5
    assert 'href="/def"' in html and 'href="/sparql"' in html


def test_index_pages(client: TestClient) -> None:
    by_type = client.get("/doc/commons")
    assert 'href="/doc/commons/noordoogst">NoordOogst</a>' in by_type.text
    by_class = client.get("/index?class=" + quote(BASE + "def#Koppel"))
    assert 'href="/doc/koppel/2024-noordoogst"' in by_class.text


def test_search(client: TestClient) -> None:
    html = client.get("/search?q=noordoo").text
    assert 'href="/doc/commons/noordoogst"' in html
    assert "Nothing found" in client.get("/search?q=zzzqqq").text


# --- many links, hostile labels -----------------------------------------------------------------


def test_incoming_links_are_paged(crowded: TestClient) -> None:
    seen: set[ox.NamedNode] = set()
    pages = MANY // INCOMING_PAGE
    for page in range(1, pages + 1):
        response = crowded.get(f"/doc/thing/hub.nt?page={page}")
        assert response.status_code == 200
        triples = _triples(response.content, "application/n-triples")
        pointing = {t.subject for t in triples if t.predicate.value == BASE + "def#pointsAt"}
        assert len(pointing) == INCOMING_PAGE
        assert not pointing & seen
        seen |= pointing
        link = response.headers["link"]
        assert ('rel="next"' in link) == (page < pages)
        assert ('rel="prev"' in link) == (page > 1)
    assert len(seen) == MANY


def test_incoming_page_in_html_has_a_pager(crowded: TestClient) -> None:
    html = crowded.get("/doc/thing/hub").text
    assert html.count('href="/doc/thing/t') == INCOMING_PAGE
    assert 'rel="next" href="/doc/thing/hub?page=2"' in html


def test_index_of_many_is_paged(crowded: TestClient) -> None:
    first = crowded.get("/doc/thing").text
    assert 'rel="next"' in first
    assert crowded.get("/doc/thing?page=2").status_code == 200


def test_labels_are_escaped(crowded: TestClient) -> None:
    for path in ("/doc/thing/evil", "/search?q=evil", "/doc/thing"):
        html = crowded.get(path).text
        assert "<script>alert" not in html
        assert "<img src=x" not in html
    page = crowded.get("/doc/thing/evil").text
    assert "&lt;script&gt;alert" in page
    # the schema.org JSON-LD block cannot be closed early by data
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert block is not None and "onerror" in block.group(1)


# --- the same queries on both stores ----------------------------------------------------------


@pytest.mark.anyio
async def test_describe_search_and_lists_on_both_stores(store: Store) -> None:
    """The description, search and list queries are plain SPARQL 1.1: they must give the same
    answers on the embedded store and on a SPARQL server."""
    graph = BASE + "graph/data/small"
    data = (
        f'<{HUB}> a <{BASE}def#Thing> ; <http://www.w3.org/2000/01/rdf-schema#label> "hub"@en .\n'
        f"<{BASE}id/thing/a> a <{BASE}def#Thing> ; <{BASE}def#pointsAt> <{HUB}> ;"
        ' <http://www.w3.org/2000/01/rdf-schema#label> "Alpha"@en, "Alfa"@nl .\n'
    )
    await store.replace_graph(graph, data)
    description = await describe(store, ox.NamedNode(HUB))
    assert description.exists
    assert [f.subject.value for f in description.incoming] == [BASE + "id/thing/a"]
    assert {f.graph.value for f in description.own if f.graph} == {graph}
    assert description.labels()[BASE + "id/thing/a"]
    found = await search(store, "ALP")
    assert [n.value for n in found] == [BASE + "id/thing/a"]
    listed = await under(store, BASE + "id/thing/")
    assert [n.value for n in listed.items] == [BASE + "id/thing/a", HUB]
    assert not (await describe(store, ox.NamedNode(BASE + "id/x/none"))).exists
