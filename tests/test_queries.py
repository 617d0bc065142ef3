"""The research questions in queries/ and the quality checks in queries/checks/.

Every query runs against the real curated graph — ontology/*.ttl in the ontology graph, each
data/*.ttl in its own data graph, the default graph the union, as the service serves it — and
must give what its ``#+ expect:`` header promises. Every check must return no rows on the
curated graph and at least one row once a deliberately broken resource is added, so each check
is proven to bite. The last part tests service/rdf/queries.py itself: header parsing, the
expectation language and the sh:SPARQLExecutable publication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

from service.rdf.queries import (
    GRAPH_KINDS,
    SELECT_KINDS,
    SPEX,
    ExampleQuery,
    Expectation,
    QueryHeaderError,
    example_iri,
    examples_graph,
    header_lines,
    parse_expectation,
    parse_header,
    query_form,
    read_queries,
    read_query,
)
from service.vocab import SCHEMA

ROOT = Path(__file__).parent.parent
QUERIES = ROOT / "queries"
CHECKS = QUERIES / "checks"
GRAPH = "https://w3id.org/meent/graph/"
ONTOLOGY_GRAPH = ox.NamedNode(GRAPH + "ontology")
BROKEN_GRAPH = ox.NamedNode(GRAPH + "contribution/test-broken")
ID = "https://w3id.org/meent/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
ENDPOINT = "https://w3id.org/meent/sparql"

EXAMPLES = read_queries(QUERIES)
QUALITY_CHECKS = read_queries(CHECKS)


def _slug(example: ExampleQuery) -> str:
    return example.slug


# ---------------------------------------------------------------- the curated graph


def _sources() -> list[tuple[Path, ox.NamedNode]]:
    ontology = [(path, ONTOLOGY_GRAPH) for path in sorted((ROOT / "ontology").glob("*.ttl"))]
    data = [
        (path, ox.NamedNode(f"{GRAPH}data/{path.stem}"))
        for path in sorted((ROOT / "data").glob("*.ttl"))
    ]
    return ontology + data


def _load(sources: list[tuple[Path, ox.NamedNode]]) -> ox.Store:
    store = ox.Store()
    for path, graph in sources:
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=graph)
    return store


@pytest.fixture(scope="module")
def curated() -> ox.Store:
    """The curated graph in memory, one named graph per source as the loader makes them."""
    return _load(_sources())


@pytest.fixture(scope="module")
def curated_reversed() -> ox.Store:
    """The same graph loaded in the opposite order: answers must not depend on load order."""
    return _load(list(reversed(_sources())))


@pytest.fixture(scope="module")
def curated_nquads(curated: ox.Store) -> bytes:
    return curated.dump(format=ox.RdfFormat.N_QUADS)


# ---------------------------------------------------------------- running and judging


@dataclass
class Answer:
    """A query's answer, materialised: solutions, a boolean or triples."""

    variables: list[str] | None = None
    rows: list[dict[str, ox.NamedNode | ox.Literal | ox.BlankNode | None]] | None = None
    boolean: bool | None = None
    triples: list[ox.Triple] | None = None


