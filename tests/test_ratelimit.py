"""Per-client rate limits on /sparql and /contributions: 429 with Retry-After, before any work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.web.app import create_app
from service.web.ratelimit import Limit

ASK = {"query": "ASK { ?s ?p ?o }"}


@pytest.fixture
def limited() -> Iterator[TestClient]:
    settings = Settings(
        store="memory", rate_limit_sparql=6, rate_limit_contributions=6, rate_limit_burst=3
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_burst_then_429_with_retry_after(limited: TestClient) -> None:
    statuses = [limited.get("/sparql", params=ASK).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = limited.get("/sparql", params=ASK, headers={"Origin": "https://example.org"})
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 10  # 6/min: a token every 10 s
    assert refused.json()["status"] == 429
    # A browser client can read the refusal and its Retry-After.
    assert refused.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()


def test_limits_are_per_group(limited: TestClient) -> None:
    for _ in range(3):
        limited.get("/sparql", params=ASK)
    assert limited.get("/sparql", params=ASK).status_code == 429
    # Other endpoints and the other group are not affected.
    assert (
        limited.get("/doc/commons/noordoogst", headers={"Accept": "text/turtle"}).status_code == 200
    )
    validate = limited.post(
        "/contributions/validate",
        content=b"<a:b> <a:c> <a:d> .",
        headers={"Content-Type": "text/turtle"},
    )
    assert validate.status_code != 429


def test_unlimited_by_default() -> None:
    with TestClient(create_app(Settings(store="memory"))) as client:
        assert all(client.get("/sparql", params=ASK).status_code == 200 for _ in range(40))


def test_bucket_refills_at_the_rate() -> None:
    limit = Limit(per_minute=60, burst=2)
    assert limit.take("a", 0.0) == 0
    assert limit.take("a", 0.0) == 0
    assert limit.take("a", 0.0) == pytest.approx(1.0)
    assert limit.take("a", 1.0) == 0  # one token back after a second
    assert limit.take("b", 1.0) == 0  # another client has its own bucket
