"""The contribution page: a plain HTML form (no JavaScript) that checks pasted or uploaded
Turtle, shows the report with the offending lines marked, and submits with a token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.contrib.tokens import Role
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_text()
NO_COHORT = KOPPEL.replace(
    "    meent:inCohort <https://w3id.org/meent/id/cohort/amsterdoen-2024> ;\n", ""
)
BLOCK_LINE = 6  # where the koppel's block starts in koppel.ttl


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(Settings(store="memory", project_root=ROOT, max_contribution_bytes=20_000))
    with TestClient(app) as client:
        client.get("/contributions")
        yield client


def _secret(client: TestClient, name: str) -> str:
    _, secret = client.app.state.services.intake.tokens.create(name, Role.contributor)  # type: ignore[attr-defined]
    return secret


def _marked(html: str) -> dict[int, str]:
    return {
        int(n): mark
        for n, mark in re.findall(r'<li id="L(\d+)" class="(violation|warning)">', html)
    }


def test_the_page_is_a_form_that_needs_no_javascript(client: TestClient) -> None:
    page = client.get("/contribute", headers={"Accept-Language": "nl"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<form class="contribute" action="/contribute" method="post"' in html
    assert 'enctype="multipart/form-data"' in html and "<script" not in html
    for name in ('name="turtle"', 'name="upload"', 'name="token"', 'name="lang"'):
        assert name in html
    assert 'value="check"' in html and 'value="submit"' in html
    assert "Bijdragen" in html and '/contributions/templates/koppel.ttl?lang=nl"' in html


def test_nav_and_landing_link_to_the_page(client: TestClient) -> None:
    landing = client.get("/", headers={"Accept": "text/html"}).text
    assert landing.count('href="/contribute"') >= 2  # the nav and the next steps


def test_check_marks_the_offending_line_and_explains(client: TestClient) -> None:
    response = client.post(
        "/contribute", data={"turtle": NO_COHORT, "lang": "en", "action": "check"}
    )
    assert response.status_code == 422
    html = response.text
    assert _marked(html) == {BLOCK_LINE: "violation"}
    assert f'<a href="#L{BLOCK_LINE}">{BLOCK_LINE}</a>' in html
    assert "meent:inCohort" in html and "does not conform" in html
    assert 'rel="created"' not in html


def test_check_in_dutch_with_an_upload(client: TestClient) -> None:
    response = client.post(
        "/contribute",
        data={"lang": "nl", "action": "check"},
        files={"upload": ("koppel.ttl", NO_COHORT.encode(), "text/turtle")},
    )
    assert response.status_code == 422
    assert "voldoet niet" in response.text and _marked(response.text) == {BLOCK_LINE: "violation"}


def test_syntax_error_marks_its_line(client: TestClient) -> None:
    broken = KOPPEL.replace('"Testkoppel (2024)"@nl,', '"Testkoppel (2024)"@nl')
    response = client.post("/contribute", data={"turtle": broken, "action": "check"})
    assert response.status_code == 400
    assert list(_marked(response.text)) == [8]
    assert "line 8" in response.text or "regel 8" in response.text


def test_user_text_is_escaped(client: TestClient) -> None:
    hostile = KOPPEL.replace("Testkoppel (2024)", "<script>alert(1)</script>")
    hostile = hostile.replace("meent:inCohort", "meent:inCohort") + "\n# </textarea><b>x</b>\n"
    response = client.post("/contribute", data={"turtle": hostile, "action": "check"})
    assert "<script>alert(1)" not in response.text and "</textarea><b>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_submit_needs_a_valid_token(client: TestClient) -> None:
    for token in ("", "wrong"):
        response = client.post(
            "/contribute", data={"turtle": KOPPEL, "token": token, "action": "submit"}
        )
        assert response.status_code == 401 and 'rel="created"' not in response.text


def test_submit_stores_and_links_the_contribution(client: TestClient) -> None:
    body = KOPPEL.replace("2024-test-contribution", "from-the-page")
    secret = _secret(client, "page-user")
    response = client.post(
        "/contribute", data={"turtle": body, "token": secret, "lang": "en", "action": "submit"}
    )
    assert response.status_code == 201, response.text
    found = re.search(r'<a href="(/contributions/[0-9a-f-]+)" rel="created">', response.text)
    assert found is not None
    assert secret not in response.text, "the token is never written back into the page"
    detail = client.get(found.group(1)).json()
    assert detail["contributor"] == "page-user" and "from-the-page" in detail["data"]


def test_refused_submission_stores_nothing(client: TestClient) -> None:
    before = len(client.get("/contributions").json()["items"])
    response = client.post(
        "/contribute",
        data={"turtle": NO_COHORT, "token": _secret(client, "p2"), "action": "submit"},
    )
    assert response.status_code == 422
    assert len(client.get("/contributions").json()["items"]) == before


def test_empty_and_oversize(client: TestClient) -> None:
    assert client.post("/contribute", data={"turtle": " ", "action": "check"}).status_code == 400
    big = KOPPEL + "#" * 30_000 + "\n"
    assert client.post("/contribute", data={"turtle": big, "action": "check"}).status_code == 413