def run(store: ox.Store, query_text: str) -> Answer:
    result = store.query(query_text, use_default_graph_as_union=True)
    if isinstance(result, ox.QueryBoolean):
        return Answer(boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [variable.value for variable in result.variables]
        rows = [{name: solution[name] for name in variables} for solution in result]
        return Answer(variables=variables, rows=rows)
    return Answer(triples=list(result))


def _matches(row: dict, bindings: dict) -> bool:
    return all(row.get(name) == term for name, term in bindings.items())


def _fits(triple: ox.Triple, pattern: tuple) -> bool:
    parts = (triple.subject, triple.predicate, triple.object)
    return all(want is None or want == got for want, got in zip(pattern, parts, strict=True))


def judge(expectation: Expectation, answer: Answer) -> str | None:
    """None when the answer keeps the promise, else what went wrong."""
    kind, count = expectation.kind, expectation.count
    if kind == "ask":
        if answer.boolean is None:
            return "'ask' on a query that is not ASK"
        return None if answer.boolean == expectation.answer else f"answered {answer.boolean}"
    if kind in SELECT_KINDS:
        if answer.rows is None or answer.variables is None:
            return f"{kind!r} on a query that is not SELECT"
        rows = answer.rows
        unknown = set(expectation.bindings) - set(answer.variables)
        if unknown:
            return f"no such result variable: {sorted(unknown)}"
        if kind == "rows" and len(rows) != count:
            return f"{len(rows)} rows"
        if kind == "min-rows" and len(rows) < (count or 0):
            return f"only {len(rows)} rows"
        if kind == "max-rows" and len(rows) > (count or 0):
            return f"{len(rows)} rows"
        if kind == "row" and not any(_matches(row, expectation.bindings) for row in rows):
            return "no row matches"
        if kind == "no-row" and any(_matches(row, expectation.bindings) for row in rows):
            return "a row matches"
        if kind == "first-row" and not (rows and _matches(rows[0], expectation.bindings)):
            return f"first row is {rows[0] if rows else None}"
        return None
    if kind in GRAPH_KINDS:
        if answer.triples is None:
            return f"{kind!r} on a query that is not CONSTRUCT or DESCRIBE"
        triples = answer.triples
        if kind == "min-triples" and len(triples) < (count or 0):
            return f"only {len(triples)} triples"
        if kind == "max-triples" and len(triples) > (count or 0):
            return f"{len(triples)} triples"
        pattern = expectation.pattern or (None, None, None)
        if kind == "triple" and not any(_fits(t, pattern) for t in triples):
            return "no such triple"
        if kind == "no-triple" and any(_fits(t, pattern) for t in triples):
            return "such a triple is there"
        return None
    return f"unknown expectation kind {kind!r}"


def broken_promises(example: ExampleQuery, answer: Answer) -> list[str]:
    return [
        f"{expectation.text}: {problem}"
        for expectation in example.expectations
        if (problem := judge(expectation, answer)) is not None
    ]


# ---------------------------------------------------------------- the research questions


#: The model areas of ontology/README.md ("The model by area") and the tag that marks the
#: example questions exercising each one: a researcher finds them by it in the query editor.
MODEL_AREA_TAGS = {
    "events in a collaboration": "events",
    "qualified public roles": "public roles",
    "the commons and its governance": "commons",
    "provenance per statement": "provenance",
    "participation over time": "participation",
    "kinds of organisation and place": "organisations",
}


def test_enough_questions_in_every_form() -> None:
    assert len(EXAMPLES) >= 30
    forms = {example.query_form for example in EXAMPLES}
    assert {"select", "ask", "construct"} <= forms
    assert len({example.slug for example in EXAMPLES}) == len(EXAMPLES)


@pytest.mark.parametrize("area", sorted(MODEL_AREA_TAGS))
def test_every_model_area_has_a_question(area: str) -> None:
    tagged = [e.slug for e in EXAMPLES if MODEL_AREA_TAGS[area] in e.tags]
    assert tagged, f"no example question tagged {MODEL_AREA_TAGS[area]!r} for {area}"


@pytest.mark.parametrize("example", EXAMPLES + QUALITY_CHECKS, ids=_slug)
def test_header_is_bilingual_and_tagged(example: ExampleQuery) -> None:
    for key in ("summary", "description"):
        texts = getattr(example, key)
        assert set(texts) == {"nl", "en"}, key
        assert all(len(text) > 5 for text in texts.values()), key
    assert example.tags and all(example.tags)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", example.slug)


@pytest.mark.parametrize("example", EXAMPLES + QUALITY_CHECKS, ids=_slug)
def test_header_reads_as_grlc_yaml(example: ExampleQuery) -> None:
    """grlc parses the decorators with a YAML parser: ours must mean the same to it."""
    text = example.path.read_text(encoding="utf-8")
    assert yaml.safe_load("\n".join(header_lines(text))) == parse_header(text)


@pytest.mark.parametrize("example", EXAMPLES + QUALITY_CHECKS, ids=_slug)
def test_query_declares_only_prefixes_it_uses(example: ExampleQuery) -> None:
    declared = re.findall(r"^PREFIX\s+(\w*):", example.query_text, flags=re.MULTILINE)
    body = re.sub(r"^PREFIX.*$", "", example.query_text, flags=re.MULTILINE)
    unused = [prefix for prefix in declared if not re.search(rf"\b{prefix}:", body)]
    assert not unused


@pytest.mark.parametrize("example", EXAMPLES, ids=_slug)
def test_question_states_a_checkable_promise(example: ExampleQuery) -> None:
    assert example.expectations, "no '#+ expect:' lines"
    assert any(e.names_a_fact for e in example.expectations), "no expectation names a fact"
    allowed = {
        "select": SELECT_KINDS,
        "ask": {"ask"},
        "construct": GRAPH_KINDS,
        "describe": GRAPH_KINDS,
    }[example.query_form]
    assert {e.kind for e in example.expectations} <= allowed


@pytest.mark.parametrize("example", EXAMPLES, ids=_slug)
def test_question_answers_what_it_promises(curated: ox.Store, example: ExampleQuery) -> None:
    answer = run(curated, example.query_text)
    assert not broken_promises(example, answer)


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES + QUALITY_CHECKS if e.query_form == "select"], ids=_slug
)
def test_select_order_is_deterministic(
    curated: ox.Store, curated_reversed: ox.Store, example: ExampleQuery
) -> None:
    assert re.search(r"\bORDER\s+BY\b", example.query_text, flags=re.IGNORECASE)
    assert run(curated, example.query_text).rows == run(curated_reversed, example.query_text).rows


