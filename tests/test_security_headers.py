"""Security headers: a Content-Security-Policy on every HTML page, nosniff everywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.web.app import create_app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store="memory"))) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    ["/", "/sparql", "/doc/commons/noordoogst", "/def", "/contribute", "/doc/commons/nowhere"],
)
def test_html_pages_carry_a_strict_policy(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html"), path
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert (
        "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/sparql?query=ASK%20%7B%7D", "application/sparql-results+json"),
        ("/doc/commons/noordoogst", "text/turtle"),
        ("/catalog", "text/turtle"),
        ("/nowhere", "application/json"),
    ],
)
def test_data_carries_nosniff_but_no_page_policy(
    client: TestClient, path: str, accept: str
) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers
