"""The pages as a person sees them: a real headless browser (Debian's chromium, driven by
Playwright) against a real uvicorn process serving the curated graph. It follows links from
the landing page to a commons, a koppel and the ontology, switches language, and saves a
screenshot of each page in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from servers import uvicorn_thread

from service.config import Settings
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A real uvicorn on 127.0.0.1 serving the app on an in-memory store; stopped afterwards."""
    with uvicorn_thread(create_app(Settings(store="memory", project_root=ROOT))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1  # type: ignore[index]


def test_a_reader_follows_links_and_switches_language(server: str, browser: Browser) -> None:
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server + "/")
        expect(page.locator("h1")).to_have_text("Meent")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="What the graph holds")).to_be_visible()
        _shot(page, "landing")

        # landing → all commons → NoordOogst
        page.get_by_role("link", name="commons", exact=True).click()
        expect(page.locator("h1")).to_have_text("commons")
        page.get_by_role("link", name="NoordOogst", exact=True).click()
        expect(page.locator("h1")).to_have_text("NoordOogst")
        assert page.url.endswith("/doc/commons/noordoogst")
        expect(page.get_by_role("heading", name="Where this comes from")).to_be_visible()
        source = page.locator("a.source-page", has_text="meent.coop")
        expect(source).to_have_attribute(
            "href", "https://meent.coop/publiek-collectief-samenwerken-hoedan/"
        )
        expect(page.get_by_role("link", name="urban agriculture", exact=True)).to_be_visible()
        _shot(page, "commons-noordoogst")

        # the commons → its koppel (an incoming link)
        page.get_by_role("link", name="NoordOogst koppel (2024)").click()
        expect(page.locator("h1")).to_have_text("NoordOogst koppel (2024)")
        expect(page.get_by_role("heading", name="Mentioned by")).to_have_count(0)
        expect(page.locator("dt", has_text="cohort")).to_be_visible()
        _shot(page, "koppel")

        # switch to Dutch with the language link
        page.get_by_role("link", name="Nederlands").click()
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        expect(page.locator("h1")).to_have_text("Koppel NoordOogst (2024)")
        expect(page.get_by_role("heading", name="Waar dit vandaan komt")).to_be_visible()
        _shot(page, "koppel-nl")

        # the koppel's type → the ontology, landing on its section; Dutch is remembered
        page.locator("p.types a", has_text="koppel").click()
        assert page.url.endswith("/def#Koppel")
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        section = page.locator("section#Koppel")
        expect(section).to_be_in_viewport()
        expect(section.locator("h3")).to_contain_text("koppel")
        expect(page.get_by_role("heading", name="Klassen", exact=True)).to_be_visible()
        _shot(page, "ontology-nl")
    finally:
        context.close()


def test_dutch_reader_on_a_phone(server: str, browser: Browser) -> None:
    context = browser.new_context(
        locale="nl-NL", viewport={"width": 375, "height": 740}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(server + "/doc/commons/noordoogst")
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        expect(page.locator("h1")).to_have_text("NoordOogst")
        expect(page.get_by_role("link", name="stadslandbouw", exact=True)).to_be_visible()
        _no_sideways_scroll(page)
        _shot(page, "commons-noordoogst-phone-nl")
    finally:
        context.close()


def test_query_editor_runs_under_the_content_security_policy(server: str, browser: Browser) -> None:
    """With JavaScript on, YASGUI (served by Meent itself) replaces the plain form, offers the
    example questions as tabs and runs a query — with no CSP violation and no external load."""
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    external: list[str] = []
    page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(server) else None,
    )
    try:
        response = page.goto(f"{server}/sparql", wait_until="networkidle")
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(page.locator("#yasgui")).to_be_visible()
        expect(page.locator("#plain-form")).to_be_hidden()
        tabs = page.locator(".yasgui .tabsList .tab")
        assert tabs.count() > 10  # the default tab and the example questions
        page.locator(".yasqe_queryButton").first.click()
        # The default query counts instances per class; source documents are the most numerous
        # kind in the curated graph, so the first rows name them.
        expect(page.locator(".yasr").first).to_contain_text("SourceDocument", timeout=15_000)
        _shot(page, "sparql-editor")
    finally:
        context.close()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    assert not external, external
