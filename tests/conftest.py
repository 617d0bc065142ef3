"""Shared fixtures: a real ``oxigraph serve`` and the two stores the service can run on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from servers import OxigraphServer

from service.config import Settings
from service.store import OxigraphStore, RemoteSparqlStore, Store
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def curated_koppels() -> set[str]:
    """The koppels the curated files describe, read with rdflib: what a loaded store returns."""
    graph = Graph()
    for path in sorted((ROOT / "data").glob("*.ttl")):
        graph.parse(path, format="turtle")
    return {str(s) for s in graph.subjects(RDF.type, URIRef("https://w3id.org/meent/def#Koppel"))}


@pytest.fixture(autouse=True, scope="session")
def dumps_outside_the_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps and servers that tests start without a dumps folder of their own build their
    dumps in a temporary one, never in the project's ``var/dumps``: a later ``make serve``
    would serve such a build (of another store) until the dump interval had passed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEENT_DUMPS_DIR", str(tmp_path_factory.mktemp("session-dumps")))
        yield


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def project_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on the project's curated data in an in-memory store, dumps in a temporary
    folder; one per test module, for tests that only read."""
    settings = Settings(
        store="memory", project_root=ROOT, dumps_dir=tmp_path_factory.mktemp("dumps")
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of an ``oxigraph serve`` on 127.0.0.1 whose default graph is the union of its
    named graphs, as Meent needs; stopped at the end of the session."""
    location = tmp_path_factory.mktemp("oxigraph-server")
    server = OxigraphServer(location, location.parent / "oxigraph-server.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def own_oxigraph(tmp_path: Path) -> Iterator[OxigraphServer]:
    """An ``oxigraph serve`` of this test's own, which it may stop and start again."""
    server = OxigraphServer(tmp_path / "oxigraph", tmp_path / "oxigraph.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["oxigraph", "remote"])
async def store(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Store]:
    """Each test runs against an in-memory OxigraphStore and a RemoteSparqlStore on a real
    server, emptied before the test."""
    if request.param == "oxigraph":
        opened: Store = OxigraphStore()
    else:
        url = request.getfixturevalue("oxigraph_server")
        async with httpx.AsyncClient() as client:
            response = await client.post(
                url + "update",
                content=b"DROP ALL",
                headers={"Content-Type": "application/sparql-update"},
            )
            response.raise_for_status()
        opened = RemoteSparqlStore(url + "query", url + "update", url + "store")
    try:
        yield opened
    finally:
        await opened.close()
