"""One decision for every representation (service/web/negotiation.py): a ``format=`` that names
nothing the resource offers is a 400 naming the parameter, an ``Accept`` that matches nothing a
406, on every route that offers formats — pages, vocabularies, catalogue, VoID, feed, SPARQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

SELECT = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
#: Routes that offer several formats, with what they offer most surely.
ROUTES = [
    ("/doc/commons/noordoogst", "text/turtle"),
    ("/def", "text/turtle"),
    ("/catalog", "text/turtle"),
    ("/.well-known/void", "text/turtle"),
    ("/ldes/1", "application/trig"),
    ("/.well-known/sparql-examples", "text/turtle"),
    ("/sparql", "application/sparql-results+json"),
]


@pytest.fixture(scope="module")
def client(project_client: TestClient) -> TestClient:
    return project_client


def _params(path: str, **params: str) -> dict[str, str]:
    return {"query": SELECT, **params} if path == "/sparql" else params


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


@pytest.mark.parametrize(("path", "offered"), ROUTES)
@pytest.mark.parametrize("name", ["pdf", ""])
def test_an_unknown_format_parameter_is_a_400_naming_it(
    client: TestClient, path: str, offered: str, name: str
) -> None:
    problem = _problem(client.get(path, params=_params(path, format=name)), 400)
    assert f"Unknown format '{name}'" in problem["detail"]
    assert offered in problem["supported"]


@pytest.mark.parametrize(("path", "offered"), ROUTES)
def test_an_accept_header_nothing_matches_is_a_406(
    client: TestClient, path: str, offered: str
) -> None:
    response = client.get(path, params=_params(path), headers={"Accept": "application/pdf"})
    problem = _problem(response, 406)
    assert offered in problem["supported"]


@pytest.mark.parametrize(("path", "offered"), ROUTES)
def test_a_known_format_parameter_wins_over_accept(
    client: TestClient, path: str, offered: str
) -> None:
    response = client.get(
        path, params=_params(path, format=offered), headers={"Accept": "application/pdf"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == offered
