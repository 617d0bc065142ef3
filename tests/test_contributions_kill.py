"""A real ``meent serve`` killed with SIGKILL during a stream of submissions loses no
contribution it answered 201 for and keeps none it did not (issue 6, atomicity).

The one request in flight at the kill may have been stored without its 201 reaching the
client: the test finds it (the only request that got no answer) and checks it is either there
whole — its record's SHA-256 is that of the bytes sent — or not there at all.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from servers import MeentServer, create_token

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
KOPPELS = "https://w3id.org/meent/id/koppel/"
MAX_SUBMISSIONS = 60
KILL_AFTER = 15
DEADLINE = 50.0  # seconds for the whole test


@dataclass
class Sent:
    slug: str
    sha256: str
    status: int | None = None  # None: no answer (the request in flight at the kill)
    location: str | None = None


@pytest.fixture
def servers() -> Iterator[list[MeentServer]]:
    started: list[MeentServer] = []
    yield started
    for server in started:
        server.stop(signal.SIGKILL)


def _stream(url: str, secret: str, sent: list[Sent], stop: threading.Event) -> None:
    headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(MAX_SUBMISSIONS):
            if stop.is_set():
                return
            slug = f"kill-{i:03d}"
            body = KOPPEL.replace(b"2024-test-contribution", slug.encode())
            item = Sent(slug, hashlib.sha256(body).hexdigest())
            sent.append(item)
            try:
                response = client.post("/contributions", content=body, headers=headers)
            except httpx.TransportError:
                return  # the server is gone: this one got no answer
            item.status = response.status_code
            item.location = response.headers.get("location")


def _in_public_graph(client: httpx.Client, slug: str) -> bool:
    query = f"ASK {{ <{KOPPELS}{slug}> ?p ?o }}"
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def _all_records(client: httpx.Client) -> list[dict]:
    items, page = [], "/contributions"
    while page:
        body = client.get(page).json()
        items.extend(body["items"])
        page = body["next"]
    return items


def test_kill_9_loses_no_201_and_keeps_nothing_unanswered(
    tmp_path: Path, servers: list[MeentServer]
) -> None:
    until = time.monotonic() + DEADLINE
    store = tmp_path / "store"
    secret = create_token(store, "kill-test")
    first = MeentServer(store, tmp_path / "serve.log")
    servers.append(first)
    first.wait_ready(until)

    sent: list[Sent] = []
    stop = threading.Event()
    streamer = threading.Thread(target=_stream, args=(first.url, secret, sent, stop))
    streamer.start()
    while sum(s.status == 201 for s in sent) < KILL_AFTER and streamer.is_alive():
        assert time.monotonic() < until, "too slow to reach the kill point"
        time.sleep(0.005)
    # Somewhere in the next request's life: parsing, validating, storing or answering.
    time.sleep(random.uniform(0, 0.2))
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    stop.set()
    streamer.join(timeout=15)
    assert not streamer.is_alive()

    accepted = [s for s in sent if s.status == 201]
    unanswered = [s for s in sent if s.status is None]
    refused = [s for s in sent if s.status not in (None, 201)]
    assert len(accepted) >= KILL_AFTER and not refused, [(s.slug, s.status) for s in sent]
    assert len(unanswered) <= 1, "only the request in flight may lack an answer"
    assert all(s.location for s in accepted)

    second = MeentServer(store, tmp_path / "serve.log")  # the store opens as it is: no repair step
    servers.append(second)
    second.wait_ready(until)
    with httpx.Client(base_url=second.url, timeout=10) as client:
        records = {r["sha256"]: r for r in _all_records(client)}
        for item in accepted:
            assert item.location is not None
            detail = client.get(item.location)
            assert detail.status_code == 200, (item.slug, detail.text)
            assert detail.json()["sha256"] == item.sha256
            assert _in_public_graph(client, item.slug), item.slug
        stored_in_flight = 0
        for item in unanswered:
            if _in_public_graph(client, item.slug):
                stored_in_flight = 1
                record = records.get(item.sha256)
                assert record is not None, "its data is public, so its record must be whole"
                data = client.get(
                    f"/contributions/{record['id']}", headers={"Accept": "application/n-triples"}
                )
                assert data.status_code == 200
                assert len(data.text.strip().splitlines()) == 9  # the whole koppel, not a part
            else:
                assert item.sha256 not in records
        assert len(records) == len(accepted) + stored_in_flight
        for i in range(len(sent), len(sent) + 3):  # never sent: never there
            assert not _in_public_graph(client, f"kill-{i:03d}")
    second.stop()
    assert time.monotonic() < until
    print(
        f"sent {len(sent)}, 201 {len(accepted)}, in flight {len(unanswered)}, "
        f"in-flight stored {stored_in_flight}"
    )


def _started(
    store: Path, tmp_path: Path, servers: list[MeentServer], until: float
) -> tuple[MeentServer, str]:
    """A real server on ``store`` with a contributor's token (its secret)."""
    secret = create_token(store, "raw")
    server = MeentServer(store, tmp_path / "serve.log")
    servers.append(server)
    server.wait_ready(until)
    return server, secret


