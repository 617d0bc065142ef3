"""Incremental validation finds what whole-graph validation finds, with only the context the
contribution touches — so its cost does not grow with the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from service.contrib.incremental import IncrementalValidator, fetch_context, focus_nodes
from service.contrib.pyshacl_tuning import ShapesGraph
from service.contrib.validation import Validator
from service.rdf.parsing import parse_rdf
from service.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[1]
#: Every fourth per-shape case (all of them would take half a minute of whole-graph runs).
INVALID = sorted((ROOT / "tests/shapes/invalid").glob("*.ttl"))[::4]
BASE = "https://w3id.org/meent/"
SKOS = "http://www.w3.org/2004/02/skos/core#"


@pytest.fixture(scope="module")
def validators() -> tuple[IncrementalValidator, Validator]:
    return IncrementalValidator.from_project(ROOT), Validator.from_project(ROOT)


async def _model_store() -> OxigraphStore:
    store = OxigraphStore()
    for folder in ("ontology", "shapes"):
        for path in sorted((ROOT / folder).glob("*.ttl")):
            await store.replace_graph(f"{BASE}graph/{folder}/{path.stem}", path.read_bytes())
    return store


async def _store_with_old_koppel() -> OxigraphStore:
    """The model, and a published koppel without a cohort."""
    store = await _model_store()
    await store.replace_graph(
        f"{BASE}graph/data/old",
        f"<{BASE}id/koppel/old> a <{BASE}def#Koppel> ; <{BASE}def#theme> <{BASE}id/theme/food> .",
    )
    return store


def _key(results: object) -> list[tuple[str, str]]:
    # Complex paths are blank nodes, different in each run: compare the focus and severity.
    return sorted(
        (str(r.focus), str(r.path) if isinstance(r.path, URIRef) else "[]") for r in results
    )  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_same_results_as_whole_graph_validation(validators) -> None:
    incremental, whole = validators
    store = await _model_store()
    for path in INVALID:
        data = parse_rdf(path.read_bytes())
        found = await incremental.validate(store, data)
        expected = whole.validate(data)
        # Warnings too: the recommended shapes count qualified values (sh:qualifiedValueShape),
        # whose nested checks must see every value, not only the contribution's own nodes.
        assert _key(found.results) == _key(expected.results), path.name
        assert not found.conforms


@pytest.mark.anyio
async def test_context_is_what_the_contribution_touches_not_the_store(validators) -> None:
    store = await _model_store()
    filler = "\n".join(
        f"<{BASE}id/thing/t{n}> <{BASE}def#theme> <{BASE}id/theme/food> ." for n in range(20_000)
    )
    await store.replace_graph(f"{BASE}graph/data/filler", filler)
    data = parse_rdf(f"<{BASE}id/koppel/x> <{BASE}def#theme> <{BASE}id/theme/food> .".encode())
    context = await fetch_context(store, data)
    assert 0 < len(context) < 100
    assert (URIRef(f"{BASE}id/theme/food"), None, None) in context
    assert not any(str(s).startswith(f"{BASE}id/thing/") for s in context.subjects())


@pytest.mark.anyio
async def test_problems_already_published_are_not_blamed_on_a_contribution(validators) -> None:
    incremental, _ = validators
    # Published: a koppel without a cohort (a violation that is already there).
    store = await _store_with_old_koppel()
    data = parse_rdf(f'<{BASE}id/koppel/old> <{BASE}def#nextStep> "verder"@nl .'.encode())
    report = await incremental.validate(store, data)
    assert report.conforms, [r.message("en") for r in report.results]
    # …but a contribution that creates a conflict is refused: a second cohort.
    await store.replace_graph(
        f"{BASE}graph/data/cohorts",
        "\n".join(f"<{BASE}id/cohort/{c}> a <{BASE}def#Cohort> ." for c in ("a", "b"))
        + f"\n<{BASE}id/koppel/old> <{BASE}def#inCohort> <{BASE}id/cohort/a> .",
    )
    data = parse_rdf(f"<{BASE}id/koppel/old> <{BASE}def#inCohort> <{BASE}id/cohort/b> .".encode())
    report = await incremental.validate(store, data)
    assert [str(r.path) for r in report.violations] == [f"{BASE}def#inCohort"]


@pytest.mark.anyio
async def test_a_published_person_named_in_a_contribution_is_checked(validators) -> None:
    incremental, _ = validators
    store = await _model_store()
    # Published, untyped and without consent: no shape targets it until a koppel names it.
    await store.replace_graph(
        f"{BASE}graph/data/people", f'<{BASE}id/person/p> <http://xmlns.com/foaf/0.1/name> "P" .'
    )
    data = parse_rdf(f"<{BASE}id/koppel/k> <{BASE}def#civilServant> <{BASE}id/person/p> .".encode())
    report = await incremental.validate(store, data)
    assert f"{BASE}def#consent" in {
        str(r.path) for r in report.violations if str(r.focus).endswith("person/p")
    }


def test_focus_is_what_the_contribution_can_change() -> None:
    data = parse_rdf(
        f"""<{BASE}id/commons/new> <{BASE}def#theme> <{BASE}id/theme/food> ;
              <{BASE}def#partOf> <{BASE}id/koppel/old> .
            <{BASE}id/koppel/new> <{BASE}def#civilServant> <{BASE}id/person/p> .""".encode()
    )
    context = parse_rdf(
        f"""<{BASE}id/koppel/old> <{BASE}def#initiative> <{BASE}id/commons/new> .
            <{BASE}id/theme/food> <{SKOS}inScheme> <{BASE}id/scheme/themes> .""".encode()
    )
    targeted = frozenset({URIRef(f"{BASE}def#civilServant")})
    assert {
        str(node).removeprefix(f"{BASE}id/") for node in focus_nodes(data, context, targeted)
    } == {
        "commons/new",  # a subject
        "koppel/new",  # a subject
        "person/p",  # becomes a target (sh:targetObjectsOf)
        "koppel/old",  # points back at a subject
    }  # not theme/food: its results depend on its own triples only


@pytest.mark.anyio
async def test_the_context_is_given_back_as_it_was(validators) -> None:
    incremental, _ = validators
    store = await _store_with_old_koppel()
    # Invalid (a second theme is fine, a literal cohort is not): both runs happen.
    data = parse_rdf(f'<{BASE}id/koppel/old> <{BASE}def#inCohort> "2024" .'.encode())
    context = await fetch_context(store, data)
    before = set(context)
    report = incremental.validate_with_context(data, context)
    assert report.violations
    assert set(context) == before


def test_the_shapes_graph_forgets_its_answers_when_it_changes() -> None:
    source = Graph()
    shape = URIRef(f"{BASE}shapes#S")
    source.add((shape, RDFS.label, Literal("one")))
    graph = ShapesGraph.of(source)
    assert set(graph.objects(shape, RDFS.label)) == {Literal("one")}
    graph.add((shape, RDFS.label, Literal("two")))
    assert set(graph.objects(shape, RDFS.label)) == {Literal("one"), Literal("two")}
    graph.remove((shape, RDFS.label, Literal("one")))
    assert set(graph.objects(shape, RDFS.label)) == {Literal("two")}