def test_a_wrong_answer_is_caught(curated: ox.Store) -> None:
    """The promises really check rows: a query with a wrong theme breaks its promise."""
    example = next(e for e in EXAMPLES if e.slug == "koppels-per-theme")
    wrong = example.query_text.replace("meent:theme ?theme", "meent:inCohort ?theme")
    assert broken_promises(example, run(curated, wrong))


# ---------------------------------------------------------------- the quality checks


@pytest.mark.parametrize("check", QUALITY_CHECKS, ids=_slug)
def test_check_passes_on_curated_graph(curated: ox.Store, check: ExampleQuery) -> None:
    assert check.slug.endswith("-violation")
    assert check.query_form == "select"
    answer = run(curated, check.query_text)
    assert answer.rows == []


PREFIXES = """
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX meent: <https://w3id.org/meent/def#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX id: <https://w3id.org/meent/id/>
"""
SOURCED = "prov:wasDerivedFrom id:source\\/publiek-collectief-samenwerken-hoedan"
RECORD = ID + "contribution/20240101-000000000000"  # a contribution record's IRI
#: The checks skip the service's records of contributions only in a contribution's graph and
#: the example questions only in the queries graph: the same things elsewhere are reported.
IN_DATA = f"GRAPH <{GRAPH}data/test-broken>"
IN_QUERIES = f"GRAPH <{GRAPH}queries>"

