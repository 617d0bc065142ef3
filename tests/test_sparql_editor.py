"""The query editor a browser gets at ``GET /sparql``: a plain form that works without
JavaScript, the example questions of ``queries/*.rq`` in the reader's language, and YASGUI
served by Meent itself (no CDN, no external URLs). Real-browser checks come later."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
QUERIES = sorted((ROOT / "queries").glob("*.rq"))
ENDPOINT = "http://testserver/sparql"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass
class Page(HTMLParser):
    """What the tests need from the editor page."""

    forms: list[dict[str, str]] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # the first form's
    textareas: dict[str, str] = field(default_factory=dict)
    resources: list[tuple[str, str]] = field(default_factory=list)  # (tag, URL)
    links: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    _textarea: str | None = None
    _select: str | None = None

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(a)
        elif tag == "textarea":
            self._textarea = a.get("name", "")
            self.textareas[self._textarea] = ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and self._select not in self.fields:
            self.fields[self._select] = a.get("value", "")  # the default: the first option
        elif tag in ("script", "img", "iframe") and "src" in a:
            self.resources.append((tag, a["src"]))
        elif tag == "link" and "href" in a:
            self.resources.append((tag, a["href"]))
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.textareas[self._textarea] += data
        self.text.append(data)


def summaries(path: Path) -> dict[str, str]:
    """The ``#+ summary: English / Nederlands`` header of a query file, read directly."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#+ summary:"):
            en, _, nl = line.removeprefix("#+ summary:").strip().partition(" / ")
            return {"en": en.strip(), "nl": (nl or en).strip()}
    raise AssertionError(f"{path.name} has no summary")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(Settings(store="memory"))  # the real project: examples have answers
    with TestClient(app) as test_client:
        yield test_client


def editor(client: TestClient, **headers: str) -> tuple[httpx.Response, Page]:
    response = client.get("/sparql", headers={"Accept": BROWSER_ACCEPT, **headers})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = Page()
    page.feed(response.text)
    return response, page


def test_a_browser_gets_the_editor(client: TestClient) -> None:
    response, page = editor(client)
    assert "Accept" in response.headers["vary"]
    assert "Accept-Language" in response.headers["vary"]
    (form,) = [f for f in page.forms if f.get("action") == ENDPOINT]
    assert form.get("method", "get").lower() == "get"
    assert "SELECT" in page.textareas["query"]


def test_the_form_works_without_javascript(client: TestClient) -> None:
    """Submit the form as a browser without JavaScript would: its fields, by GET."""
    _, page = editor(client)
    (form,) = [f for f in page.forms if f.get("action") == ENDPOINT]
    fields = {"query": page.textareas["query"], **page.fields}
    assert fields["format"] == "json"
    target = urlsplit(form["action"])
    response = client.get(target.path + "?" + urlencode(fields))
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    assert rows and all(int(row["n"]["value"]) > 0 for row in rows)


@pytest.mark.parametrize(
    ("accept_language", "lang"),
    [(None, "en"), ("en-GB,en;q=0.9", "en"), ("nl", "nl"), ("nl-NL,nl;q=0.9,en;q=0.5", "nl")],
)
def test_every_example_question_is_offered_in_the_reader_language(
    client: TestClient, accept_language: str | None, lang: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response, page = editor(client, **headers)
    text = " ".join(" ".join(page.text).split())
    assert len(QUERIES) >= 15
    for path in QUERIES:
        summary = summaries(path)
        assert summary[lang] in text, path.name
        other = "nl" if lang == "en" else "en"
        if summary[other] != summary[lang] and summary[other] not in summary[lang]:
            assert summary[other] not in text, path.name
    assert f'<html lang="{lang}"' in response.text


def test_every_example_link_runs_without_javascript(client: TestClient) -> None:
    _, page = editor(client)
    examples = [link for link in page.links if urlsplit(link).query]
    assert len(examples) == len(QUERIES)
    texts = {path.read_text(encoding="utf-8") for path in QUERIES}
    for link in examples:
        url = urlsplit(link)
        assert f"{url.scheme}://{url.netloc}{url.path}" == ENDPOINT
        params = dict(parse_qsl(url.query))
        assert any(params["query"].strip() in text for text in texts)
        response = client.get(url.path + "?" + url.query)
        assert response.status_code == 200, (link, response.text)


def test_no_external_urls(client: TestClient) -> None:
    _, page = editor(client)
    assert page.resources
    for _, url in page.resources:
        parts = urlsplit(url)
        assert parts.scheme in ("", "http") and parts.netloc in ("", "testserver"), url
    assert all(urlsplit(link).netloc in ("", "testserver") for link in page.links)


EXPECTED_TYPES = {".js": ("text/javascript", "application/javascript"), ".css": ("text/css",)}


def test_the_vendored_assets_are_served(client: TestClient) -> None:
    _, page = editor(client)
    paths = {urlsplit(url).path for _, url in page.resources}
    assert {"/static/yasgui/yasgui.min.js", "/static/yasgui/yasgui.min.css"} <= paths
    assert "/static/sparql-editor.js" in paths
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        media_type = response.headers["content-type"].split(";")[0]
        assert media_type in EXPECTED_TYPES[Path(path).suffix], (path, media_type)
        assert len(response.content) > 100
    css = client.get("/static/yasgui/yasgui.min.css").text
    assert "@import url(http" not in css.replace(" ", "")


def test_only_a_browser_gets_html(client: TestClient) -> None:
    for accept in (None, "*/*", "text/*"):
        headers = {"Accept": accept} if accept else {}
        response = client.get("/sparql", headers=headers)
        assert response.headers["content-type"].startswith("text/turtle"), accept