def _raw_post(server: MeentServer, secret: str, body: bytes, length: int) -> socket.socket:
    """A connection that has sent a contribution with Content-Length ``length`` — over a bare
    socket, so that the test decides when (and whether) the answer is read."""
    host, port = server.url.removeprefix("http://").split(":")
    head = (
        f"POST /contributions HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/turtle\r\n"
        f"Authorization: Bearer {secret}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    connection = socket.create_connection((host, int(port)))
    connection.sendall(head + body)
    return connection


def test_a_submission_whose_answer_was_never_read_is_whole_and_findable(
    tmp_path: Path, servers: list[MeentServer]
) -> None:
    """The other side of the in-flight case: the server stores a submission, and its client
    never reads the 201 before the server is killed. What is kept is the whole contribution,
    found by the SHA-256 of the bytes sent — so a client that never saw its 201 can ask
    before sending again. (A client that hangs up before the server has read its body gets
    nothing stored: uvicorn drops an unread body when the connection closes.)"""
    until = time.monotonic() + DEADLINE
    store = tmp_path / "store"
    first, secret = _started(store, tmp_path, servers, until)
    body = KOPPEL.replace(b"2024-test-contribution", b"never-read")
    with _raw_post(first, secret, body, len(body)):  # its answer is never read
        with httpx.Client(base_url=first.url, timeout=10) as client:
            while not _in_public_graph(client, "never-read"):
                assert time.monotonic() < until, "the submission was not stored"
                time.sleep(0.02)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)

    second = MeentServer(store, tmp_path / "serve.log")
    servers.append(second)
    second.wait_ready(until)
    with httpx.Client(base_url=second.url, timeout=10) as client:
        sha256 = hashlib.sha256(body).hexdigest()
        (record,) = [r for r in _all_records(client) if r["sha256"] == sha256]
        data = client.get(
            f"/contributions/{record['id']}", headers={"Accept": "application/n-triples"}
        )
        assert data.status_code == 200
        assert len(data.text.strip().splitlines()) == 9  # the whole koppel
        assert _in_public_graph(client, "never-read")
    second.stop()


def test_a_client_that_hangs_up_early_leaves_nothing(
    tmp_path: Path, servers: list[MeentServer]
) -> None:
    """A submission whose client hangs up before the server has read its body: nothing is
    stored, the server goes on, and its log shows no failure (no traceback)."""
    until = time.monotonic() + DEADLINE
    server, secret = _started(tmp_path / "store", tmp_path, servers, until)
    body = KOPPEL.replace(b"2024-test-contribution", b"hung-up")
    _raw_post(server, secret, body, len(body) + 100).close()  # 100 bytes short; hang up
    time.sleep(0.5)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert not _in_public_graph(client, "hung-up")
        assert _all_records(client) == []
    server.stop()
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log and "Exception in ASGI application" not in log
