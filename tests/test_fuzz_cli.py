"""Property-based tests of the command line's file arguments (issue 8): ``meent validate``,
``meent format`` and ``meent submit`` given generated and mangled files. Whatever the file,
the command ends with exit status 0, 1 or 2 and says why; never a traceback. ``submit`` talks
to a real server (uvicorn in a thread, on an in-memory store), which keeps the store as it
was for every contribution it refuses."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fuzzkit import (
    Fingerprint,
    bearer,
    fuzz,
    jsonld_documents,
    koppels,
    make_client,
    mutated,
    ntriples_documents,
    turtle_documents,
)
from hypothesis import given
from hypothesis import strategies as st
from servers import uvicorn_thread
from typer.testing import CliRunner, Result

from service.cli import app

_names = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-cli")


def _file(folder: Path, body: bytes, suffix: str) -> Path:
    path = folder / f"case-{next(_names)}{suffix}"
    path.write_bytes(body)
    return path


def run(*args: str) -> Result:
    """The command, checked: a deliberate exit status, a message with a failure, no
    traceback."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"meent {' '.join(args)} raised {result.exception!r}:\n{result.output}"
    )
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output, result.output
    if result.exit_code != 0:
        assert result.output.strip(), f"meent {' '.join(args)} failed without a word"
    return result


documents = st.one_of(
    mutated(turtle_documents()),
    mutated(koppels()),
    mutated(ntriples_documents()),
    st.binary(max_size=500),
)


@fuzz(6)
@given(body=documents)
def test_validate_keeps_the_invariant(folder: Path, body: bytes) -> None:
    path = _file(folder, body, ".ttl")
    run("validate", str(path), *(["--format", "json"] if len(body) % 2 else []))


@fuzz(20)
@given(body=documents, check=st.booleans())
def test_format_keeps_the_invariant(folder: Path, body: bytes, check: bool) -> None:
    path = _file(folder, body, ".ttl")
    result = run("format", *(["--check"] if check else []), str(path))
    if result.exit_code == 2:
        assert path.read_bytes() == body, "a file that does not parse was rewritten"


@pytest.fixture(scope="module")
def served(folder: Path) -> Iterator[tuple[str, str, httpx.Client]]:
    """A real server on 127.0.0.1 (uvicorn in a thread), a contributor token for it, and an
    HTTP client to look at it with."""
    client = make_client(folder)
    with uvicorn_thread(client.app, log_level="error") as url, httpx.Client(base_url=url) as http:
        assert http.get("/contributions").status_code == 200  # makes the intake
        secret = bearer(client, "fuzz-cli")["Authorization"].removeprefix("Bearer ")
        yield url, secret, http


def _fingerprint(http: httpx.Client) -> Fingerprint:
    """The store's fingerprint, read over HTTP (the store lives in the server's thread)."""
    answer = http.get(
        "/sparql",
        params={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    rows = answer["results"]["bindings"]
    feed = http.get("/contributions").json()["items"]
    return Fingerprint(
        sum(int(row["n"]["value"]) for row in rows),
        frozenset(row["g"]["value"] for row in rows),
        len(feed),
    )


@fuzz(12)
@given(
    document=st.one_of(
        st.tuples(documents, st.sampled_from([".ttl", ".nt", ".txt", ".rdf", ""])),
        st.tuples(mutated(jsonld_documents()), st.sampled_from([".jsonld", ".json"])),
    )
)
def test_submit_keeps_the_invariant(
    folder: Path, served: tuple[str, str, httpx.Client], document: tuple[bytes, str]
) -> None:
    url, secret, http = served
    body, suffix = document
    path = _file(folder, body, suffix)
    before = _fingerprint(http)
    result = run("submit", str(path), "--to", url, "--token", secret)
    if result.exit_code != 0:
        assert _fingerprint(http) == before, "a refused contribution changed the store"


def test_submit_with_a_bad_url_says_so(folder: Path) -> None:
    """Found by these tests: ``--to http://[::1`` was a traceback (httpx.InvalidURL)."""
    path = _file(folder, b"<urn:x:s> <urn:x:p> <urn:x:o> .", ".ttl")
    result = CliRunner().invoke(app, ["submit", str(path), "--to", "http://[::1", "--token", "t"])
    assert result.exit_code == 3 and "cannot reach" in result.output, result.output


@pytest.mark.parametrize("command", ["validate", "format"])
def test_a_folder_named_like_a_file_is_not_read(folder: Path, command: str) -> None:
    """Found by these tests: a folder ``x.ttl`` or a broken link inside a folder given to
    ``validate``/``format`` was read as a file (IsADirectoryError, FileNotFoundError)."""
    root = folder / f"tree-{command}"
    (root / "folder.ttl").mkdir(parents=True)
    (root / "broken.ttl").symlink_to(root / "nowhere")
    result = run(command, str(root))
    assert result.exit_code == 2 and "no Turtle" in result.output, result.output
