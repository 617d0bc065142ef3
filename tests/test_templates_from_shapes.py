"""Template Turtle files per class, generated from the shapes: every contributor-writable
class gets one that parses, lists every required property of its shapes (computed here from
the shapes graph on its own), and follows the shapes when they change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from service.config import Settings
from service.contrib.templates import PLACEHOLDER, TEXT, WRITABLE, TemplateMaker
from service.contrib.validation import load_turtle_dir
from service.vocab import PREFIXES
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
SHAPES = load_turtle_dir(ROOT / "shapes")
ONTOLOGY = load_turtle_dir(ROOT / "ontology")
CONTRIBUTOR_CLASSES = [
    "meent:Commons",
    "org:Organization",
    "org:OrganizationalUnit",
    "meent:Collaboration",
    "meent:Programme",
    "meent:Cohort",
    "meent:Koppel",
    "meent:Practice",
    "meent:Lesson",
    "meent:Goal",
    "skos:Concept",
    "dct:Location",
    "meent:SourceDocument",
    "schema:Event",
    "foaf:Person",
    "meent:BarrierEncounter",
    "meent:InstrumentApplication",
    "meent:Step",
    "meent:PublicRole",
    "meent:SharedResource",
    "meent:Tenure",
    "meent:Premise",
    "meent:Participation",
    "meent:ProgressObservation",
    "rdf:Statement",
    "eli:LegalResource",
]
REQUIRED = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT DISTINCT ?path WHERE {
  ?class rdfs:subClassOf* ?target .
  ?node sh:targetClass ?target ; sh:property ?shape .
  { ?shape sh:minCount ?n } UNION { ?shape sh:qualifiedMinCount ?n }
  FILTER (?n >= 1)
  FILTER NOT EXISTS { ?shape sh:severity ?s FILTER (?s != sh:Violation) }
  { ?shape sh:path ?path FILTER isIRI(?path) }
  UNION { ?shape sh:path/sh:alternativePath/rdf:first ?path }
}"""


def _iri(curie: str) -> URIRef:
    prefix, local = curie.split(":")
    return URIRef(PREFIXES[prefix] + local)


def _required(shapes: Graph, cls: URIRef) -> set[URIRef]:
    both = shapes + ONTOLOGY
    rows = both.query(REQUIRED, initBindings={"class": cls})
    return {row[0] for row in rows}  # type: ignore[index]


def _filled(template: str) -> str:
    return template.replace(PLACEHOLDER, "filled-in").replace(TEXT, "Ingevuld")


def _subject_predicates(template: str, name: str) -> set[URIRef]:
    triples = ox.parse(template.encode(), ox.RdfFormat.TURTLE)
    segment = WRITABLE[next(c for c, (n, _) in WRITABLE.items() if n == name)][1]
    example = f"https://w3id.org/meent/id/{segment}/example"
    return {URIRef(t.predicate.value) for t in triples if t.subject.value == example}


def _name(curie: str) -> str:
    return WRITABLE[str(_iri(curie))][0]


@pytest.mark.parametrize("curie", CONTRIBUTOR_CLASSES)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_writable_class_gets_a_template_with_its_required_properties(
    curie: str, lang: str
) -> None:
    maker = TemplateMaker(SHAPES, ONTOLOGY)
    name = _name(curie)
    assert maker.names()[name] == _iri(curie)
    template = maker.render(name, lang)
    list(ox.parse(template.encode(), ox.RdfFormat.TURTLE))  # the template itself parses
    filled = _filled(template)
    predicates = _subject_predicates(filled, name)
    assert RDF.type in predicates
    required = _required(SHAPES, _iri(curie))
    assert required, f"{curie}: the shapes require something of every writable class"
    assert required <= predicates, required - predicates
    assert "# required" in template


