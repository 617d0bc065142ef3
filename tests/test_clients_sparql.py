"""Real SPARQL clients against a running Meent: SPARQLWrapper in every mode it offers, and
rdflib's SPARQLStore by GET and by POST (issue 19).

Each client is the library itself, talking HTTP to Meent on uvicorn — not a re-creation of its
requests. Answers are checked against rdflib evaluating the same queries over the curated data
files: another engine, so a client that gets a well-formed but wrong answer fails too.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.dom.minidom import Document

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from rdflib.query import Result
from servers import uvicorn_thread
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDF,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

from service.config import Settings
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
PREFIXES = (
    "PREFIX meent: <https://w3id.org/meent/def#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
KOPPEL = "https://w3id.org/meent/id/koppel/2024-clothing-loop"
QUERIES = {
    "SELECT": PREFIXES
    + "SELECT ?koppel ?label WHERE { ?koppel a meent:Koppel ; rdfs:label ?label }",
    "ASK": PREFIXES + "ASK { ?koppel a meent:Koppel }",
    "CONSTRUCT": PREFIXES
    + "CONSTRUCT { ?koppel rdfs:label ?label }\n"
    + "WHERE { ?koppel a meent:Koppel ; rdfs:label ?label }",
    "DESCRIBE": f"DESCRIBE <{KOPPEL}>",
}
METHODS = [(GET, URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)]
RETURN_FORMATS = [JSON, XML, TURTLE, N3, RDF, RDFXML, CSV, TSV, JSONLD]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        store="memory", project_root=ROOT, dumps_dir=tmp_path_factory.mktemp("dumps")
    )
    with uvicorn_thread(create_app(settings)) as url:
        yield url + "/sparql"


@pytest.fixture(scope="module")
def curated() -> Dataset:
    """The curated data files, read by rdflib: the reference the answers are checked against."""
    dataset = Dataset(default_union=True)
    for path in sorted((ROOT / "data").glob("*.ttl")):
        dataset.graph(URIRef(path.as_uri())).parse(path, format="turtle")
    return dataset


def rows_of(result: Result) -> set[tuple[str, ...]]:
    return {tuple(str(value) for value in row) for row in result}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def expected(curated: Dataset) -> dict[str, Any]:
    select = rows_of(curated.query(QUERIES["SELECT"]))
    assert len(select) >= 8, "the four curated koppels, labelled in Dutch and English"
    construct = curated.query(QUERIES["CONSTRUCT"]).graph
    described = {(s, p, o) for s, p, o, _ in curated.quads((URIRef(KOPPEL), None, None, None))}
    assert described, KOPPEL
    return {"SELECT": select, "ASK": True, "CONSTRUCT": set(construct), "DESCRIBE": described}


def _xml_answer(document: Document) -> Any:
    booleans = document.getElementsByTagName("boolean")
    if booleans:
        return booleans[0].firstChild.data.strip() == "true"  # type: ignore[union-attr]
    rows = set()
    for result in document.getElementsByTagName("result"):
        values = {}
        for binding in result.getElementsByTagName("binding"):
            node = next(n for n in binding.childNodes if n.nodeType == n.ELEMENT_NODE)
            values[binding.getAttribute("name")] = node.firstChild.data  # type: ignore[union-attr]
        rows.add((values["koppel"], values["label"]))
    return rows


def answer(converted: Any, content_type: str) -> Any:
    """What a converted SPARQLWrapper result says: rows, a boolean, or a set of triples."""
    media_type = content_type.split(";")[0].strip()
    if isinstance(converted, Graph):
        return set(converted)
    if isinstance(converted, Document):
        return _xml_answer(converted)
    if isinstance(converted, dict):
        if "boolean" in converted:
            return converted["boolean"]
        return {
            (b["koppel"]["value"], b["label"]["value"]) for b in converted["results"]["bindings"]
        }
    assert isinstance(converted, bytes), type(converted)
    if media_type in ("text/csv", "text/tab-separated-values"):
        text = converted.decode()
        if text.strip() in ("true", "false"):  # ASK: one value
            return text.strip() == "true"
        if media_type == "text/csv":
            return {tuple(row) for row in list(csv.reader(io.StringIO(text)))[1:] if row}
        parsed = Result.parse(io.BytesIO(converted), format="tsv")
        return rows_of(parsed)
    return set(Graph().parse(data=converted, format="turtle"))


@pytest.mark.parametrize("form", list(QUERIES))
@pytest.mark.parametrize("return_format", RETURN_FORMATS)
@pytest.mark.parametrize(("method", "request_method"), METHODS)
def test_sparqlwrapper_in_every_mode(
    endpoint: str,
    expected: dict[str, Any],
    form: str,
    return_format: str,
    method: str,
    request_method: str,
) -> None:
    wrapper = SPARQLWrapper(endpoint)
    wrapper.setMethod(method)
    wrapper.setRequestMethod(request_method)
    wrapper.setReturnFormat(return_format)
    wrapper.setQuery(QUERIES[form])
    with warnings.catch_warnings():
        # SPARQLWrapper warns where it asks for a format the query form cannot give
        # (TURTLE for a SELECT): it then sends Accept */*, and Meent answers in its default.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = wrapper.query()
        content_type = result.info()["content-type"]
        got = answer(result.convert(), content_type)
    assert result.response.status == 200
    if form == "DESCRIBE":
        assert expected[form] <= got, content_type
    else:
        assert got == expected[form], content_type


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore(endpoint: str, expected: dict[str, Any], method: str) -> None:
    store = SPARQLStore(endpoint, method=method)
    graph = Graph(store=store)
    assert rows_of(graph.query(QUERIES["SELECT"])) == expected["SELECT"]
    assert graph.query(QUERIES["ASK"]).askAnswer is True
    assert set(graph.query(QUERIES["CONSTRUCT"]).graph) == expected["CONSTRUCT"]  # type: ignore[union-attr]
    # Triple patterns, as rdflib asks when a program walks the graph.
    koppel = URIRef(KOPPEL)
    assert set(graph.predicate_objects(koppel)) == {
        (p, o) for s, p, o in expected["DESCRIBE"] if s == koppel
    }
    assert all(isinstance(o, Literal) for o in graph.objects(koppel, RDFS.label))
