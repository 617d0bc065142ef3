"""The benchmark's data generator (``bench/generate.py``, issue 7): deterministic, on size,
well-formed, valid against Meent's own shapes, and skewed the way real data is."""

from __future__ import annotations

import importlib
import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pyoxigraph
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from service.contrib.validation import Validator

ROOT = Path(__file__).resolve().parent.parent
MEENT = "https://w3id.org/meent/def#"
ID_IRI = re.compile(r"^https://w3id\.org/meent/id/([a-z]+(?:-[a-z]+)*)/([a-z0-9]+(?:-[a-z0-9]+)*)$")
ID_SCHEME = "https://w3id.org/meent/id/scheme/"
TOOI_IRI = re.compile(r"^https://identifier\.overheid\.nl/tooi/id/gemeente/gm\d{4}$")
CONCEPT_PREDICATES = [
    MEENT + "theme",
    MEENT + "instrument",
    MEENT + "barrier",
    MEENT + "addressesBarrier",
    MEENT + "formalBasis",
    MEENT + "collaborationForm",
    MEENT + "municipalRole",
    "http://www.w3.org/ns/regorg#orgType",
]


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    """``bench.generate`` (the project root is on ``sys.path``: pytest's ``pythonpath``)."""
    return importlib.import_module("bench.generate")


@pytest.fixture(scope="module")
def text_50k(gen: ModuleType) -> str:
    return "".join(gen.generate(50_000, 42))


@pytest.fixture(scope="module")
def store_50k(text_50k: str) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(text_50k, format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


def _run_cli(triples: str, seed: int, out: Path, hash_seed: str) -> subprocess.CompletedProcess:
    # A different PYTHONHASHSEED per run: output that depended on set or dict-of-str iteration
    # order would differ between the two processes.
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    command = ["-m", "bench.generate", "--triples", triples, "--seed", str(seed), "--out", str(out)]
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_same_seed_and_size_give_identical_bytes_across_processes(
    gen: ModuleType, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.nt", tmp_path / "b.nt"
    for out, hash_seed in ((first, "1"), (second, "2")):
        run = _run_cli("10k", 42, out, hash_seed)
        assert run.returncode == 0, run.stderr
        assert "triples/s" in run.stderr
    assert first.read_bytes() == second.read_bytes()
    # The CLI writes exactly what the function yields.
    assert first.read_text(encoding="utf-8") == "".join(gen.generate(10_000, 42))


def test_a_different_seed_gives_a_different_graph(gen: ModuleType) -> None:
    one = "".join(gen.generate(10_000, 42))
    other = "".join(gen.generate(10_000, 43))
    assert one != other
    # Not just reordered: the sets of triples differ.
    assert set(one.splitlines()) != set(other.splitlines())


@pytest.mark.parametrize(("target", "seed"), [(10_000, 42), (10_000, 7), (50_000, 42)])
def test_size_is_within_one_percent(gen: ModuleType, target: int, seed: int) -> None:
    count = sum(1 for _ in gen.generate(target, seed))
    assert abs(count - target) <= target // 100, count


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100k", 100_000), ("1M", 1_000_000), ("10M", 10_000_000), ("2.5m", 2_500_000),
     ("12345", 12_345), ("10_000", 10_000)],
)  # fmt: skip
def test_sizes_are_read_as_the_issue_writes_them(gen: ModuleType, text: str, expected: int) -> None:
    assert gen.parse_size(text) == expected


