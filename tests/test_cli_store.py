"""``meent load``, ``meent query`` and ``meent serve`` against real stores and a real server."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import free_port
from typer.testing import CliRunner

from service.cli import app

ROOT = Path(__file__).resolve().parent.parent
MEENT = str(Path(sys.executable).parent / "meent")
KOPPELS = "SELECT ?k WHERE { ?k a <https://w3id.org/meent/def#Koppel> } ORDER BY ?k"


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    result = CliRunner().invoke(app, ["load", "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert "synced:" in result.output
    return path


def test_first_load_writes_every_graph(loaded_store: Path) -> None:
    # The fixture loaded; a second sync finds nothing changed.
    result = CliRunner().invoke(app, ["load", "--store", str(loaded_store)])
    assert result.exit_code == 0, result.output
    assert "0 loaded" in result.output
    assert "0 triples written" in result.output


def test_query_prints_tsv_by_default(loaded_store: Path, curated_koppels: set[str]) -> None:
    result = CliRunner().invoke(app, ["query", "--store", str(loaded_store), KOPPELS])
    assert result.exit_code == 0, result.output
    rows = result.stdout.strip().splitlines()
    assert rows[0] == "?k"
    assert "<https://w3id.org/meent/id/koppel/2024-noordoogst>" in rows
    assert rows[1:] == [f"<{k}>" for k in sorted(curated_koppels)]


def test_query_from_file_as_csv(loaded_store: Path) -> None:
    query = ROOT / "queries" / "koppels-per-theme.rq"
    result = CliRunner().invoke(
        app, ["query", "--store", str(loaded_store), "-f", str(query), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert any(row["theme"].endswith("/theme/urban-agriculture") for row in table)


def test_construct_writes_turtle(loaded_store: Path) -> None:
    construct = "CONSTRUCT WHERE { ?k a <https://w3id.org/meent/def#Koppel> }"
    result = CliRunner().invoke(app, ["query", "--store", str(loaded_store), construct])
    assert result.exit_code == 0, result.output
    assert "<https://w3id.org/meent/id/koppel/2024-noordoogst>" in result.stdout


def test_malformed_query_exits_2(loaded_store: Path) -> None:
    result = CliRunner().invoke(app, ["query", "--store", str(loaded_store), "SELECT * {"])
    assert result.exit_code == 2
    assert "could not be evaluated" in result.output


def test_unparseable_load_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.nt"
    bad.write_text("<https://example.org/s> <https://example.org/p> 42 .\n")
    result = CliRunner().invoke(app, ["load", "--store", str(tmp_path / "store"), str(bad)])
    assert result.exit_code == 2, result.output
    assert "bad.nt" in result.output
    assert "line 1" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["query"],
        ["query", "ASK {}", "-f", "x.rq"],
        ["query", "-f", "does-not-exist.rq"],
        ["query", "ASK {}", "--format", "yaml"],
        ["load", "does-not-exist.nt"],
    ],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*args, "--store", str(tmp_path / "s")])
    assert result.exit_code == 2, result.output


def test_store_in_use_exits_3(loaded_store: Path) -> None:
    """RocksDB lets one process open a store directory; the second gets a clear message."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); "
            "print('open', flush=True); sys.stdin.read()",
            str(loaded_store),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        result = CliRunner().invoke(app, ["query", "--store", str(loaded_store), "ASK {}"])
        assert result.exit_code == 3, result.output
        assert "another Meent process" in result.output
    finally:
        holder.communicate("")


def test_bulk_load_a_file(tmp_path: Path) -> None:
    triples = tmp_path / "big.nt"
    triples.write_text(
        "".join(f'<https://example.org/s{i}> <https://example.org/p> "{i}" .\n' for i in range(500))
    )
    store = str(tmp_path / "store")
    result = CliRunner().invoke(app, ["load", "--store", store, str(triples)])
    assert result.exit_code == 0, result.output
    count = CliRunner().invoke(
        app, ["query", "--store", store, "--format", "json", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"]
    )
    bindings = json.loads(count.stdout)["results"]["bindings"]
    assert bindings[0]["n"]["value"] == "500"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``meent serve`` as a newcomer runs it: a real uvicorn process on 127.0.0.1."""
    port = free_port()
    store = tmp_path_factory.mktemp("serve") / "store"
    process = subprocess.Popen(
        [MEENT, "serve", "--store", str(store), "--port", str(port)],
        cwd=tmp_path_factory.mktemp("elsewhere"),  # works from any directory
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"meent serve exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{url}/sparql", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "meent serve did not come up"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_answers_sparql_over_the_network(server: str) -> None:
    response = httpx.get(
        f"{server}/sparql", params={"query": KOPPELS}, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "https://w3id.org/meent/id/koppel/2024-noordoogst" in response.text
