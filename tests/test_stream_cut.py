"""An answer cut after it began is an error for every client, never a clean end (issue 19).

A query whose answer streams past its deadline is stopped after the status line has gone. The
connection then ends without the chunked body's last chunk (service/web/streaming.py), so that
httpx raises and curl exits with status 18 ("transfer closed with outstanding read data"), in
every format — CSV, TSV and N-Triples included, which would otherwise end at a row boundary
looking whole. Tested on a real uvicorn, the embedded on-disk store and its worker pool.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import uvicorn_thread

from service.config import Settings
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
#: Tens of millions of rows on the curated graph: it streams far past a one-second deadline.
CROSS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"
CROSS_GRAPH = "CONSTRUCT { ?a ?b ?f } WHERE { ?a ?b ?c . ?d ?e ?f }"
#: Every result format and every graph format.
CASES = [
    (CROSS, "csv"),
    (CROSS, "tsv"),
    (CROSS, "json"),
    (CROSS, "xml"),
    (CROSS_GRAPH, "nt"),
    (CROSS_GRAPH, "ttl"),
    (CROSS_GRAPH, "jsonld"),
    (CROSS_GRAPH, "rdf"),
    (CROSS_GRAPH, "nq"),
    (CROSS_GRAPH, "trig"),
]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("cut")
    settings = Settings(
        store=str(folder / "store"),
        project_root=ROOT,
        dumps_dir=folder / "dumps",
        query_timeout=1.0,
        response_cache_mb=0,
    )
    with uvicorn_thread(create_app(settings)) as url:
        yield url + "/sparql"


@pytest.mark.parametrize(("query", "fmt"), CASES)
def test_httpx_sees_a_cut_answer_as_an_error(
    endpoint: str, query: str, fmt: str, caplog: pytest.LogCaptureFixture
) -> None:
    received = 0
    with (
        caplog.at_level(logging.WARNING, logger="meent"),
        httpx.stream(
            "GET", endpoint, params={"query": query, "format": fmt}, timeout=30
        ) as response,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        assert response.status_code == 200  # the answer had begun
        for chunk in response.iter_bytes():
            received += len(chunk)
    assert received > 0
    assert any("cut after it began" in r.getMessage() for r in caplog.records), caplog.text
    # The service goes on answering.
    after = httpx.get(endpoint, params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    assert after.status_code == 200 and after.json()["boolean"] is True


@pytest.mark.parametrize(("query", "fmt"), [CASES[0], CASES[4], CASES[6]])
def test_curl_exits_with_a_partial_transfer(endpoint: str, query: str, fmt: str) -> None:
    done = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--get",
            "--data-urlencode",
            f"query={query}",
            "--data-urlencode",
            f"format={fmt}",
            "--output",
            "/dev/null",
            endpoint,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 18, (done.returncode, done.stderr)  # CURLE_PARTIAL_FILE


def test_a_whole_answer_still_ends_cleanly(endpoint: str) -> None:
    done = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--fail",
            "--get",
            "--data-urlencode",
            "query=SELECT ?s WHERE { ?s a ?c } LIMIT 5000",
            "--data-urlencode",
            "format=csv",
            endpoint,
        ],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"s\r\n") and done.stdout.count(b"\r\n") > 100
