"""``meent submit --to`` and ``meent validate --against`` against a real ``meent serve``: the
report in ``meent validate``'s format, exit codes 0/1/2/3, and the instance's data used."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import MeentServer, create_token, free_port
from typer.testing import CliRunner

from service.cli import app

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / "tests/fixtures/cli"
INVALID = CLI / "koppel-without-cohort.ttl"
BROKEN = CLI / "unparseable.ttl"
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
KOPPEL_IRI = "https://w3id.org/meent/id/koppel/2024-test"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Base URL of a ``meent serve`` on a fresh on-disk store, and a contributor token."""
    folder = tmp_path_factory.mktemp("submit")
    store = folder / "store"
    secret = create_token(store, "cli-submit")
    server = MeentServer(store, folder / "serve.log")
    try:
        server.wait_ready(time.monotonic() + 40)
        yield server.url, secret
    finally:
        server.stop()


def _koppel(tmp_path: Path, slug: str) -> Path:
    path = tmp_path / f"{slug}.ttl"
    path.write_bytes(KOPPEL.replace(b"2024-test-contribution", slug.encode()))
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_submit_accepted_prints_the_location(served: tuple[str, str], tmp_path: Path) -> None:
    url, secret = served
    code, output = _run("submit", str(_koppel(tmp_path, "cli-ok")), "--to", url, "--token", secret)
    assert code == 0, output
    location = output.strip().splitlines()[-1].removeprefix("accepted: ")
    assert location.startswith(f"{url}/contributions/")
    detail = httpx.get(location).json()
    assert detail["contributor"] == "cli-submit" and "cli-ok" in detail["data"]


def test_submit_refused_prints_file_line_focus_path_message(
    served: tuple[str, str],
) -> None:
    url, secret = served
    code, output = _run("submit", str(INVALID), "--to", url, "--token", secret, "--lang", "nl")
    assert code == 1, output
    lines = [line for line in output.splitlines() if ": violation: " in line]
    assert any(
        line.startswith(f"{INVALID}:6: violation: <{KOPPEL_IRI}> meent:inCohort") for line in lines
    ), output
    assert "cohort" in output.lower() and "does not conform" in output


def test_submit_json_for_machines(served: tuple[str, str], tmp_path: Path) -> None:
    url, secret = served
    path = _koppel(tmp_path, "cli-json")
    code, output = _run("submit", str(path), "--to", url, "--token", secret, "--format", "json")
    assert code == 0, output
    answer = json.loads(output)
    assert (
        answer["httpStatus"] == 201
        and answer["status"] == "published"
        and answer["location"].startswith(url)
    )
    assert answer["conforms"] is True and answer["triples"] == 9


@pytest.mark.parametrize(
    ("case", "expected"),
    [("syntax", 2), ("bad-token", 2), ("missing-file", 2), ("unreachable", 3)],
)
def test_submit_exit_codes(
    served: tuple[str, str], tmp_path: Path, case: str, expected: int
) -> None:
    url, secret = served
    path, token = str(_koppel(tmp_path, f"cli-{case}")), secret
    if case == "syntax":
        path = str(BROKEN)
    elif case == "bad-token":
        token = "not-a-token"
    elif case == "missing-file":
        path = str(tmp_path / "nothing.ttl")
    else:
        url = f"http://127.0.0.1:{free_port()}"
    code, output = _run("submit", path, "--to", url, "--token", token)
    assert code == expected, output
    if case == "syntax":
        assert f"{BROKEN}:7:" in output and "error" in output
    if case == "bad-token":
        assert "401" in output


def test_validate_against_uses_the_instances_data(served: tuple[str, str], tmp_path: Path) -> None:
    """The koppel points at a cohort and a commons that exist only in the curated data:
    offline it fails, against the instance it conforms."""
    url, _ = served
    path = _koppel(tmp_path, "cli-against")
    offline, _ = _run("validate", str(path))
    assert offline == 1
    code, output = _run("validate", str(path), "--against", url)
    assert code == 0, output
    assert f"conforms: {path}, 9 triples, 0 violation(s)" in output
    assert not httpx.get(f"{url}/doc/koppel/cli-against").is_success, "validating stores nothing"


def test_validate_against_reports_like_offline(served: tuple[str, str]) -> None:
    url, _ = served
    code, output = _run("validate", str(INVALID), "--against", url, "--lang", "en")
    offline_code, offline = _run("validate", str(INVALID), "--lang", "en")
    assert code == offline_code == 1
    line = next(x for x in output.splitlines() if ": violation: " in x and "inCohort" in x)
    assert line in offline.splitlines()


def test_validate_against_exit_codes(served: tuple[str, str], tmp_path: Path) -> None:
    url, _ = served
    assert _run("validate", str(BROKEN), "--against", url)[0] == 2
    nobody = f"http://127.0.0.1:{free_port()}"
    code, output = _run("validate", str(INVALID), "--against", nobody)
    assert code == 3 and "cannot reach" in output
    code, output = _run("validate", str(INVALID), "--against", url, "--format", "json")
    document = json.loads(output)
    assert code == 1 and document["conforms"] is False
    assert document["files"][str(INVALID)]["httpStatus"] == 422
