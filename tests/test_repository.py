"""Repository-wide checks on the curated Turtle: layout, IRIs, labels, provenance, shapes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, SKOS

from service.contrib.validation import Validator, load_turtle_dir
from service.rdf.formatting import canonical_turtle
from service.vocab import BASE_IRI, ID, MEENT, MEENTSH

ROOT = Path(__file__).resolve().parent.parent
TURTLE_FILES = sorted(
    p for folder in ("ontology", "shapes", "data") for p in (ROOT / folder).glob("*.ttl")
)
SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
#: docs/architecture.md, "IRIs": things, concept schemes, named graphs, and the vocabulary and
#: shapes namespaces.
MINTED_IRI = re.compile(
    rf"^{re.escape(BASE_IRI)}(?:id/{SLUG}/{SLUG}|graph/{SLUG}(?:/{SLUG})*|def(?:/\d+\.\d+\.\d+)?|shapes)$"
)


@pytest.fixture(scope="module")
def data() -> Graph:
    return load_turtle_dir(ROOT / "data")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_turtle_dir(ROOT / "ontology")


def minted_iris(graph: Graph) -> set[URIRef]:
    """Every IRI in Meent's space except vocabulary and shape terms (those are ``…#Term``)."""
    return {
        term
        for triple in graph
        for term in triple
        if isinstance(term, URIRef)
        and term.startswith(BASE_IRI)
        and not str(term).startswith((str(MEENT), str(MEENTSH)))
    }


def test_the_project_has_its_turtle() -> None:
    folders = {p.parent.name for p in TURTLE_FILES}
    assert folders == {"ontology", "shapes", "data"}


@pytest.mark.parametrize("path", TURTLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_turtle_is_canonical(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert canonical_turtle(text) == text, f"run `make format`: {path} is not canonical"


def test_canonical_check_catches_drift() -> None:
    drifted = (
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n<urn:x:b> rdfs:label 'b' .\n"
    )
    assert canonical_turtle(drifted) != drifted
    once = canonical_turtle(drifted)
    assert canonical_turtle(once) == once


def test_minted_iris_follow_the_pattern(data: Graph, ontology: Graph) -> None:
    bad = sorted(i for i in minted_iris(data + ontology) if not MINTED_IRI.match(i))
    assert not bad, f"IRIs not following docs/architecture.md, 'IRIs': {bad}"


def test_iri_pattern_rejects_bad_slugs() -> None:
    for iri in ("id/commons/NoordOogst", "id/commons/noord_oogst", "id/commons", "thing/x/y"):
        assert not MINTED_IRI.match(BASE_IRI + iri), iri
    assert MINTED_IRI.match(BASE_IRI + "id/koppel/2024-noordoogst")


def test_every_subject_has_a_type_and_a_label(data: Graph, ontology: Graph) -> None:
    described = data + ontology
    missing = [
        s
        for s in set(data.subjects())
        if isinstance(s, URIRef)
        and not (
            described.value(s, RDF.type)
            and (described.value(s, RDFS.label) or described.value(s, SKOS.prefLabel))
        )
    ]
    assert not missing, f"subjects without rdf:type and label: {missing}"


def test_no_dangling_links_into_meent(data: Graph, ontology: Graph) -> None:
    """A Meent IRI that data points at must be described somewhere (or it would 404)."""
    described = set((data + ontology).subjects())
    dangling = sorted(
        o
        for o in data.objects()
        if isinstance(o, URIRef) and o in minted_iris(data) and o not in described
    )
    assert not dangling, f"links to Meent IRIs nobody describes: {dangling}"


def test_every_curated_thing_names_its_source(data: Graph) -> None:
    """Provenance on every curated fact (docs/architecture.md, "What the data may say"): each
    described thing cites a source."""
    sources = set(data.subjects(RDF.type, MEENT.SourceDocument))
    unsourced = sorted(
        s
        for s in set(data.subjects(RDF.type))
        if s not in sources and data.value(s, PROV.wasDerivedFrom) is None
    )
    assert not unsourced, f"curated resources without prov:wasDerivedFrom: {unsourced}"


def test_curated_data_conforms_to_the_shapes(data: Graph) -> None:
    report = Validator.from_project(ROOT).validate(data)
    problems = [f"{r.severity} {r.focus} {r.path}: {r.message('en')}" for r in report.violations]
    assert report.conforms, "\n".join(problems)


# ---------------------------------------------------------------- breadth of the knowledge

#: Each model area of ontology/README.md ("The model by area") and the classes that show it has
#: real, sourced instances in the curated graph.
MODEL_AREAS: dict[str, tuple[str, ...]] = {
    "events in a collaboration": ("BarrierEncounter", "InstrumentApplication", "Step"),
    "qualified public roles": ("PublicRole",),
    "the commons and its governance": ("SharedResource", "Tenure"),
    "provenance per statement": ("Premise",),
    "participation over time": ("Participation", "ProgressObservation"),
    "kinds of organisation and place": ("Neighbourhood", "District"),
}


def meent_terms(ontology: Graph) -> set[URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    return {
        s
        for kind in kinds
        for s in ontology.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and str(s).startswith(str(MEENT))
    }


def test_the_curated_graph_rests_on_at_least_40_cited_sources(data: Graph) -> None:
    cited = set(data.objects(None, PROV.wasDerivedFrom)) & set(
        data.subjects(RDF.type, MEENT.SourceDocument)
    )
    assert len(cited) >= 40, f"{len(cited)} cited source documents"


def test_the_curated_graph_holds_at_least_200_typed_resources(data: Graph) -> None:
    typed = {s for s in data.subjects(RDF.type) if isinstance(s, URIRef)}
    assert len(typed) >= 200, f"{len(typed)} typed resources"


def test_at_least_90_percent_of_the_meent_terms_are_in_use(data: Graph, ontology: Graph) -> None:
    terms = meent_terms(ontology)
    used = {t for t in terms if (None, t, None) in data or (None, RDF.type, t) in data}
    unused = sorted(str(t).removeprefix(str(MEENT)) for t in terms - used)
    assert len(used) >= 0.9 * len(terms), f"{len(used)} of {len(terms)} in use; unused: {unused}"


@pytest.mark.parametrize("area", sorted(MODEL_AREAS))
def test_every_model_area_has_sourced_instances(data: Graph, area: str) -> None:
    for name in MODEL_AREAS[area]:
        instances = set(data.subjects(RDF.type, MEENT[name]))
        assert instances, f"{area}: no meent:{name} in the curated graph"
        assert all(data.value(i, PROV.wasDerivedFrom) for i in instances), name


def test_curators_inferences_say_why(data: Graph) -> None:
    inferred = set(data.subjects(MEENT.standing, ID["standing/curators-inference"]))
    assert inferred, "no statement is marked as the curators' inference"
    unexplained = sorted(s for s in inferred if data.value(s, MEENT.reasoning) is None)
    assert not unexplained, unexplained
