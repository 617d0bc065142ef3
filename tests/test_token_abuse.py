"""Token abuse: failed authentications (missing, unknown, revoked, expired token) are counted per
client; past ``auth_failure_limit`` in ``auth_failure_window`` the client gets 429 with
``Retry-After`` — on the API and on the contribution page. Each failure is logged without the
secret or its hash, and no endpoint shows a token's secret or hash: tokens live in the private
state, never in a graph."""

from __future__ import annotations

import gzip
import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from background import settled_dumps
from fastapi.testclient import TestClient

from service.config import Settings
from service.contrib.tokens import Role
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
TTL = {"Content-Type": "text/turtle"}
ALL_QUADS = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"


def koppel(slug: str) -> bytes:
    return KOPPEL.replace(b"2024-test-contribution", slug.encode())


def bearer(secret: str) -> dict[str, str]:
    return {**TTL, "Authorization": f"Bearer {secret}"}


@pytest.fixture
def make_client() -> Iterator[Any]:
    opened: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        app = create_app(Settings(store="memory", project_root=ROOT, **settings))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        client.get("/contributions")  # makes the intake
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def tokens(client: TestClient) -> Any:
    return client.app.state.services.intake.tokens  # type: ignore[attr-defined]


def secrets_of(client: TestClient) -> dict[str, str]:
    """A live contributor, a live curator, a revoked and an expired token."""
    store = tokens(client)
    _, contributor = store.create("Koppel", Role.contributor)
    _, curator = store.create("Curator", Role.curator)
    gone, revoked = store.create("Gone", Role.contributor)
    store.revoke(gone.id)
    _, expired = store.create("Old", Role.contributor, expires="2001-01-01")
    return {"contributor": contributor, "curator": curator, "revoked": revoked, "expired": expired}


def test_failures_past_the_limit_get_429_until_the_window_passes(make_client: Any) -> None:
    client = make_client(auth_failure_limit=4, auth_failure_window=2)
    secret = secrets_of(client)
    published = client.post(
        "/contributions", content=koppel("ok"), headers=bearer(secret["contributor"])
    )
    location = published.headers["location"]
    failures = [
        client.post("/contributions", content=koppel("a"), headers=TTL),  # no token
        client.post("/contributions", content=koppel("b"), headers=bearer("meent_guess")),
        client.put(location, content=koppel("ok"), headers=bearer(secret["revoked"])),
        client.delete(location, headers=bearer(secret["expired"])),
    ]
    assert [f.status_code for f in failures] == [401] * 4
    started = time.monotonic()

    # Now even a valid token from this client waits: its secret is not looked at.
    for attempt in (
        client.post("/contributions", content=koppel("c"), headers=bearer(secret["contributor"])),
        client.post(f"{location}/accept", headers=bearer(secret["curator"])),
        client.get("/contributions", headers=bearer("meent_guess")),
    ):
        assert attempt.status_code == 429, attempt.text
        assert attempt.headers["content-type"] == "application/problem+json"
        assert 1 <= int(attempt.headers["retry-after"]) <= 2
    # What needs no token goes on, and so does another client.
    assert client.get("/contributions").status_code == 200
    assert (
        client.post("/contributions/validate", content=koppel("d"), headers=TTL).status_code == 200
    )
    other = TestClient(client.app, client=("192.0.2.7", 50000), raise_server_exceptions=False)
    assert (
        other.post(
            "/contributions", content=koppel("e"), headers=bearer(secret["contributor"])
        ).status_code
        == 201
    )

    time.sleep(max(0.0, 2.1 - (time.monotonic() - started)))
    again = client.post(
        "/contributions", content=koppel("f"), headers=bearer(secret["contributor"])
    )
    assert again.status_code == 201, again.text


def test_the_contribution_page_counts_failures_too(make_client: Any) -> None:
    client = make_client(auth_failure_limit=2)
    form = {"turtle": koppel("page").decode(), "action": "submit", "token": "meent_wrong"}
    assert [client.post("/contribute", data=form).status_code for _ in range(2)] == [401, 401]
    refused = client.post("/contribute", data=form)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0


def test_limit_zero_turns_the_count_off(make_client: Any) -> None:
    client = make_client(auth_failure_limit=0)
    answers = [
        client.post("/contributions", content=koppel("x"), headers=bearer("meent_guess"))
        for _ in range(15)
    ]
    assert {a.status_code for a in answers} == {401}


def test_failures_are_logged_without_the_secret(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(auth_failure_limit=3)
    secret = secrets_of(client)
    revoked_id = next(t.id for t in tokens(client).list() if t.name == "Gone")
    expired_id = next(t.id for t in tokens(client).list() if t.name == "Old")
    guess = "meent_" + "x" * 43
    with caplog.at_level(logging.INFO, logger="meent"):
        for used in (guess, secret["revoked"], secret["expired"], secret["contributor"]):
            client.post("/contributions", content=koppel("log"), headers=bearer(used))
        client.post(
            "/contributions", content=koppel("log"), headers={"Authorization": "Basic eA=="}
        )
    messages = [r.getMessage() for r in caplog.records if "authentication" in r.getMessage()]
    assert any("unknown token (1 of 3" in m and "from testclient" in m for m in messages)
    assert any(f"revoked token {revoked_id}" in m for m in messages)
    assert any(f"expired token {expired_id}" in m for m in messages)
    assert any("too many failures" in m for m in messages)  # the valid one, refused
    logged = caplog.text + "\n".join(messages)
    for value in [guess, *secret.values()]:
        assert value not in logged
        assert hashlib.sha256(value.encode()).hexdigest() not in logged
        assert value[len("meent_") :][:12] not in logged


def test_no_endpoint_shows_a_token_or_its_hash(make_client: Any) -> None:
    client = make_client(dump_interval=0)  # the dump must hold the contribution
    secret = secrets_of(client)
    hashes = {hashlib.sha256(s.encode()).hexdigest() for s in secret.values()}
    published = client.post(
        "/contributions", content=koppel("pub"), headers=bearer(secret["contributor"])
    )
    assert published.status_code == 201
    location = published.headers["location"]
    curator = {"Authorization": f"Bearer {secret['curator']}"}
    settled_dumps(client)  # the dumps of the content with the contribution, built meanwhile
    answers = [
        client.get("/contributions", headers=curator),
        client.get(location),
        client.get(location, headers={"Accept": "text/turtle"}),
        client.get("/doc/contributor/koppel"),
        client.get("/doc/contributor/koppel.ttl"),
        client.get("/ldes"),
        client.get("/ldes/1"),
        client.get("/.well-known/void"),
        client.get("/sitemap.xml"),
        client.get(
            "/sparql",
            params={"query": ALL_QUADS},
            headers={"Accept": "application/sparql-results+json"},
        ),
        client.get("/dumps/meent.nq.gz"),
    ]
    assert [a.status_code for a in answers] == [200] * len(answers)
    bodies = [a.content for a in answers[:-1]] + [gzip.decompress(answers[-1].content)]
    assert b"meent/graph/contribution/" in bodies[-1]  # the dump is not empty
    everything = b"\n".join(bodies)
    for value in (*secret.values(), *hashes):
        assert value.encode() not in everything
    assert b"meent_" not in gzip.decompress(client.get("/dumps/meent.nq.gz").content)
