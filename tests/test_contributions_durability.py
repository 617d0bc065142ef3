"""A failure in the middle of storing a contribution leaves no trace; a replacement that fails
leaves the previous version whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.contrib import records as contribution_record
from service.contrib.tokens import Role
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
TTL = {"Content-Type": "text/turtle"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(store="memory", project_root=ROOT)), raise_server_exceptions=False
    ) as client:
        client.get("/contributions")
        yield client


def _graphs(client: TestClient) -> set[str]:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    rows = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    return {b["g"]["value"] for b in rows.json()["results"]["bindings"]}


def _failing_midway(real):  # type: ignore[no-untyped-def]
    """graph_triples that yields half the triples, then fails (as a crash while writing)."""

    def broken(data, record):  # type: ignore[no-untyped-def]
        triples = real(data, record)

        def halfway():  # type: ignore[no-untyped-def]
            yield from triples[: len(triples) // 2]
            raise OSError("injected failure while storing")

        return halfway()

    return broken


def test_failure_while_storing_leaves_no_trace(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, secret = client.app.state.services.intake.tokens.create("k", Role.contributor)  # type: ignore[attr-defined]
    auth = {**TTL, "Authorization": f"Bearer {secret}"}
    before = _graphs(client)
    monkeypatch.setattr(
        "service.contrib.intake.graph_triples", _failing_midway(contribution_record.graph_triples)
    )
    response = client.post("/contributions", content=KOPPEL, headers=auth)
    assert response.status_code == 500
    assert _graphs(client) == before
    assert client.get("/contributions").json()["items"] == []


def test_failed_replacement_keeps_the_previous_version(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, secret = client.app.state.services.intake.tokens.create("k", Role.contributor)  # type: ignore[attr-defined]
    auth = {**TTL, "Authorization": f"Bearer {secret}"}
    location = client.post("/contributions", content=KOPPEL, headers=auth).headers["location"]
    before = client.get(location, headers={"Accept": "application/n-triples"}).text
    monkeypatch.setattr(
        "service.contrib.intake.graph_triples", _failing_midway(contribution_record.graph_triples)
    )
    changed = KOPPEL.replace(b"Testkoppel", b"Anders")
    assert client.put(location, content=changed, headers=auth).status_code == 500
    assert client.get(location, headers={"Accept": "application/n-triples"}).text == before
