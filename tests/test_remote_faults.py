"""The remote store down, slow or failing, with a real ``oxigraph serve`` that is stopped and
started again, a server that accepts connections and never answers, and one that answers 500:
reads and writes get 503 (down, failing) or 504 (slower than ``remote_timeout``) as
problem+json with ``Retry-After``, the client is not told where the server is, and the
service recovers by itself once the server is back."""

from __future__ import annotations

import http.server
import itertools
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from servers import MEENT, OxigraphServer, free_port

from service.config import Settings
from service.contrib.tokens import Role, TokenStore
from service.store.state import connect
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
PAGE = "/doc/commons/noordoogst"


def koppel(slug: str) -> bytes:
    return KOPPEL.replace(b"2024-test-contribution", slug.encode())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project, so that the remote store's private state (kept in the
    project's var/) stays out of the checkout."""
    root = tmp_path_factory.mktemp("project")
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def serve(url: str, project: Path, **settings: Any) -> TestClient:
    options: dict[str, Any] = {"remote_timeout": 2.0, "remote_connect_timeout": 1.0}
    options.update(settings)
    return TestClient(
        create_app(Settings(remote=url, project_root=project, **options)),
        raise_server_exceptions=False,
    )


def token(url: str, project: Path) -> dict[str, str]:
    state = Settings(remote=url, project_root=project).state_path
    assert state is not None
    _, secret = TokenStore(connect(state)).create("Koppel", Role.contributor)
    return {"Content-Type": "text/turtle", "Authorization": f"Bearer {secret}"}


_ASKED = itertools.count()


def _count(client: TestClient) -> Any:
    """The count, asked of the store each time: a comment of its own keeps the response
    cache (which keeps a remote store's answers for 2 s) out of it."""
    query = f"{COUNT}\n# {next(_ASKED)}"
    return client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})


def assert_problem(response: Any, status: int, url: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    port = url.rstrip("/").rsplit(":", 1)[-1]
    assert port not in response.text, "the client is told where the store is"


def test_server_down_gives_503_and_the_service_recovers_without_restart(
    own_oxigraph: OxigraphServer, project: Path
) -> None:
    auth = token(own_oxigraph.url, project)
    with serve(own_oxigraph.url, project) as client:
        first = client.post("/contributions", content=koppel("remote-1"), headers=auth)
        assert first.status_code == 201, first.text
        location = first.headers["location"]
        before = _count(client).text

        own_oxigraph.stop()
        for answer in (
            _count(client),
            client.get(PAGE, headers={"Accept": "text/html"}),
            client.get(PAGE + ".ttl"),
            client.get("/contributions"),
            client.get(location),
            client.post("/contributions", content=koppel("remote-2"), headers=auth),
            client.put(location, content=koppel("remote-1"), headers=auth),
            client.delete(location, headers=auth),
        ):
            assert_problem(answer, 503, own_oxigraph.url)

        restarted = time.monotonic()
        own_oxigraph.start()
        back = time.monotonic()
        # The very first request after the server is back is answered: no stale connection.
        assert _count(client).text == before
        recovered = time.monotonic()
        assert client.get(PAGE, headers={"Accept": "text/html"}).status_code == 200
        assert client.get(location).status_code == 200
        second = client.post("/contributions", content=koppel("remote-2"), headers=auth)
        assert second.status_code == 201, second.text
        print(
            f"remote restart took {back - restarted:.2f} s; "
            f"first answer {1000 * (recovered - back):.0f} ms after it was up"
        )


class SilentServer:
    """Accepts TCP connections and never answers (a hung server, or one far too slow)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.sock.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def test_server_that_never_answers_gives_504_in_time(silent: SilentServer, project: Path) -> None:
    auth = token(silent.url, project)
    with serve(silent.url, project, sync_on_start=False, remote_timeout=1.0) as client:
        for request in (
            lambda: client.get(PAGE, headers={"Accept": "text/html"}),
            lambda: client.get("/contributions"),
            lambda: client.post("/contributions", content=koppel("slow"), headers=auth),
        ):
            started = time.monotonic()
            answer = request()
            assert time.monotonic() - started < 5
            assert_problem(answer, 504, silent.url)
            assert "did not answer in time" in answer.json()["detail"]
        # A public query has its own deadline (MEENT_QUERY_TIMEOUT), whoever is slow.
        with serve(silent.url, project, sync_on_start=False, query_timeout=1.0) as public:
            started = time.monotonic()
            answer = _count(public)
            assert time.monotonic() - started < 5
            assert answer.status_code == 503
            assert "longer than the 1 s" in answer.json()["detail"]


class Failing(http.server.BaseHTTPRequestHandler):
    def _fail(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = b"IO error: No space left on device"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _fail

    def log_message(self, *args: Any) -> None:
        pass


def test_server_answering_500_gives_503(project: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with serve(url, project, sync_on_start=False) as client:
            assert_problem(client.get(PAGE), 503, url)
            assert_problem(client.get("/contributions"), 503, url)
            assert_problem(_count(client), 503, url)
    finally:
        server.shutdown()
        server.server_close()


def test_serve_exits_3_when_the_remote_cannot_be_reached(project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    done = subprocess.run(
        [MEENT, "serve", "--remote", url, "--port", str(free_port())],
        env={"MEENT_PROJECT_ROOT": str(project), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    assert "The store behind this service is not reachable right now" in done.stderr
    assert url.rstrip("/") in done.stderr  # the operator is told where
    assert "Traceback" not in done.stderr
