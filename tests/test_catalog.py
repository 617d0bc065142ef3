"""/catalog: DCAT-AP 3.0.1 and DCAT-AP-NL 3.0 conformance (the official shapes), negotiation
(no Accept, */*, each RDF type, HTML), and conditional GET."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, SH

from service.config import Settings
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "dcat-ap"
FIXTURES = Path(__file__).parent / "fixtures" / "dcat"
SPDX = Namespace("http://spdx.org/rdf/terms#")
AP_SHAPES = sorted(
    p
    for p in (CONFORMANCE / "dcat-ap-3.0.1" / "html-shacl").glob("*.ttl")
    if p.name not in {"imports.ttl", "mdr_imports.ttl"}  # owl:imports of remote files only
)
#: The DCAT-AP-NL shapes; its dcat-ap-SHACL.ttl is the consolidated DCAT-AP file that pyshacl
#: cannot read (a property shape without sh:path), so DCAT-AP itself comes from AP_SHAPES.
NL_SHAPES = sorted(
    p
    for p in (CONFORMANCE / "dcat-ap-nl-3.0" / "shapes").glob("*.ttl")
    if p.name != "dcat-ap-SHACL.ttl"
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        store="memory",
        project_root=ROOT,
        dumps_dir=tmp_path_factory.mktemp("dumps"),
        contact_email="info@example.org",
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _catalog(client: TestClient) -> Graph:
    response = client.get("/catalog", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def _shapes(files: list[Path]) -> Graph:
    shapes = Graph()
    for path in files:
        shapes.parse(path)
    # DCAT-AP 3.0.1 mdr-vocabularies.shape.ttl :ChecksumAlgorithmRestriction has
    # sh:pattern "^https://spdx.org/rdf/terms" together with sh:class spdx:ChecksumAlgorithm,
    # whose IRI (and that of every SPDX algorithm, e.g. spdx:checksumAlgorithm_sha256, which
    # the DCAT-AP 3 text names) is http://spdx.org/rdf/terms#…: no real value can satisfy
    # both. We publish the real SPDX IRI and drop only that pattern.
    restriction = URIRef("http://data.europa.eu/r5r#ChecksumAlgorithmRestriction")
    if (restriction, SH.pattern, None) in shapes:
        shapes.remove((restriction, SH.pattern, None))
    return shapes


def _violations(data: Graph, shapes: Graph) -> list[str]:
    _, report, _ = validate(data, shacl_graph=shapes, allow_warnings=True)
    found = []
    for top in report.subjects(SH.conforms, None):
        for result in report.objects(top, SH.result):
            if report.value(result, SH.resultSeverity) == SH.Violation:
                found.append(
                    f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}"
                    f": {report.value(result, SH.resultMessage)}"
                )
    return found


def _with_vocabularies(client: TestClient) -> Graph:
    data = _catalog(client)
    data.parse(FIXTURES / "eu-vocabularies.ttl")
    return data


def test_the_shapes_are_the_official_sets() -> None:
    assert len(AP_SHAPES) == 5 and len(NL_SHAPES) == 8


def test_catalog_conforms_to_dcat_ap_3(client: TestClient) -> None:
    assert _violations(_with_vocabularies(client), _shapes(AP_SHAPES)) == []


def test_catalog_conforms_to_dcat_ap_nl_3(client: TestClient) -> None:
    assert _violations(_with_vocabularies(client), _shapes(NL_SHAPES)) == []


def test_the_shapes_bite_on_a_broken_catalog(client: TestClient) -> None:
    data = _with_vocabularies(client)
    dataset = next(data.subjects(RDF.type, DCAT.Dataset))
    data.remove((dataset, DCTERMS.publisher, None))  # mandatory in DCAT-AP-NL
    data.remove((None, SPDX.checksumValue, None))  # mandatory in DCAT-AP
    assert any("publisher" in v for v in _violations(data, _shapes(NL_SHAPES)))
    assert any("checksumValue" in v for v in _violations(data, _shapes(AP_SHAPES)))


def test_catalog_describes_dumps_service_and_coverage(client: TestClient) -> None:
    data = _catalog(client)
    dataset = next(data.subjects(RDF.type, DCAT.Dataset))
    manifest = client.get("/dumps/").json()
    urls = {str(d) for d in data.objects(None, DCAT.downloadURL)}
    assert urls == {f"http://testserver/dumps/{f['name']}" for f in manifest["files"]}
    for entry in manifest["files"]:
        dist = next(data.subjects(DCAT.downloadURL, URIRef(entry["url"])))
        assert data.value(dist, DCAT.byteSize).toPython() == entry["bytes"]
        checksum = data.value(dist, SPDX.checksum)
        assert str(data.value(checksum, SPDX.checksumValue)) == entry["sha256"]
        assert data.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(data.value(dist, DCAT.mediaType)).endswith("/" + entry["mediaType"])
    service = next(data.subjects(RDF.type, DCAT.DataService))
    assert data.value(service, DCAT.endpointURL) == URIRef("http://testserver/sparql")
    assert data.value(service, DCAT.servesDataset) == dataset
    eu = "http://publications.europa.eu/resource/authority/"
    assert set(data.objects(dataset, DCAT.theme)) == {
        URIRef(eu + "data-theme/SOCI"),
        URIRef(eu + "data-theme/GOVE"),
    }
    assert URIRef("https://sws.geonames.org/2759794/") in set(
        data.objects(dataset, DCTERMS.spatial)
    )
    assert data.value(dataset, DCTERMS.temporal) is not None
    assert {str(x) for x in data.objects(dataset, DCTERMS.language)} == {
        eu + "language/NLD",
        eu + "language/ENG",
    }
    contact = data.value(dataset, DCAT.contactPoint)
    vcard = Namespace("http://www.w3.org/2006/vcard/ns#")
    assert data.value(contact, vcard.hasEmail) == URIRef("mailto:info@example.org")
    notation = next(data.objects(None, URIRef("http://www.w3.org/2004/02/skos/core#notation")))
    assert str(notation) == manifest["canonicalHash"]["value"]
    assert isinstance(data.value(dataset, DCTERMS.modified), Literal)


@pytest.mark.parametrize(
    ("accept", "content_type", "rdf_format"),
    [
        (None, "text/turtle", "turtle"),
        ("*/*", "text/turtle", "turtle"),
        ("text/turtle", "text/turtle", "turtle"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/n-triples", "application/n-triples", "nt"),
    ],
)
def test_catalog_is_rdf_without_accept_and_by_negotiation(
    client: TestClient, accept: str | None, content_type: str, rdf_format: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    # httpx adds "Accept: */*" unless told otherwise: send no Accept at all, as harvesters do.
    request = client.build_request("GET", "/catalog", headers=headers)
    if accept is None:
        del request.headers["accept"]
    response = client.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    graph = Graph().parse(data=response.content, format=rdf_format)
    assert any(graph.subjects(RDF.type, DCAT.Catalog))


def test_catalog_html_for_browsers(client: TestClient) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/catalog", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "meent.nq.gz" in response.text and "sha256:" in response.text


def test_catalog_406_for_unsupported(client: TestClient) -> None:
    response = client.get("/catalog", headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_catalog_304(client: TestClient) -> None:
    first = client.get("/catalog", headers={"Accept": "text/turtle"})
    etag = first.headers["etag"]
    again = client.get("/catalog", headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = client.get(
        "/catalog",
        headers={"Accept": "text/turtle", "If-Modified-Since": first.headers["last-modified"]},
    )
    assert since.status_code == 304
    other = client.get("/catalog", headers={"Accept": "application/ld+json", "If-None-Match": etag})
    assert other.status_code == 200  # another representation, another validator
