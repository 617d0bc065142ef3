"""HEAD is answered wherever GET is (RFC 9110 §9.3.2): link checkers and harvesters — the
data.europa.eu URL checker among them — ask for a distribution's headers with HEAD."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
PATHS = [
    "/catalog",
    "/contribute",
    "/contributions",
    "/contributions/templates/",
    "/dumps/",
    "/sitemap.xml",
    "/robots.txt",
    "/.well-known/void",
    "/sparql",
    "/doc/commons/noordoogst",
]


@pytest.fixture(scope="module")
def client(project_client: TestClient) -> TestClient:
    return project_client


def test_every_get_route_answers_head(client: TestClient) -> None:
    """Every GET operation without path parameters answers HEAD with GET's status."""
    paths = client.get("/openapi.json").json()["paths"]
    gets = [path for path, ops in paths.items() if "get" in ops and "{" not in path]
    assert "/catalog" in gets and len(gets) > 10
    for path in gets:
        get, head = client.get(path), client.head(path)
        assert (path, head.status_code, head.content) == (path, get.status_code, b"")


def test_the_openapi_document_has_unique_operation_ids(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert not any("head" in ops for ops in paths.values())


def _same_headers(get: object, head: object) -> None:
    for name in ("content-type", "etag", "cache-control", "last-modified"):
        assert get.headers.get(name) == head.headers.get(name), name  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", PATHS)
def test_head_is_get_without_the_body(client: TestClient, path: str) -> None:
    get = client.get(path)
    head = client.head(path)
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    _same_headers(get, head)


def test_head_of_a_dump_file(client: TestClient) -> None:
    name = client.get("/dumps/").json()["files"][0]["name"]
    get = client.get(f"/dumps/{name}")
    head = client.head(f"/dumps/{name}")
    assert get.status_code == head.status_code == 200
    assert head.content == b"" and get.content
    assert head.headers["content-length"] == str(len(get.content))
    _same_headers(get, head)
