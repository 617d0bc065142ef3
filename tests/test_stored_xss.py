"""Stored XSS (issue 8, access control): a contribution whose labels, descriptions and links
carry markup and script is accepted as data, and every page that shows it shows it as text.

Checked two ways: in the HTML (escaped markup, no ``javascript:`` link, nothing that closes
the embedded JSON-LD ``<script>`` early), and in a real headless Chromium, where a script
that ran would open a dialog or change the page's title."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Dialog, sync_playwright
from servers import create_token, uvicorn_thread
from test_pages_browser import CHROMIUM, CHROMIUM_ARGS

from service.config import Settings
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/meent/"
KOPPEL = BASE + "id/koppel/2024-xss"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: Each payload would run a script (or set the title) if it reached the page unescaped.
PAYLOADS = {
    "label_nl": "<script>document.title='pwned-label'</script>Koppel",
    "label_en": '"><img src=x onerror="document.title=\'pwned-attr\'">Koppel',
    "description": "</script><script>document.title='pwned-jsonld'</script>",
    "comment": "<svg onload=\"document.title='pwned-svg'\"></svg>{{7*7}}",
}
CONTRIBUTION = f"""
@prefix dct: <http://purl.org/dc/terms/> .
@prefix meent: <https://w3id.org/meent/def#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<{KOPPEL}>
    a meent:Koppel ;
    rdfs:label {_q(PAYLOADS["label_nl"])}@nl, {_q(PAYLOADS["label_en"])}@en ;
    dct:description {_q(PAYLOADS["description"])}@en, "Een koppel."@nl ;
    rdfs:comment {_q(PAYLOADS["comment"])}@en ;
    rdfs:seeAlso <javascript:document.title='pwned-href'> ;
    prov:wasDerivedFrom <{BASE}id/source/publiek-collectief-samenwerken-hoedan> ;
    meent:inCohort <{BASE}id/cohort/amsterdoen-2024> ;
    meent:initiative <{BASE}id/commons/noordoogst> ;
    meent:theme <{BASE}id/theme/urban-agriculture> .
""".encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real uvicorn with the hostile contribution accepted; (base URL, contribution id)."""
    store = tmp_path_factory.mktemp("xss") / "store"
    secret = create_token(store, "xss-test")
    app = create_app(Settings(store=str(store), project_root=ROOT))
    with uvicorn_thread(app) as url:
        headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {secret}"}
        created = httpx.post(url + "/contributions", content=CONTRIBUTION, headers=headers)
        assert created.status_code == 201, created.text
        yield url, created.headers["location"].rsplit("/", 1)[-1]


def _pages(contribution_id: str) -> list[str]:
    """Every HTML page where the contribution's literals or links can appear."""
    return [
        "/doc/koppel/2024-xss",
        "/resource?iri=" + quote(KOPPEL, safe=""),
        "/doc/cohort/amsterdoen-2024",  # lists its koppels by label
        "/doc/commons/noordoogst",  # incoming links
        "/doc/theme/urban-agriculture",
        "/doc/koppel",  # the class index
        "/index?class=" + quote(BASE + "def#Koppel", safe=""),
        "/search?q=Koppel",
        "/search?q=" + quote("<script>", safe=""),
        f"/contributions/{contribution_id}",
        "/",
    ]


def _html(url: str, path: str, lang: str) -> str | None:
    """The page as a browser asks for it; None when the answer is not HTML (then a browser,
    told ``nosniff``, does not render it as a page)."""
    headers = {"Accept": "text/html", "Accept-Language": lang}
    response = httpx.get(url + path, headers=headers, follow_redirects=True)
    assert response.status_code == 200, (path, response.status_code)
    if not response.headers["content-type"].startswith("text/html"):
        assert response.headers["x-content-type-options"] == "nosniff"
        return None
    return response.text


def test_the_data_is_kept_as_written(server: tuple[str, str]) -> None:
    url, _ = server
    turtle = httpx.get(url + "/doc/koppel/2024-xss", headers={"Accept": "application/n-triples"})
    for payload in PAYLOADS.values():
        assert _q(payload) in turtle.text  # data, not sanitised away


def test_every_page_escapes_the_markup(server: tuple[str, str]) -> None:
    url, contribution_id = server
    shown = 0
    for path, lang in itertools.product(_pages(contribution_id), ("en", "nl")):
        html = _html(url, path, lang)
        if html is None:
            continue
        for marker in ("<script>document", "<img src=x", "<svg onload", 'onerror="document'):
            assert marker not in html, (path, marker)
        assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", html, re.I), path
        # A "</script>" in a label that reached the embedded JSON-LD unescaped would end the
        # block early: what is left would not be JSON.
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S):
            json.loads(block)
        shown += "pwned-label" in html or "pwned-attr" in html
    assert shown >= 3, "the payloads should appear (escaped) on several pages"


def test_no_payload_runs_in_a_browser(server: tuple[str, str]) -> None:
    url, contribution_id = server
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()

            def on_dialog(dialog: Dialog) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            for path in _pages(contribution_id):
                page.goto(url + path, wait_until="load")
                page.wait_for_timeout(50)
                # A payload that ran would have set the whole title to "pwned-…".
                assert not re.fullmatch(r"pwned-\w+", page.title()), (path, page.title())
                links = page.eval_on_selector_all(
                    "a[href]", "links => links.map(a => a.getAttribute('href'))"
                )
                assert not [h for h in links if h.strip().lower().startswith("javascript:")]
            # The label is visible to the reader as text.
            page.goto(url + "/doc/koppel/2024-xss", wait_until="load")
            assert PAYLOADS["label_en"] in page.inner_text("body")
        finally:
            browser.close()
    assert dialogs == []
