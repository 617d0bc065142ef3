"""/sitemap.xml lists every resource document on the request's host; /robots.txt points to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.harvest import sitemap
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
NS = {"s": sitemap.NS}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(store="memory", project_root=ROOT, dumps_dir=tmp_path_factory.mktemp("d"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_sitemap_lists_resource_documents_on_this_host(client: TestClient) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    locs = [e.text for e in ElementTree.fromstring(response.content).findall("s:url/s:loc", NS)]
    assert "http://testserver/doc/commons/noordoogst" in locs
    assert all(loc.startswith("http://testserver/doc/") for loc in locs)
    assert client.get(locs[0].removeprefix("http://testserver")).status_code == 200
    again = client.get("/sitemap.xml", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_large_sitemaps_become_an_index(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sitemap, "PAGE_SIZE", 10)
    index = ElementTree.fromstring(client.get("/sitemap.xml?v=index").content)
    pages = [e.text for e in index.findall("s:sitemap/s:loc", NS)]
    assert len(pages) > 1
    second = client.get(pages[1].removeprefix("http://testserver"))
    assert len(ElementTree.fromstring(second.content).findall("s:url", NS)) <= 10
    assert client.get(f"/sitemap.xml?page={len(pages) + 1}").status_code == 404


def test_robots_points_to_the_sitemap(client: TestClient) -> None:
    response = client.get("/robots.txt")
    assert "Sitemap: http://testserver/sitemap.xml" in response.text