def test_a_size_below_the_backbone_is_refused(gen: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        next(gen.generate(500, 42))
    run = _run_cli("500", 42, tmp_path / "x.nt", "0")
    assert run.returncode == 2
    assert not (tmp_path / "x.nt").exists()


def test_every_line_is_one_distinct_n_triples_statement(
    text_50k: str, store_50k: pyoxigraph.Store
) -> None:
    lines = text_50k.splitlines()
    parsed = list(pyoxigraph.parse(text_50k, format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert len(parsed) == len(lines)
    # No duplicates: the size the generator reports is the size a store holds.
    assert len(store_50k) == len(lines)
    assert all(line.endswith(" .") for line in lines)


def test_iris_follow_meent_and_tooi_patterns(store_50k: pyoxigraph.Store) -> None:
    types_seen = set()
    for quad in store_50k:
        subject = quad.subject.value
        match = ID_IRI.match(subject)
        assert match or TOOI_IRI.match(subject), subject
        if match:
            types_seen.add(match.group(1))
        if isinstance(quad.object, pyoxigraph.NamedNode) and quad.object.value.startswith(
            "https://w3id.org/meent/id/"
        ):
            assert ID_IRI.match(quad.object.value), quad.object.value
    # Every kind of resource the issue asks for is there at 50k.
    assert types_seen >= {
        "commons", "unit", "district", "programme", "cohort", "koppel", "collaboration",
        "practice", "lesson", "source", "toolbox", "goal", "event",
    }  # fmt: skip


def test_concepts_exist_in_the_ontology(store_50k: pyoxigraph.Store) -> None:
    schemes = Graph().parse(ROOT / "ontology" / "schemes.ttl")
    concepts = {str(c) for c in schemes.subjects(RDF.type, SKOS.Concept)}
    used = set()
    for predicate in CONCEPT_PREDICATES:
        for quad in store_50k.quads_for_pattern(None, pyoxigraph.NamedNode(predicate), None):
            used.add(quad.object.value)
    assert used, "no concepts used at all"
    assert used <= concepts, sorted(used - concepts)
    # Popular enough to matter: most themes appear.
    themes = {str(c) for c in schemes.subjects(SKOS.inScheme, URIRef(ID_SCHEME + "themes"))}
    assert len(used & themes) >= len(themes) - 2


def test_no_dangling_references(store_50k: pyoxigraph.Store) -> None:
    """Every resource of the generated graph that another one points to is described in it
    (concepts excepted: they live in the ontology graph)."""
    described = {quad.subject.value for quad in store_50k}
    for quad in store_50k:
        target = quad.object
        if not isinstance(target, pyoxigraph.NamedNode) or quad.predicate.value in (
            str(RDF.type),
            *CONCEPT_PREDICATES,
        ):
            continue
        if ID_IRI.match(target.value) or TOOI_IRI.match(target.value):
            assert target.value in described, (quad.subject.value, quad.predicate.value)


def test_generated_resources_never_clash_with_the_curated_data(store_50k: pyoxigraph.Store) -> None:
    curated = Graph()
    for path in sorted((ROOT / "data").glob("*.ttl")):
        curated.parse(path)
    curated_subjects = {str(s) for s in curated.subjects()}
    generated = {quad.subject.value for quad in store_50k}
    assert not curated_subjects & generated


def test_valid_against_meent_shapes(gen: ModuleType) -> None:
    graph = Graph().parse(data="".join(gen.generate(5_000, 42)), format="nt")
    report = Validator.from_project(ROOT).validate(graph)
    assert report.violations == (), [
        (str(r.focus), str(r.source_shape), r.message("en")) for r in report.violations[:10]
    ]
    # The one recommendation it leaves unmet on purpose: some collectives have no website.
    warned_shapes = Counter(str(r.source_shape).rsplit("#", 1)[1] for r in report.warnings)
    assert set(warned_shapes) <= {"CommonsShape-homepage"}, warned_shapes


def _counts(store: pyoxigraph.Store, query: str) -> list[int]:
    return [int(row[0].value) for row in store.query(query)]


def test_popularity_is_skewed(store_50k: pyoxigraph.Store) -> None:
    prefix = f"PREFIX m: <{MEENT}> PREFIX dct: <http://purl.org/dc/terms/> "
    per_theme = _counts(
        store_50k,
        prefix + "SELECT (COUNT(?k) AS ?n) WHERE { ?k a m:Koppel ; m:theme ?t } GROUP BY ?t",
    )
    assert len(per_theme) >= 5
    assert max(per_theme) >= 3 * statistics.median(per_theme), sorted(per_theme)

    per_unit = _counts(
        store_50k,
        prefix + "SELECT (COUNT(?k) AS ?n) WHERE { ?k m:municipalUnit ?u } GROUP BY ?u",
    )
    assert max(per_unit) >= 3 * statistics.median(per_unit), sorted(per_unit)

    per_town = _counts(
        store_50k,
        prefix + "SELECT (COUNT(?c) AS ?n) WHERE { ?c a m:Commons ; dct:spatial/m:municipality "
        "?g } GROUP BY ?g",
    )
    assert max(per_town) >= 2 * statistics.median(per_town), sorted(per_town)


def test_koppels_are_in_exactly_one_cohort_of_their_own_town(store_50k: pyoxigraph.Store) -> None:
    prefix = f"PREFIX m: <{MEENT}> PREFIX org: <http://www.w3.org/ns/org#> "
    koppels = _counts(store_50k, prefix + "SELECT (COUNT(?k) AS ?n) WHERE { ?k a m:Koppel }")[0]
    assert koppels > 100
    per_koppel = _counts(
        store_50k,
        prefix + "SELECT (COUNT(?c) AS ?n) WHERE { ?k a m:Koppel ; m:inCohort ?c } GROUP BY ?k",
    )
    assert len(per_koppel) == koppels
    assert set(per_koppel) == {1}
    # The cohort's programme is organised by the municipality the koppel's unit belongs to.
    in_own_town = _counts(
        store_50k,
        prefix + "SELECT (COUNT(DISTINCT ?k) AS ?n) WHERE { ?k a m:Koppel ; m:inCohort ?c ; "
        "m:municipalUnit/org:unitOf ?g . ?c m:cohortOf/m:organiser ?g }",
    )[0]
    assert in_own_town == koppels