def test_required_comes_first_with_the_shapes_message_in_the_language() -> None:
    maker = TemplateMaker(SHAPES, ONTOLOGY)
    english, dutch = maker.render("koppel", "en"), maker.render("koppel", "nl")
    levels = [line.split(":")[0].strip() for line in english.splitlines() if "    # " in line]
    levels = [x.removeprefix("# ") for x in levels]
    first_other = next(i for i, x in enumerate(levels) if x != "required")
    assert "required" not in levels[first_other:]
    shape = URIRef(PREFIXES["meentsh"] + "KoppelShape-inCohort")
    messages = {m.language: str(m) for m in SHAPES.objects(shape, SH.message)}
    assert f"# required: {messages['en']}" in english
    assert f"# required: {messages['nl']}" in dutch
    assert english != dutch
    assert f"meent:inCohort <https://w3id.org/meent/id/cohort/{PLACEHOLDER}> ;" in english


def test_forbidden_properties_are_never_in_a_template() -> None:
    person = TemplateMaker(SHAPES, ONTOLOGY).render("person", "en")
    for forbidden in ("foaf:mbox", "schema:email", "foaf:phone", "schema:telephone"):
        assert forbidden not in person


def test_a_new_required_property_shape_changes_the_template() -> None:
    changed = Graph()
    changed += SHAPES
    shape = URIRef(PREFIXES["meentsh"] + "KoppelShape-newlyRequired")
    path = URIRef(PREFIXES["meent"] + "newlyRequired")
    changed.add((URIRef(PREFIXES["meentsh"] + "KoppelShape"), SH.property, shape))
    changed.add((shape, RDF.type, SH.PropertyShape))
    changed.add((shape, SH.path, path))
    changed.add((shape, SH.minCount, Literal(1)))
    changed.add((shape, SH.severity, SH.Violation))
    changed.add((shape, SH.message, Literal("Say the new thing.", lang="en")))
    koppel = _iri("meent:Koppel")
    assert path in _required(changed, koppel) and path not in _required(SHAPES, koppel)
    before = TemplateMaker(SHAPES, ONTOLOGY).render("koppel", "en")
    after = TemplateMaker(changed, ONTOLOGY).render("koppel", "en")
    assert "meent:newlyRequired" not in before
    assert "    # required: Say the new thing.\n    meent:newlyRequired " in after
    assert path in _subject_predicates(_filled(after), "koppel")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store="memory", project_root=ROOT))) as client:
        yield client


def test_templates_are_served(client: TestClient) -> None:
    listing = client.get("/contributions/templates/")
    assert listing.status_code == 200
    names = {item["name"] for item in listing.json()["items"]}
    assert {_name(c) for c in CONTRIBUTOR_CLASSES} <= names
    koppel = client.get("/contributions/templates/koppel.ttl?lang=nl")
    assert koppel.status_code == 200 and koppel.headers["content-type"].startswith("text/turtle")
    assert koppel.text == TemplateMaker(SHAPES, ONTOLOGY).render("koppel", "nl")
    assert client.get("/contributions/templates/nothing.ttl").status_code == 404


def test_a_filled_in_template_is_checked_by_the_service(client: TestClient) -> None:
    """Filled in with real curated resources, the koppel template conforms."""
    template = client.get("/contributions/templates/koppel.ttl?lang=en").text
    filled = (
        template.replace(f"cohort/{PLACEHOLDER}", "cohort/amsterdoen-2024")
        .replace(f"theme/{PLACEHOLDER}", "theme/urban-agriculture")
        .replace(f"commons/{PLACEHOLDER}", "commons/noordoogst")
        .replace(f"source/{PLACEHOLDER}", "source/publiek-collectief-samenwerken-hoedan")
        .replace("koppel/example", "koppel/from-a-template")
        .replace(TEXT, "Ingevuld")
    )
    response = client.post(
        "/contributions/validate", content=filled, headers={"Content-Type": "text/turtle"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["conforms"] is True


def test_a_concept_placeholder_names_the_kind_of_concept_its_scheme_holds() -> None:
    """meent:instrument takes a concept of scheme/instruments, whose IRIs are …/id/instrument/…:
    the placeholder says so, where it once said …/id/theme/… for every concept."""
    maker = TemplateMaker(SHAPES, ONTOLOGY)
    template = maker.render("instrument-application", "en")
    assert "meent:instrument <https://w3id.org/meent/id/instrument/CHANGE-ME> ;" in template
    assert "meent:tenureType <https://w3id.org/meent/id/tenure-type/CHANGE-ME> ;" in (
        maker.render("tenure", "en")
    )
