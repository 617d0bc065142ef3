"""The quality checks in queries/checks/ on a live store, not only on the curated files.

tests/test_queries.py runs the checks on ontology/ and data/ alone. A store the service runs
on holds more: the shapes graph, the example questions as ``sh:SPARQLExecutable`` resources in
``graph/queries``, and every accepted contribution with the record the service writes beside
it (``id/contribution/{id}``, its ``#parts`` and the contributor's ``id/contributor/{slug}``).
A check that flags those reports noise on every real store and hides the real problems in it.

So the store here is built as in production: ``meent load`` of the whole project into an
on-disk store, ``meent token create``, the service started on it, and through its HTTP API one
contribution accepted (with a warning, so its record holds a validation result). A second one
is accepted, replaced and retracted, so that the records also hold what a history adds (the
earlier version's checksum, the retraction, warnings about data that is gone). Every check
then runs on the service's public SPARQL endpoint and must return no rows.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import MEENT, create_token, uvicorn_thread

from service.config import Settings
from service.rdf.queries import ExampleQuery, read_queries
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
CHECKS = read_queries(ROOT / "queries" / "checks")
BASE = "https://w3id.org/meent/"
RESULTS_JSON = "application/sparql-results+json"
DESCRIPTION = (
    b'    dct:description "Een koppel uit een bijdrage."@nl, "A koppel from a contribution."@en ;\n'
)


def _koppel(slug: str) -> bytes:
    """The valid koppel of the contribution tests under another slug, without its description
    (recommended, not required): accepted with a warning."""
    fixture = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
    assert DESCRIPTION in fixture
    return fixture.replace(b"2024-test-contribution", slug.encode()).replace(DESCRIPTION, b"")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """The running service on its loaded on-disk store; (base URL, the id of the published
    contribution, the id of the replaced and retracted one)."""
    folder = tmp_path_factory.mktemp("checks-live")
    store = folder / "store"
    loaded = subprocess.run(
        [MEENT, "load", "--store", str(store)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr
    secret = create_token(store, "checks-live")
    auth = {"Content-Type": "text/turtle", "Authorization": f"Bearer {secret}"}
    settings = Settings(store=str(store), project_root=ROOT, dumps_dir=folder / "dumps")
    with uvicorn_thread(create_app(settings)) as url:
        published = httpx.post(
            url + "/contributions", content=_koppel("2024-live-checks"), headers=auth, timeout=60
        )
        assert published.status_code == 201, published.text
        assert published.json()["warnings"] >= 1, published.text

        history = httpx.post(
            url + "/contributions", content=_koppel("2024-live-history"), headers=auth, timeout=60
        )
        assert history.status_code == 201, history.text
        location = url + history.headers["location"]
        changed = _koppel("2024-live-history").replace(b"Testkoppel", b"Ander testkoppel")
        replaced = httpx.put(location, content=changed, headers=auth, timeout=60)
        assert replaced.is_success, replaced.text
        retracted = httpx.delete(location, headers=auth, timeout=60)
        assert retracted.is_success, retracted.text
        yield url, published.json()["id"], history.json()["id"]


def _term(term: dict[str, str]) -> str:
    """A term of the SPARQL JSON results written as in Turtle, for a readable failure."""
    if term["type"] == "uri":
        return f"<{term['value']}>"
    if term["type"] == "bnode":
        return f"_:{term['value']}"
    text = '"' + term["value"].replace("\\", "\\\\").replace('"', '\\"') + '"'
    if "xml:lang" in term:
        return f"{text}@{term['xml:lang']}"
    return f"{text}^^<{term['datatype']}>" if "datatype" in term else text


def _answer(url: str, query: str) -> dict:
    """The SPARQL JSON answer of ``query`` on the live service's public endpoint."""
    response = httpx.post(
        url + "/sparql",
        content=query.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": RESULTS_JSON},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _rows(url: str, query: str) -> list[dict[str, str]]:
    """The solutions of ``query`` on the live service's public endpoint."""
    return [
        {name: _term(term) for name, term in binding.items()}
        for binding in _answer(url, query)["results"]["bindings"]
    ]


def _ask(url: str, query: str) -> bool:
    return bool(_answer(url, query)["boolean"])


def test_the_store_holds_what_a_live_store_holds(live: tuple[str, str, str]) -> None:
    """What the checks must tolerate is really there, or their silence would prove nothing."""
    url, published, history = live
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    graphs = {row["g"] for row in _rows(url, query)}
    for name in ("ontology", "shapes", "queries", "data/sources"):
        assert f"<{BASE}graph/{name}>" in graphs, sorted(graphs)
    prefixes = """
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX sh: <http://www.w3.org/ns/shacl#>
    """
    # The example questions, published by the loader.
    assert _ask(
        url,
        prefixes + f"ASK {{ GRAPH <{BASE}graph/queries> "
        f"{{ <{BASE}id/query/koppels-per-theme> a sh:SPARQLExecutable }} }}",
    )
    # The published contribution: its data, its record and the warning it passed with.
    record = f"<{BASE}id/contribution/{published}>"
    assert _ask(
        url,
        prefixes + f"ASK {{ GRAPH <{BASE}graph/contribution/{published}> {{ "
        f"<{BASE}id/koppel/2024-live-checks> a ?type . "
        f"{record} prov:wasAttributedTo ?who ; "
        "prov:wasGeneratedBy/prov:generated/sh:result/sh:focusNode ?focus . } }",
    )
    # The other one: an earlier version and a retraction recorded, its data gone.
    record = f"<{BASE}id/contribution/{history}>"
    assert _ask(
        url,
        prefixes + f"ASK {{ GRAPH <{BASE}graph/contribution/{history}> {{ "
        f"{record} prov:wasRevisionOf ?earlier ; prov:wasInvalidatedBy ?retraction . }} }}",
    )
    assert not _ask(url, f"ASK {{ <{BASE}id/koppel/2024-live-history> a ?type }}")


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.slug)
def test_check_finds_nothing_on_a_live_store(
    live: tuple[str, str, str], check: ExampleQuery
) -> None:
    url, _, _ = live
    rows = _rows(url, check.query_text)
    listed = "\n".join(" ".join(f"?{name}={value}" for name, value in row.items()) for row in rows)
    assert not rows, f"{check.slug} reports {len(rows)} row(s) on a live store:\n{listed}"