#: check → (TriG to add to the curated graph, an IRI the check must then report). Triples
#: outside a GRAPH block go into a contribution's graph, BROKEN_GRAPH.
BROKEN: list[tuple[str, str, str]] = [
    (
        "koppel-without-cohort-violation",
        f'id:koppel\\/2024-test a meent:Koppel ; rdfs:label "Test"@en ; {SOURCED} .',
        ID + "koppel/2024-test",
    ),
    (
        "koppel-without-cohort-violation",
        "id:koppel\\/2024-noordoogst meent:inCohort id:cohort\\/other-2025 .",
        ID + "koppel/2024-noordoogst",
    ),
    (
        "concept-outside-scheme-violation",
        "id:commons\\/noordoogst meent:theme id:barrier\\/long-timelines .",
        ID + "barrier/long-timelines",
    ),
    (
        "label-missing-language-violation",
        f'id:commons\\/test a meent:Commons ; rdfs:label "Test" ; {SOURCED} .',
        ID + "commons/test",
    ),
    (
        "label-missing-language-violation",
        f'{IN_DATA} {{ id:contributor\\/jan a prov:Agent ; rdfs:label "Jan" ; {SOURCED} . }}',
        ID + "contributor/jan",
    ),
    (
        "resource-without-source-violation",
        'id:commons\\/test a meent:Commons ; rdfs:label "Test"@nl .',
        ID + "commons/test",
    ),
    (
        "resource-without-source-violation",
        f'{IN_DATA} {{ id:contributor\\/jan a prov:Agent ; rdfs:label "Jan"@nl . }}',
        ID + "contributor/jan",
    ),
    (
        "resource-without-source-violation",
        f'{IN_QUERIES} {{ id:commons\\/test a meent:Commons ; rdfs:label "Test"@nl . }}',
        ID + "commons/test",
    ),
    (
        "person-without-consent-violation",
        f'id:person\\/jan a foaf:Person ; foaf:name "Jan" ; {SOURCED} .',
        ID + "person/jan",
    ),
    (
        "person-with-contact-details-violation",
        'id:person\\/jan a foaf:Person ; foaf:name "Jan" ; foaf:mbox <mailto:jan@example.org> .',
        ID + "person/jan",
    ),
    (
        "iri-not-following-pattern-violation",
        f'<{ID}commons/Test_Collective> a meent:Commons ; rdfs:label "T"@en ; {SOURCED} .',
        ID + "commons/Test_Collective",
    ),
    (
        "iri-not-following-pattern-violation",
        f'id:organisation\\/a-koppel a meent:Koppel ; rdfs:label "T"@en ; {SOURCED} .',
        ID + "organisation/a-koppel",
    ),
    (
        "iri-not-following-pattern-violation",
        f'<{ID}koppel/2024-test#part> a meent:Koppel ; rdfs:label "T"@en ; {SOURCED} .',
        ID + "koppel/2024-test#part",
    ),
    (
        "iri-not-following-pattern-violation",
        f'{IN_DATA} {{ <{RECORD}#part> a prov:Activity ; rdfs:label "T"@en ; {SOURCED} . }}',
        RECORD + "#part",
    ),
    (
        "dates-out-of-order-violation",
        'id:cohort\\/amsterdoen-2024 schema:endDate "2023-12-31"^^xsd:date .',
        ID + "cohort/amsterdoen-2024",
    ),
    (
        "dangling-reference-violation",
        "id:commons\\/noordoogst dct:spatial id:district\\/amsterdam-nord .",
        ID + "district/amsterdam-nord",
    ),
    (
        "dangling-reference-violation",
        f"{IN_DATA} {{ <{RECORD}> prov:wasRevisionOf <{RECORD}#sha256-0> . }}",
        RECORD + "#sha256-0",
    ),
    (
        "source-without-page-violation",
        'id:source\\/test a meent:SourceDocument ; dct:title "Test"@nl .',
        ID + "source/test",
    ),
    (
        "koppel-link-wrong-type-violation",
        "id:koppel\\/2024-noordoogst meent:initiative id:organisation\\/meentcoop .",
        ID + "organisation/meentcoop",
    ),
    (
        "unit-without-parent-violation",
        f'id:unit\\/test a org:OrganizationalUnit ; rdfs:label "T"@en ; {SOURCED} .',
        ID + "unit/test",
    ),
]


def test_every_check_is_proven_to_bite() -> None:
    assert {check.slug for check in QUALITY_CHECKS} == {slug for slug, _, _ in BROKEN}


