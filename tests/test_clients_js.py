"""The JavaScript clients people use, run for real against Meent on uvicorn (issue 19).

- Comunica (``@comunica/query-sparql``) queries ``/sparql`` declared as a SPARQL endpoint, and
  again given only the URL, which it must recognise as an endpoint from the service
  description; the answers are checked against rdflib over the curated data files.
- The LDES client (``ldes-client``) replays ``/ldes`` page by page, and the dataset it rebuilds
  has the canonical hash the dumps' manifest publishes.

The clients and their scripts live in ``tests/js/``; ``make test`` installs them with ``npm ci``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Dataset, URIRef
from servers import uvicorn_thread

from service.config import Settings
from service.rdf.canonical import canonical_hash
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "tests" / "js"
SELECT = (
    "PREFIX meent: <https://w3id.org/meent/def#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "SELECT ?koppel ?label WHERE { ?koppel a meent:Koppel ; rdfs:label ?label }"
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Meent on the curated data, with small feed pages so the client follows several."""
    settings = Settings(
        store="memory",
        project_root=ROOT,
        dumps_dir=tmp_path_factory.mktemp("dumps"),
        ldes_page_size=4,
    )
    with uvicorn_thread(create_app(settings)) as url:
        yield url


def node(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert (JS / "node_modules").is_dir(), "run `make test`: it installs tests/js with npm ci"
    return subprocess.run(
        ["node", str(JS / script), *args],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def expected() -> set[tuple[str, str]]:
    dataset = Dataset(default_union=True)
    for path in sorted((ROOT / "data").glob("*.ttl")):
        dataset.graph(URIRef(path.as_uri())).parse(path, format="turtle")
    rows = {(str(row[0]), str(row[1])) for row in dataset.query(SELECT)}  # type: ignore[index]
    assert len(rows) >= 8
    return rows


@pytest.mark.parametrize("kind", ["sparql", "auto"])
def test_comunica_queries_the_endpoint(base: str, expected: set, kind: str) -> None:
    done = node("comunica-select.mjs", kind, base + "/sparql", SELECT)
    assert done.returncode == 0, done.stderr
    rows = {(row["koppel"], row["label"]) for row in map(json.loads, done.stdout.splitlines())}
    assert rows == expected


def test_the_ldes_client_rebuilds_the_published_dataset(base: str) -> None:
    done = node("ldes-replay.mjs", base + "/ldes")
    assert done.returncode == 0, done.stderr
    quads = list(ox.parse(done.stdout.encode(), ox.RdfFormat.N_QUADS))
    assert quads, done.stderr
    manifest = httpx.get(base + "/dumps/", timeout=120).json()
    assert canonical_hash(quads) == manifest["canonicalHash"]["value"], done.stderr
