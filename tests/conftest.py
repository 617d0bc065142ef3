"""Shared fixtures: a real ``oxigraph serve`` and the two stores the service can run on."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from servers import free_port

from service.store import OxigraphStore, RemoteSparqlStore, Store


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _oxigraph_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "oxigraph"
    return str(beside_python) if beside_python.exists() else shutil.which("oxigraph")


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of an ``oxigraph serve`` on 127.0.0.1 whose default graph is the union of its
    named graphs, as Meent needs; stopped at the end of the session."""
    binary = _oxigraph_binary()
    if binary is None:
        pytest.fail("the oxigraph CLI (PyPI package 'oxigraph', a test extra) is not installed")
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph-server")
    log = (location.parent / "oxigraph-server.log").open("wb")
    process = subprocess.Popen(
        [
            *(binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"),
            "--union-default-graph",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"oxigraph serve exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"oxigraph serve did not answer on {url}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


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
