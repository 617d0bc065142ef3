"""Every shape in shapes/ is proven to bite: valid fixtures raise nothing, invalid ones fail
with the shapes and messages named in their header comments.

An invalid fixture starts with comment lines such as::

    # expect-shape: meentsh:KoppelShape-inCohort
    # expect-message-en: cohort

The Violations it raises must come from exactly the listed shapes, and at least one of their
English messages must contain each expected substring.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

from service.contrib.templates import PLACEHOLDER, WRITABLE, TemplateMaker
from service.contrib.validation import ValidationReport, Validator, load_turtle_dir
from service.vocab import BASE_IRI, MEENTSH

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ROOT / "shapes"
FIXTURES = Path(__file__).resolve().parent / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator.from_project(ROOT)


@pytest.fixture(scope="module")
def shapes(validator: Validator) -> Graph:
    return validator.shapes


def check(validator: Validator, data: Graph) -> ValidationReport:
    return validator.validate(data)


def helper_shapes(shapes: Graph) -> set[URIRef]:
    """Shapes used only through sh:node (no target): their results are nested details."""
    helpers: set[URIRef] = set()
    for node_shape in set(shapes.objects(None, SH.node)):
        if not any((node_shape, t, None) in shapes for t in TARGETS):
            helpers.add(node_shape)
            helpers.update(shapes.objects(node_shape, SH.property))
    return helpers


def headers(path: Path, key: str) -> list[str]:
    values = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        name, _, value = line.lstrip("# ").partition(":")
        if name.strip() == key:
            values.append(value.strip())
    return values


def expected_shapes(path: Path) -> set[URIRef]:
    return {MEENTSH[v.removeprefix("meentsh:")] for v in headers(path, "expect-shape")}


def describe(report: ValidationReport) -> str:
    return "\n".join(
        f"{r.severity} {r.source_shape} focus={r.focus} value={r.value}: {r.message('en')}"
        for r in report.results
    )


def test_fixtures_exist() -> None:
    assert VALID and INVALID


@pytest.mark.parametrize("path", sorted(SHAPES.glob("*.ttl")), ids=lambda p: p.name)
def test_shapes_file_parses(path: Path) -> None:
    assert len(Graph().parse(path, format="turtle")) > 0


def test_ontology_alone_raises_nothing(validator: Validator) -> None:
    report = check(validator, Graph())
    assert not report.results, describe(report)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_raises_nothing(validator: Validator, path: Path) -> None:
    report = check(validator, Graph().parse(path, format="turtle"))
    assert not report.results, describe(report)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_as_expected(validator: Validator, shapes: Graph, path: Path) -> None:
    expected = expected_shapes(path)
    assert expected, f"{path.name}: no '# expect-shape:' header"
    report = check(validator, Graph().parse(path, format="turtle"))
    assert not report.conforms, describe(report)
    helpers = helper_shapes(shapes)
    fired = {r.source_shape for r in report.violations if r.source_shape not in helpers}
    assert fired == expected, describe(report)
    messages = [r.message("en") for r in report.violations if r.source_shape in expected]
    for needle in headers(path, "expect-message-en"):
        assert any(needle in m for m in messages), f"{needle!r} not in {messages}"


def test_every_violation_shape_is_covered_by_an_invalid_fixture(shapes: Graph) -> None:
    targeted = {s for t in TARGETS for s in shapes.subjects(t, None)}
    required = {
        p
        for node_shape in targeted
        for p in shapes.objects(node_shape, SH.property)
        if (p, SH.severity, SH.Violation) in shapes
    }
    covered = set().union(*(expected_shapes(path) for path in INVALID))
    assert not required - covered, sorted(required - covered)
    assert not covered - required, f"unknown shapes named: {sorted(covered - required)}"


def test_every_property_shape_has_severity_name_and_messages(shapes: Graph) -> None:
    problems = []
    for shape in set(shapes.subjects(SH.path, None)):
        if not isinstance(shape, URIRef) or not str(shape).startswith(str(MEENTSH)):
            problems.append(f"{shape}: property shapes need a meentsh: IRI")
            continue
        if shapes.value(shape, SH.severity) not in (SH.Violation, SH.Warning, SH.Info):
            problems.append(f"{shape}: no explicit sh:severity")
        for predicate in (SH.name, SH.message):
            langs = {o.language for o in shapes.objects(shape, predicate) if isinstance(o, Literal)}
            if not {"nl", "en"} <= langs:
                problems.append(f"{shape}: {predicate} needs @nl and @en, has {langs}")
    assert not problems, "\n".join(problems)


def test_every_node_shape_is_named_and_labelled(shapes: Graph) -> None:
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        assert isinstance(shape, URIRef), f"blank node shape {shape}"
        langs = {o.language for o in shapes.objects(shape, RDFS.label) if isinstance(o, Literal)}
        assert {"nl", "en"} <= langs, f"{shape}: rdfs:label needs @nl and @en"


def test_shapes_header() -> None:
    graph = Graph().parse(SHAPES / "index.ttl", format="turtle")
    header = URIRef("https://w3id.org/meent/shapes")
    assert (header, RDF.type, OWL.Ontology) in graph


def test_validator_alone_sees_concept_schemes(validator: Validator) -> None:
    data = Graph().parse(FIXTURES / "valid" / "context.ttl", format="turtle")
    assert validator.validate(data).conforms


def test_shapes_use_no_advanced_features_but_sparql_targets(shapes: Graph) -> None:
    """Incremental validation marks only shapes with SPARQL targets as pySHACL-advanced
    (service/contrib/incremental.py); node expressions and rules would need every shape marked."""
    advanced = {SH.expression, SH.rule, SH.condition, URIRef(str(SH) + "js")}
    used = {p for p in shapes.predicates() if p in advanced}
    assert used == set()
    assert (None, RDF.type, SH.SPARQLTarget) in shapes or (None, SH.target, None) in shapes


# ---------------------------------------------------------------- example IRIs

#: A Meent IRI as messages and templates write it, bare or in angle brackets, not counting the
#: full stop of a sentence. Braces are kept, so a pattern like <…/id/person/{slug}> is found
#: whole and reported: it reads as an IRI, and no graph describes it.
EXAMPLE_IRI = re.compile(
    r"https://w3id\.org/meent/id/[^\s<>\"'`()\[\],;…]*[^\s<>\"'`()\[\],;….:!?]"
)


def example_iris(shapes: Graph, ontology: Graph) -> dict[str, set[str]]:
    """Every Meent IRI the shapes' messages and the generated templates show as an example,
    with where it appears. A template's placeholders (…/CHANGE-ME) and its own subject
    (…/id/{type}/example, which the contributor renames) are not examples of existing things.
    """
    found: dict[str, set[str]] = {}
    for shape, message in shapes.subject_objects(SH.message):
        for iri in EXAMPLE_IRI.findall(str(message)):
            found.setdefault(iri, set()).add(f"sh:message of {shape}")
    maker = TemplateMaker(shapes, ontology)
    for name, cls in maker.names().items():
        own = f"{BASE_IRI}id/{WRITABLE[str(cls)][1]}/example"
        for lang in ("en", "nl"):
            text = maker.render(name, lang)
            # The comments by pattern; the values from the parsed Turtle too, so that an IRI
            # written as a prefixed name is not missed.
            parsed = Graph().parse(data=text, format="turtle")
            terms = {str(t) for triple in parsed for t in triple if isinstance(t, URIRef)}
            in_id = {t for t in terms if t.startswith(f"{BASE_IRI}id/")}
            for iri in {*EXAMPLE_IRI.findall(text), *in_id}:
                if iri != own and not iri.endswith(PLACEHOLDER):
                    found.setdefault(iri, set()).add(f"template {name}")
    return found


def test_example_iri_pattern() -> None:
    text = (
        "e.g. meent:inCohort <https://w3id.org/meent/id/cohort/amsterdoen-2024> . See "
        "https://w3id.org/meent/id/commons/noordoogst. Or <https://w3id.org/meent/id/person/{slug}>"
    )
    assert EXAMPLE_IRI.findall(text) == [
        "https://w3id.org/meent/id/cohort/amsterdoen-2024",
        "https://w3id.org/meent/id/commons/noordoogst",
        "https://w3id.org/meent/id/person/{slug}",
    ]


def test_example_iris_in_messages_and_templates_exist() -> None:
    """An example a contributor copies must name something real: the curated graph (ontology
    and data, as published) describes every Meent IRI the shapes and templates show."""
    shapes = load_turtle_dir(SHAPES)
    ontology = load_turtle_dir(ROOT / "ontology")
    curated = ontology + load_turtle_dir(ROOT / "data")
    found = example_iris(shapes, ontology)
    assert len(found) >= 20, "the collector found hardly any examples"
    missing = {
        iri: where for iri, where in found.items() if (URIRef(iri), RDF.type, None) not in curated
    }
    listed = "\n".join(
        f"{iri} (in {', '.join(sorted(where))})" for iri, where in sorted(missing.items())
    )
    assert not missing, f"examples that the curated graph does not describe:\n{listed}"