@pytest.mark.parametrize(("slug", "trig", "reported"), BROKEN, ids=[b[0] for b in BROKEN])
def test_check_reports_a_broken_graph(
    curated_nquads: bytes, slug: str, trig: str, reported: str
) -> None:
    store = ox.Store()
    store.bulk_load(curated_nquads, format=ox.RdfFormat.N_QUADS)
    store.load((PREFIXES + trig).encode(), format=ox.RdfFormat.TRIG, to_graph=BROKEN_GRAPH)
    check = next(c for c in QUALITY_CHECKS if c.slug == slug)
    rows = run(store, check.query_text).rows or []
    assert any(ox.NamedNode(reported) in row.values() for row in rows), rows


# ---------------------------------------------------------------- service/rdf/queries.py

SAMPLE = """#+ summary: Koppels per theme / Koppels per thema
#+ description: Which themes. / Welke thema's.
#+ tags:
#+   - koppels
#+   - themes
#+ expect:
#+   - rows 7
#+   - row ?theme=<https://w3id.org/meent/id/theme/food> ?n=3

PREFIX meent: <https://w3id.org/meent/def#>

# the koppels
SELECT ?theme (COUNT(*) AS ?n) WHERE { ?k meent:theme ?theme } GROUP BY ?theme ORDER BY ?theme
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_query_parses_the_header(tmp_path: Path) -> None:
    example = read_query(_write(tmp_path, "koppels-per-theme.rq", SAMPLE))
    assert example.slug == "koppels-per-theme"
    assert example.summary == {"en": "Koppels per theme", "nl": "Koppels per thema"}
    assert example.description == {"en": "Which themes.", "nl": "Welke thema's."}
    assert example.tags == ("koppels", "themes")
    assert example.query_form == "select"
    assert example.query_text.startswith("PREFIX meent:")
    assert "#+" not in example.query_text and "# the koppels" in example.query_text
    assert [e.kind for e in example.expectations] == ["rows", "row"]
    assert example.expectations[0].count == 7
    assert example.expectations[1].bindings == {
        "theme": ox.NamedNode(ID + "theme/food"),
        "n": ox.Literal("3", datatype=ox.NamedNode(XSD + "integer")),
    }


def test_single_line_tags_and_expectation(tmp_path: Path) -> None:
    text = SAMPLE.replace("#+ tags:\n#+   - koppels\n#+   - themes\n", "#+ tags: koppels\n")
    text = text.replace("#+ expect:\n#+   - rows 7\n", "#+ expect: rows 7\n")
    text = "\n".join(line for line in text.splitlines() if "?theme=<" not in line)
    example = read_query(_write(tmp_path, "q.rq", text))
    assert example.tags == ("koppels",)
    assert [e.text for e in example.expectations] == ["rows 7"]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (SAMPLE.replace(" / Koppels per thema", ""), "summary"),
        (SAMPLE.replace("#+ description: Which themes. / Welke thema's.\n", ""), "description"),
        (SAMPLE.replace("rows 7", "rows seven"), "number"),
        (SAMPLE.replace("rows 7", "lines 7"), "unknown expectation"),
        (SAMPLE.replace("?n=3", "?n=ex:three"), "unknown prefix"),
        (SAMPLE.replace("#+ tags:", "#+ tags:\n#+ tags:"), "twice"),
        (SAMPLE.replace("SELECT", "INSERT DATA {} #"), "not a SELECT"),
    ],
)
def test_bad_headers_are_refused(tmp_path: Path, broken: str, message: str) -> None:
    with pytest.raises(QueryHeaderError, match=message):
        read_query(_write(tmp_path, "bad.rq", broken))


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("PREFIX ex: <http://example.org/a#>\nSELECT * WHERE {}", "select"),
        ("# a comment with ASK in it\nBASE <http://e/>\nask {}", "ask"),
        ("PREFIX : <http://e/#>\nCONSTRUCT WHERE { ?s ?p ?o }", "construct"),
        ("DESCRIBE <http://example.org/x>", "describe"),
    ],
)
def test_query_form(text: str, form: str) -> None:
    assert query_form(text) == form


LANG_NL = ox.Literal("gronduitgever", language="nl")


@pytest.mark.parametrize(
    ("text", "bindings"),
    [
        ('row ?label="gronduitgever"@nl', {"label": LANG_NL}),
        ('row ?t="a \\"quoted\\" b"', {"t": ox.Literal('a "quoted" b')}),
        (
            'row ?y="2035"^^xsd:gYear',
            {"y": ox.Literal("2035", datatype=ox.NamedNode(XSD + "gYear"))},
        ),
        (
            "row ?s=0.35 ?b=true",
            {
                "s": ox.Literal("0.35", datatype=ox.NamedNode(XSD + "decimal")),
                "b": ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean")),
            },
        ),
        (
            "no-row ?x=UNDEF ?c=meent:Koppel",
            {
                "x": None,
                "c": ox.NamedNode("https://w3id.org/meent/def#Koppel"),
            },
        ),
    ],
)
def test_expectation_terms(text: str, bindings: dict) -> None:
    assert dict(parse_expectation(text).bindings) == bindings


def test_triple_and_ask_expectations() -> None:
    triple = parse_expectation(f"triple <{ID}a> rdfs:label UNDEF")
    assert triple.pattern == (
        ox.NamedNode(ID + "a"),
        ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
        None,
    )
    assert parse_expectation("ask false").answer is False
    assert not parse_expectation("no-triple UNDEF UNDEF UNDEF").names_a_fact
    with pytest.raises(QueryHeaderError):
        parse_expectation(f"triple <{ID}a> rdfs:label")


def test_examples_graph_publishes_one_executable_per_query() -> None:
    graph = examples_graph(EXAMPLES, ENDPOINT)
    executables = set(graph.subjects(RDF.type, SH.SPARQLExecutable))
    assert executables == {example_iri(example.slug) for example in EXAMPLES}
    for example in EXAMPLES:
        node = URIRef(f"https://w3id.org/meent/id/query/{example.slug}")
        form_class, text_property = {
            "select": (SH.SPARQLSelectExecutable, SH.select),
            "ask": (SH.SPARQLAskExecutable, SH.ask),
            "construct": (SH.SPARQLConstructExecutable, SH.construct),
        }[example.query_form]
        assert (node, RDF.type, form_class) in graph
        assert list(graph.objects(node, text_property)) == [Literal(example.query_text)]
        assert (node, RDFS.label, Literal(example.summary["nl"], lang="nl")) in graph
        assert (node, RDFS.label, Literal(example.summary["en"], lang="en")) in graph
        assert (node, RDFS.comment, Literal(example.description["en"], lang="en")) in graph
        assert set(graph.objects(node, SCHEMA.keywords)) == {Literal(t) for t in example.tags}
        assert list(graph.objects(node, SCHEMA.target)) == [URIRef(ENDPOINT)]


def test_examples_graph_publishes_describe_with_sib_term(tmp_path: Path) -> None:
    text = SAMPLE.split("PREFIX")[0] + f"DESCRIBE <{ID}commons/noordoogst>\n"
    example = read_query(_write(tmp_path, "describe-noordoogst.rq", text))
    graph = examples_graph([example], ENDPOINT, base_iri="http://127.0.0.1:8000/")
    node = URIRef("http://127.0.0.1:8000/id/query/describe-noordoogst")
    assert (node, RDF.type, SH.SPARQLExecutable) in graph
    assert list(graph.objects(node, SPEX.describe)) == [Literal(example.query_text)]


def test_examples_graph_text_runs_on_the_store(curated: ox.Store) -> None:
    """What is published is the runnable query, not the file with its header."""
    graph = examples_graph(EXAMPLES, ENDPOINT)
    for text in graph.objects(None, SH.select):
        run(curated, str(text))
