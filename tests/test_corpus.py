"""Known-nasty inputs (issue 8): every file in ``tests/corpus/`` sent to every endpoint it
applies to, each answer checked against the invariant of ``fuzzkit`` and, where the file's
case calls for it, for its particular answer. ``tests/corpus/README.md`` lists the files.

- ``*.ttl``, ``*.nt``, ``*.jsonld``, ``*.rdf``: the contribution intake (``?dry-run=true``,
  ``/validate``, an authenticated ``POST``, the ``/contribute`` upload) and, for Turtle, the
  command line (``meent validate``, ``meent format --check``); what is accepted is then read
  back through the pages that show the published graph.
- ``*.rq``: ``/sparql`` by GET, POST form and POST body, on an on-disk store with a 1 s
  timeout (runaway queries run in worker processes that are killed then).
- ``*.http``: one request (``METHOD target``, then header lines).

``__LISTENER__`` in a file is replaced by the address of an HTTP server the test starts on
127.0.0.1: remote JSON-LD contexts, XML external entities, ``SERVICE`` and ``LOAD`` point at
it, and it must receive no request at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from fuzzkit import bearer, make_client, send, started
from typer.testing import CliRunner

from service.cli import app as cli

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "README.md")
#: The body and query limit the corpus is sized for: ``literal-at-the-limit.ttl`` and
#: ``query-at-the-limit.rq`` are exactly this long, their ``past-the-limit`` twins one more.
LIMIT = 524_288
TIMEOUT = 0.5
#: Longest URL sent by GET: servers refuse longer request lines (uvicorn's h11 at 64 KiB).
MAX_URL = 8_000
MEDIA_TYPES = {
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".jsonld": "application/ld+json",
    ".rdf": "application/rdf+xml",
}
#: The answer of the intake (dry run, /validate, authenticated POST) where it is not just
#: "keeps the invariant". 400 means: refused with a message, before any validation.
INTAKE = {
    "jsonld-nested-objects-10000.jsonld": 400,
    "jsonld-nested-lists-10000.jsonld": 400,
    "turtle-nested-collections-10000.ttl": 400,
    "turtle-nested-blank-nodes-10000.ttl": 400,
    "turtle-nested-triple-terms-40000.ttl": 400,
    "ntriples-nested-triple-terms-32000.nt": 400,
    "turtle-triple-term.ttl": 400,
    "turtle-reified-triple.ttl": 400,
    "literal-past-the-limit.ttl": 413,
    "utf8-invalid.ttl": 400,
    "utf8-overlong-nul.ttl": 400,
    "utf16le-with-bom.ttl": 400,
    "utf16be-with-bom.nt": 400,
    "utf16le-without-bom.ttl": 400,
    "utf16-with-bom.jsonld": 400,
    "utf8-invalid.jsonld": 400,
    "nul-in-iri.nt": 400,
    "iri-with-space.ttl": 400,
    "iri-with-escaped-space.ttl": 400,
    "iri-with-control-characters.nt": 400,
    "iri-with-escaped-control-character.nt": 400,
    "iri-with-space.jsonld": 400,
    "jsonld-remote-context.jsonld": 400,
    "jsonld-remote-context-import.jsonld": 400,
    "jsonld-remote-context-in-array.jsonld": 400,
    "rdfxml-external-entity.rdf": 415,
    "rdfxml-billion-laughs.rdf": 415,
}
#: The answer of /sparql (all three ways of asking) where it is one thing.
SPARQL = {
    "query-past-the-limit.rq": 413,
    "sparql-service.rq": 400,
    "sparql-service-silent-variable.rq": 400,
    "sparql-load.rq": 403,
    "sparql-insert-data.rq": 403,
    "sparql-delete-where.rq": 403,
    "sparql-clear-all.rq": 403,
    "sparql-drop-all.rq": 403,
    "sparql-update-after-comment.rq": 403,
    "sparql-update-after-query.rq": 400,
    "sparql-regex-redos.rq": 503,
    "sparql-nested-braces-10000.rq": 400,
    "sparql-nested-triple-terms-10000.rq": 400,
    "sparql-union-chain-10000.rq": 400,
    "sparql-nul.rq": 400,
    "sparql-huge-numbers.rq": 400,
}
#: Queries that run until the timeout: asked once (by POST), not three times.
RUNAWAYS = (
    "sparql-regex-redos.rq",
    "sparql-path-negated-star.rq",
    "sparql-path-nested-stars.rq",
    "sparql-path-any-any.rq",
)
#: The answers a ``.http`` request may get.
REQUESTS = {
    "page-superscript-digit.http": (400,),
    "page-5000-digits.http": (400,),
    "index-page-superscript-digit.http": (400,),
    "ldes-page-superscript-digit.http": (404,),
    "ldes-page-past-64-bits.http": (404,),
    "sitemap-page-superscript-digit.http": (200,),
    "sitemap-page-5000-digits.http": (200,),
    "contributions-page-past-64-bits.http": (400,),
    # 200 once iri-ipvfuture-object.ttl has been published.
    "resource-iri-ipvfuture.http": (200, 404),
    "if-modified-since-year-99999.http": (200,),
    "id-type-crlf.http": (303,),
    "id-type-non-latin1.http": (303,),
    "resource-canonical-non-ascii.http": (303,),
}


class Listener:
    """An HTTP server on 127.0.0.1 that records every request it gets (and answers 404)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.requests.append(f"{self.command} {self.path}")
                self.send_error(404)

            do_POST = do_HEAD = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    served = Listener()
    try:
        assert httpx.get(served.url + "/probe").status_code == 404
        served.requests.clear()
        yield served
    finally:
        served.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("corpus")
    yield from started(make_client(tmp, max_contribution_bytes=LIMIT, max_query_bytes=LIMIT))


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service on an on-disk store: queries in killable workers, a 1 s timeout."""
    tmp = tmp_path_factory.mktemp("corpus-sparql")
    with make_client(
        tmp,
        store=str(tmp / "store"),
        query_timeout=TIMEOUT,
        query_workers=2,
        max_query_bytes=LIMIT,
    ) as client:
        yield client


def read(name: str, listener: Listener) -> bytes:
    return (CORPUS / name).read_bytes().replace(b"__LISTENER__", listener.url.encode())


def _expected(table: dict[str, int], name: str, status: int) -> None:
    if name in table:
        assert status == table[name], f"{name}: {status}, expected {table[name]}"


@pytest.mark.parametrize("name", [f for f in FILES if f.endswith(tuple(MEDIA_TYPES))])
def test_contribution_corpus(
    name: str, client: TestClient, listener: Listener, tmp_path: Path
) -> None:
    body = read(name, listener)
    media_type = MEDIA_TYPES[Path(name).suffix]
    headers = {"Content-Type": media_type}
    for url in ("/contributions?dry-run=true", "/contributions/validate"):
        answer = send(client, "POST", url, content=body, headers=headers)
        _expected(INTAKE, name, answer.status_code)
        if name.startswith("jsonld-remote-context"):
            assert "remote JSON-LD @context" in answer.json()["detail"], answer.text
    auth = bearer(client, f"corpus {name}")
    answer = send(client, "POST", "/contributions", content=body, headers={**headers, **auth})
    _expected(INTAKE, name, answer.status_code)
    if answer.status_code == 201:
        _read_back(client, answer.headers["location"])
    send(
        client,
        "POST",
        "/contribute",
        files={"upload": (name, body, media_type)},
        data={"action": "check"},
        headers={"Accept": "text/html"},
    )
    if name.endswith(".ttl") and answer.status_code == 400:
        # The command line reads the files the intake refuses as malformed; the others it
        # would validate as the intake did, at the cost of loading the shapes again.
        path = tmp_path / name
        path.write_bytes(body)
        for command in (["validate", str(path)], ["format", "--check", str(path)]):
            _cli(command)
    assert listener.requests == [], f"{name} made the server fetch {listener.requests}"


def _read_back(client: TestClient, location: str) -> None:
    """An accepted contribution must not break a page that shows the published graph."""
    data = send(client, "GET", location).json()["data"]
    for path in ("/", "/.well-known/void", "/sitemap.xml", "/catalog", "/ldes/1", location):
        for accept in ("text/html", "*/*"):
            send(client, "GET", path, headers={"Accept": accept})
    for line in data.splitlines():
        if line.startswith("<") and "> " in line:
            iri = line[1 : line.index("> ")]
            send(client, "GET", "/resource", params={"iri": iri}, headers={"Accept": "text/html"})


def _cli(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"meent {' '.join(args)} raised {result.exception!r}"
    )
    assert result.exit_code in (0, 1, 2) and "Traceback" not in result.output, result.output


@pytest.mark.parametrize("name", [f for f in FILES if f.endswith(".rq")])
def test_sparql_corpus(name: str, timed: TestClient, listener: Listener) -> None:
    query = read(name, listener)
    direct = {"Content-Type": "application/sparql-query"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    text = query.decode("utf-8", errors="surrogateescape")
    encoded = urlencode({"query": text}, encoding="utf-8", errors="surrogateescape")
    ways = [
        ("GET", "/sparql?" + encoded, {}),
        ("POST", "/sparql", {"content": encoded.encode(), "headers": form}),
        ("POST", "/sparql", {"content": query, "headers": direct}),
    ]
    if name in RUNAWAYS:
        ways = ways[2:]
    for method, url, options in ways:
        if len(url) > MAX_URL:
            continue
        started_at = time.monotonic()
        answer = send(timed, method, url, timeout_ok=True, **options)
        elapsed = time.monotonic() - started_at
        expected = SPARQL.get(name)
        if name == "sparql-invalid-utf8.rq" and options.get("headers") is direct:
            expected = 400  # in a URL or a form, the bad bytes are decoded as U+FFFD
        if expected is not None:
            assert answer.status_code == expected, f"{name} by {method}: {answer.text[:300]}"
        if answer.status_code == 503:
            assert elapsed < TIMEOUT + 2, f"{name} took {elapsed:.1f} s to stop"
    assert listener.requests == [], f"{name} made the server fetch {listener.requests}"


@pytest.mark.parametrize("name", [f for f in FILES if f.endswith(".http")])
def test_request_corpus(name: str, client: TestClient) -> None:
    line, *header_lines = (CORPUS / name).read_text().splitlines()
    method, target = line.split(" ", 1)
    headers = dict(h.split(": ", 1) for h in header_lines if h)
    answer = send(client, method, target, headers=headers, follow_redirects=False)
    assert answer.status_code in REQUESTS[name], f"{name}: {answer.text[:300]}"


def test_every_file_is_in_the_readme() -> None:
    readme = (CORPUS / "README.md").read_text()
    missing = [name for name in FILES if f"`{name}`" not in readme]
    assert not missing, f"tests/corpus/README.md does not list {missing}"
