"""The ontology (ontology/meent.ttl) and its concept schemes (ontology/schemes.ttl).

Checks the header, that every term is documented in Dutch and English, that the term list in
ontology/README.md (the contract shapes and data are written against) and the Turtle cannot
drift apart, and the IRI patterns of docs/architecture.md, "IRIs". The checks are small
functions that return a list of problems, so each one is also run on a tiny broken graph to
prove it bites.
"""

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS as DCT
from rdflib.namespace import OWL, PROV, RDF, RDFS, SKOS, VANN

from service.rdf.formatting import is_canonical
from service.vocab import MEENT, ORG, PREFIXES, SCHEMA

ROOT = Path(__file__).parent.parent
ONTOLOGY_FILES = [ROOT / "ontology" / "meent.ttl", ROOT / "ontology" / "schemes.ttl"]
README = ROOT / "ontology" / "README.md"

ONT = URIRef("https://w3id.org/meent/def")
ID = "https://w3id.org/meent/id/"
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SCHEME_IRI = re.compile(r"^https://w3id\.org/meent/id/scheme/(?P<slug>[^/]+)$")
CONCEPT_IRI = re.compile(r"^https://w3id\.org/meent/id/(?P<type>[^/]+)/(?P<slug>[^/]+)$")
DECLARATION_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty}
LANGS = ("nl", "en")
XSD = PREFIXES["xsd"]  # a plain string: pytest's collector trips over rdflib's XSD namespace
XSD_DATE = URIRef(XSD + "date")

SOURCE_LAUNCH = URIRef(ID + "source/publiek-collectief-samenwerken-hoedan")
SOURCE_AMSTERDOEN = URIRef(ID + "source/openresearch-amsterdoen")
SOURCE_BUURTRECHTEN = URIRef(ID + "source/buurtgroen020-buurtrechten")


# ---------------------------------------------------------------- checkers (pure functions)


def languages(graph: Graph, subject, predicate) -> set[str]:
    return {o.language for o in graph.objects(subject, predicate) if isinstance(o, Literal)}


def documentation_problems(graph: Graph) -> list[str]:
    """Every meent: term, concept and concept scheme: labels and definitions in nl and en,
    rdfs:isDefinedBy the ontology."""
    problems = []
    terms = {s for s in graph.subjects() if isinstance(s, URIRef) and s.startswith(str(MEENT))}
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    schemes = set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    for subject in sorted(terms | concepts | schemes):
        label = RDFS.label if subject in terms else SKOS.prefLabel
        for predicate in (label, SKOS.definition):
            for lang in sorted(set(LANGS) - languages(graph, subject, predicate)):
                problems.append(f"{subject}: no {graph.qname(predicate)}@{lang}")
        if (subject, RDFS.isDefinedBy, ONT) not in graph:
            problems.append(f"{subject}: not rdfs:isDefinedBy {ONT}")
    return problems


def declared_terms(graph: Graph) -> set[URIRef]:
    return {
        s
        for t in DECLARATION_TYPES
        for s in graph.subjects(RDF.type, t)
        if isinstance(s, URIRef) and s.startswith(str(MEENT))
    }


def used_meent_terms(graph: Graph) -> set[URIRef]:
    """Every meent: IRI in any position of any triple."""
    return {
        term
        for triple in graph
        for term in triple
        if isinstance(term, URIRef) and term.startswith(str(MEENT))
    }


def undeclared_terms(graph: Graph, ontology: Graph) -> set[URIRef]:
    return used_meent_terms(graph) - declared_terms(ontology)


def concept_problems(graph: Graph) -> list[str]:
    """IRI patterns, exactly one scheme per concept, and top concept or broader in that scheme."""
    problems = []
    for scheme in graph.subjects(RDF.type, SKOS.ConceptScheme):
        match = SCHEME_IRI.match(str(scheme))
        if not match or not SLUG.match(match["slug"]):
            problems.append(f"{scheme}: scheme IRI is not …/id/scheme/{{slug}}")
    for concept in graph.subjects(RDF.type, SKOS.Concept):
        match = CONCEPT_IRI.match(str(concept))
        if not match or not SLUG.match(match["type"]) or not SLUG.match(match["slug"]):
            problems.append(f"{concept}: concept IRI is not …/id/{{type}}/{{slug}}")
        schemes = set(graph.objects(concept, SKOS.inScheme))
        if len(schemes) != 1:
            problems.append(f"{concept}: in {len(schemes)} schemes, not exactly one")
            continue
        (scheme,) = schemes
        if (scheme, RDF.type, SKOS.ConceptScheme) not in graph:
            problems.append(f"{concept}: its scheme {scheme} is not a skos:ConceptScheme")
        top = (concept, SKOS.topConceptOf, scheme) in graph
        if top != ((scheme, SKOS.hasTopConcept, concept) in graph):
            problems.append(f"{concept}: skos:topConceptOf and skos:hasTopConcept disagree")
        broader = set(graph.objects(concept, SKOS.broader))
        if top == bool(broader):
            problems.append(f"{concept}: must be either a top concept or have a skos:broader")
        for parent in broader:
            if (parent, SKOS.inScheme, scheme) not in graph:
                problems.append(f"{concept}: broader {parent} is in another scheme")
            if (parent, SKOS.narrower, concept) not in graph:
                problems.append(f"{concept}: {parent} does not list it as skos:narrower")
        for lang in LANGS:
            labels = [o for o in graph.objects(concept, SKOS.prefLabel) if o.language == lang]
            if len(labels) > 1:
                problems.append(f"{concept}: {len(labels)} skos:prefLabel@{lang}")
    return problems


# ---------------------------------------------------------------- the README contract


def expand(curie: str) -> URIRef:
    prefix, local = curie.split(":", 1)
    return URIRef(PREFIXES[prefix] + local)


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The body rows of the first table under `## heading`, as lists of cell texts."""
    section = markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def curies(cell: str) -> list[URIRef]:
    return [expand(c) for c in re.findall(r"`([a-z]+:[A-Za-z]+)`", cell)]


def readme_contract(markdown: str) -> dict:
    """Parse the README tables: classes, properties and concept schemes."""
    classes = {}
    for name, parents, _ in table_rows(markdown, "Classes"):
        (term,) = curies(name)
        classes[term] = set(curies(parents))
    properties = {}
    for name, domain, range_, parents, _ in table_rows(markdown, "Properties (meent:)"):
        (term,) = curies(name)
        scheme = re.search(r"`scheme/([a-z-]+)`", range_)
        properties[term] = {
            "domain": curies(domain),
            "range": [SKOS.Concept] if scheme else curies(range_),
            "scheme": URIRef(ID + "scheme/" + scheme[1]) if scheme else None,
            "parents": set(curies(parents)),
        }
    schemes = {}
    for name, pattern, concepts in table_rows(markdown, "Concept schemes (`schemes.ttl`)"):
        slug = re.match(r"`([a-z-]+)`", name)[1]
        concept_type = re.search(r"/id/([a-z-]+)/\{slug\}", pattern)[1]
        schemes[slug] = {
            "type": concept_type,
            "extra_types": set(curies(name)),
            "concepts": {
                s: dutch for s, dutch in re.findall(r"`([a-z0-9-]+)`(?: \(([^)]+)\))?", concepts)
            },
        }
    mentioned = {expand(f"meent:{t}") for t in re.findall(r"`meent:([A-Za-z]+)`", markdown)}
    return {"classes": classes, "properties": properties, "schemes": schemes, "all": mentioned}


def signature_problems(graph: Graph, term: URIRef, expected: dict) -> list[str]:
    """Domain, range and super-properties of one property as the README states them: a single
    class goes in rdfs:domain/rdfs:range, several (or "any") in schema:domain/rangeIncludes."""
    problems = []
    for key, strict, loose in (
        ("domain", RDFS.domain, SCHEMA.domainIncludes),
        ("range", RDFS.range, SCHEMA.rangeIncludes),
    ):
        want = expected[key]
        have_strict = set(graph.objects(term, strict))
        have_loose = set(graph.objects(term, loose))
        if len(want) == 1 and (have_strict != set(want) or have_loose):
            problems.append(f"{term}: {key} should be rdfs:{key} {want[0]}")
        if len(want) > 1 and (have_strict or have_loose != set(want)):
            problems.append(f"{term}: {key} should be schema:{key}Includes {sorted(want)}")
        if not want and (have_strict or have_loose):
            problems.append(f"{term}: README gives no {key}, the ontology does")
    if expected["scheme"] and (term, RDFS.seeAlso, expected["scheme"]) not in graph:
        problems.append(f"{term}: no rdfs:seeAlso {expected['scheme']}")
    parents = set(graph.objects(term, RDFS.subPropertyOf))
    if parents != expected["parents"]:
        problems.append(f"{term}: rdfs:subPropertyOf {parents}, README {expected['parents']}")
    return problems


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ontology() -> Graph:
    graph = Graph()
    for path in ONTOLOGY_FILES:
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def contract() -> dict:
    return readme_contract(README.read_text(encoding="utf-8"))


def scheme_iri(slug: str) -> URIRef:
    return URIRef(ID + "scheme/" + slug)


# ---------------------------------------------------------------- files and header


@pytest.mark.parametrize("path", ONTOLOGY_FILES, ids=lambda p: p.name)
def test_file_parses_and_is_not_empty(path: Path) -> None:
    assert len(Graph().parse(path, format="turtle")) > 100


@pytest.mark.parametrize("path", ONTOLOGY_FILES, ids=lambda p: p.name)
def test_file_is_canonical_turtle(path: Path) -> None:
    assert is_canonical(path), f"run: meent format {path.relative_to(ROOT)}"


def test_header(ontology: Graph) -> None:
    assert (ONT, RDF.type, OWL.Ontology) in ontology
    expected = {
        OWL.versionIRI: URIRef("https://w3id.org/meent/def/1.1.0"),
        OWL.versionInfo: Literal("1.1.0"),
        DCT.license: URIRef("https://creativecommons.org/licenses/by/4.0/"),
        DCT.created: Literal("2026-11-26", datatype=XSD_DATE),
        DCT.modified: Literal("2026-12-07", datatype=XSD_DATE),
        DCT.publisher: URIRef(ID + "organisation/meentcoop"),
        VANN.preferredNamespacePrefix: Literal("meent"),
        VANN.preferredNamespaceUri: Literal(str(MEENT)),
    }
    for predicate, value in expected.items():
        assert set(ontology.objects(ONT, predicate)) == {value}, predicate
    for predicate in (DCT.title, DCT.description):
        assert languages(ontology, ONT, predicate) >= set(LANGS), predicate


def test_ontology_is_self_contained(ontology: Graph) -> None:
    assert not list(ontology.objects(None, OWL.imports))
    assert set(ontology.subjects(RDF.type, OWL.Ontology)) == {ONT}


def test_only_meent_terms_are_labelled_as_ours(ontology: Graph) -> None:
    """Reused classes and properties are not redeclared with our labels."""
    ours = {
        s
        for s in ontology.subjects(RDFS.isDefinedBy, ONT)
        if not s.startswith(str(MEENT)) and not s.startswith(ID)
    }
    assert not ours


# ---------------------------------------------------------------- terms


def test_every_term_concept_and_scheme_is_documented(ontology: Graph) -> None:
    assert documentation_problems(ontology) == []


def test_every_meent_subject_is_declared_once(ontology: Graph) -> None:
    subjects = {s for s in ontology.subjects() if isinstance(s, URIRef) and s.startswith(MEENT)}
    for subject in subjects:
        kinds = set(ontology.objects(subject, RDF.type)) & DECLARATION_TYPES
        assert len(kinds) == 1, f"{subject}: declared as {kinds or 'nothing'}"


def test_no_meent_term_is_used_undeclared(ontology: Graph) -> None:
    assert undeclared_terms(ontology, ontology) == set()


def test_literal_properties_are_datatype_properties(ontology: Graph) -> None:
    for prop in ontology.subjects(RDF.type, OWL.DatatypeProperty):
        ranges = set(ontology.objects(prop, RDFS.range)) | set(
            ontology.objects(prop, SCHEMA.rangeIncludes)
        )
        assert ranges, prop
        assert all(str(r).startswith((XSD, str(RDF))) for r in ranges), prop


@pytest.mark.parametrize(
    ("term", "parents"),
    [
        (MEENT.Commons, {ORG.Organization}),
        (MEENT.Programme, {ORG.OrganizationalCollaboration, PROV.Activity}),
        (MEENT.Collaboration, {ORG.OrganizationalCollaboration}),
    ],
)
def test_alignment_to_reused_vocabularies(ontology: Graph, term, parents) -> None:
    assert set(ontology.objects(term, RDFS.subClassOf)) == parents


# ---------------------------------------------------------------- README ↔ ontology


def test_readme_terms_exist(ontology: Graph, contract: dict) -> None:
    missing = contract["all"] - declared_terms(ontology)
    assert not missing, f"named in README.md but not in meent.ttl: {sorted(missing)}"


def test_ontology_terms_are_in_readme(ontology: Graph, contract: dict) -> None:
    listed = set(contract["classes"]) | set(contract["properties"])
    extra = declared_terms(ontology) - listed
    assert not extra, f"in meent.ttl but not in README.md's tables: {sorted(extra)}"


def test_classes_match_readme(ontology: Graph, contract: dict) -> None:
    for term, parents in contract["classes"].items():
        assert (term, RDF.type, OWL.Class) in ontology, term
        assert set(ontology.objects(term, RDFS.subClassOf)) == parents, term


def test_properties_match_readme(ontology: Graph, contract: dict) -> None:
    problems = []
    for term, expected in contract["properties"].items():
        kinds = set(ontology.objects(term, RDF.type))
        assert kinds & {OWL.ObjectProperty, OWL.DatatypeProperty}, term
        problems += signature_problems(ontology, term, expected)
    assert problems == []


def test_readme_concepts_exist(ontology: Graph, contract: dict) -> None:
    for slug, scheme in contract["schemes"].items():
        for concept_slug, dutch in scheme["concepts"].items():
            concept = URIRef(f"{ID}{scheme['type']}/{concept_slug}")
            assert (concept, SKOS.inScheme, scheme_iri(slug)) in ontology, concept
            for extra_type in scheme["extra_types"]:
                assert (concept, RDF.type, extra_type) in ontology, (concept, extra_type)
            if dutch:
                assert Literal(dutch, lang="nl") in set(
                    ontology.objects(concept, SKOS.prefLabel)
                ), concept


def test_schemes_are_exactly_the_readme_schemes(ontology: Graph, contract: dict) -> None:
    in_readme = {scheme_iri(slug) for slug in contract["schemes"]}
    assert set(ontology.subjects(RDF.type, SKOS.ConceptScheme)) == in_readme
    for slug, scheme in contract["schemes"].items():
        members = set(ontology.subjects(SKOS.inScheme, scheme_iri(slug)))
        listed = {URIRef(f"{ID}{scheme['type']}/{c}") for c in scheme["concepts"]}
        assert members == listed, f"scheme {slug}: README and schemes.ttl differ"


# ---------------------------------------------------------------- concepts


def test_concepts_and_schemes_are_well_formed(ontology: Graph) -> None:
    assert concept_problems(ontology) == []


def test_preferred_labels_are_unique_within_a_scheme(ontology: Graph) -> None:
    seen: dict[tuple, URIRef] = {}
    for concept, label in ontology.subject_objects(SKOS.prefLabel):
        for scheme in ontology.objects(concept, SKOS.inScheme):
            key = (scheme, label.language, str(label).casefold())
            assert seen.setdefault(key, concept) == concept, f"{label!r} twice in {scheme}"


def test_cooperative_legal_forms_are_narrower_than_cooperative(ontology: Graph) -> None:
    cooperative = URIRef(ID + "legal-form/cooperative")
    narrower = {URIRef(ID + f"legal-form/cooperative-{x}") for x in ("ua", "wa", "ba")}
    assert set(ontology.objects(cooperative, SKOS.narrower)) == narrower
    for concept in narrower:
        assert set(ontology.objects(concept, SKOS.broader)) == {cooperative}


@pytest.mark.parametrize(
    ("concept", "nl", "en"),
    [
        ("instrument/right-to-challenge", "uitdaagrecht", "right to challenge"),
        ("instrument/right-to-bid", "biedingsrecht", "right to bid"),
        ("instrument/right-to-plan", "buurtplanrecht", "right to plan"),
        ("municipal-role/permit-issuer", "vergunningverlener", "permit issuer"),
        ("municipal-role/public-shareholder", "publiek aandeelhouder", "public shareholder"),
    ],
)
def test_dutch_terms_are_first_class(ontology: Graph, concept, nl, en) -> None:
    labels = set(ontology.objects(URIRef(ID + concept), SKOS.prefLabel))
    assert {Literal(nl, lang="nl"), Literal(en, lang="en")} <= labels


@pytest.mark.parametrize(
    ("concepts", "source"),
    [
        (
            [
                f"municipal-role/{s}"
                for s in (
                    "permit-issuer",
                    "commissioner",
                    "financier",
                    "land-issuer",
                    "public-shareholder",
                    "connector",
                )
            ],
            SOURCE_AMSTERDOEN,
        ),
        (
            [
                "instrument/right-to-challenge",
                "instrument/right-to-bid",
                "instrument/right-to-plan",
            ],
            SOURCE_BUURTRECHTEN,
        ),
        (
            [
                "barrier/rules-unsuited-to-collectives",
                "barrier/long-timelines",
                "theme/urban-agriculture",
                "theme/elderly-care",
                "theme/circular-textile",
                "theme/neighbourhood-economy",
                "theme/energy-transition",
                "theme/delivery-logistics",
                "theme/composting",
            ],
            SOURCE_LAUNCH,
        ),
    ],
)
def test_concepts_from_public_sources_cite_them(ontology: Graph, concepts, source) -> None:
    for concept in concepts:
        assert (URIRef(ID + concept), PROV.wasDerivedFrom, source) in ontology, concept


def test_concepts_without_source_say_so(ontology: Graph) -> None:
    for concept in ontology.subjects(RDF.type, SKOS.Concept):
        if not list(ontology.objects(concept, PROV.wasDerivedFrom)):
            assert languages(ontology, concept, SKOS.editorialNote) >= set(LANGS), concept


def test_mappings_point_at_existing_concepts(ontology: Graph) -> None:
    for predicate in (SKOS.closeMatch, SKOS.relatedMatch, SKOS.related):
        for subject, target in ontology.subject_objects(predicate):
            if target.startswith(ID):
                assert (target, RDF.type, SKOS.Concept) in ontology, (subject, target)
                assert (target, predicate, subject) in ontology, f"{predicate} not symmetric"


# ---------------------------------------------------------------- the rest of the project


def _project_turtle() -> list[Path]:
    return sorted(p for folder in ("shapes", "data") for p in (ROOT / folder).rglob("*.ttl"))


def unknown_concepts(graph: Graph, ontology: Graph, concept_types: set[str]) -> set[URIRef]:
    """IRIs of the form …/id/{concept-type}/{slug} (or …/id/scheme/…) that schemes.ttl lacks."""
    known = set(ontology.subjects(RDF.type, SKOS.Concept)) | set(
        ontology.subjects(RDF.type, SKOS.ConceptScheme)
    )
    used = {
        term
        for triple in graph
        for term in triple
        if isinstance(term, URIRef)
        and (m := CONCEPT_IRI.match(str(term)))
        and m["type"] in concept_types | {"scheme"}
    }
    return used - known


@pytest.mark.parametrize("path", _project_turtle(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shapes_and_data_use_only_declared_terms(ontology: Graph, contract: dict, path) -> None:
    graph = Graph().parse(path, format="turtle")
    undeclared = undeclared_terms(graph, ontology)
    assert not undeclared, f"not in the ontology (see ontology/README.md): {sorted(undeclared)}"
    types = {scheme["type"] for scheme in contract["schemes"].values()}
    unknown = unknown_concepts(graph, ontology, types)
    assert not unknown, f"not in ontology/schemes.ttl: {sorted(unknown)}"


# ---------------------------------------------------------------- the checkers bite

BROKEN = """
@prefix meent: <https://w3id.org/meent/def#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

meent:Thing a owl:Class ; rdfs:label "ding"@nl ; skos:definition "Een ding."@nl, "A thing."@en ;
    rdfs:subClassOf meent:Undeclared .
<https://w3id.org/meent/id/scheme/good> a skos:ConceptScheme ;
    skos:prefLabel "goed"@nl, "good"@en ; skos:definition "Goed."@nl, "Good."@en ;
    rdfs:isDefinedBy <https://w3id.org/meent/def> .
<https://w3id.org/meent/id/scheme/Bad_Scheme> a skos:ConceptScheme .
<https://w3id.org/meent/id/thing/Not_A_Slug> a skos:Concept ;
    skos:inScheme <https://w3id.org/meent/id/scheme/good> ,
        <https://w3id.org/meent/id/scheme/Bad_Scheme> .
<https://w3id.org/meent/id/thing/orphan> a skos:Concept ;
    skos:prefLabel "wees"@nl, "weeskind"@nl ;
    skos:inScheme <https://w3id.org/meent/id/scheme/good> .
"""


@pytest.fixture
def broken() -> Graph:
    return Graph().parse(data=BROKEN, format="turtle")


def test_documentation_check_bites(broken: Graph) -> None:
    problems = "\n".join(documentation_problems(broken))
    assert "def#Thing: no rdfs:label@en" in problems
    assert "def#Thing: not rdfs:isDefinedBy" in problems
    assert "scheme/Bad_Scheme: no skos:prefLabel@nl" in problems
    assert "thing/orphan: no skos:definition@en" in problems
    assert "scheme/good" not in problems


def test_undeclared_check_bites(broken: Graph) -> None:
    assert undeclared_terms(broken, broken) == {MEENT.Undeclared}


def test_unknown_concept_check_bites(broken: Graph, ontology: Graph) -> None:
    assert unknown_concepts(broken, ontology, {"thing"}) == {
        URIRef(ID + "thing/orphan"),
        URIRef(ID + "thing/Not_A_Slug"),
        URIRef(ID + "scheme/good"),
        URIRef(ID + "scheme/Bad_Scheme"),
    }


def test_concept_check_bites(broken: Graph) -> None:
    problems = "\n".join(concept_problems(broken))
    assert "scheme/Bad_Scheme: scheme IRI" in problems
    assert "thing/Not_A_Slug: concept IRI" in problems
    assert "thing/Not_A_Slug: in 2 schemes" in problems
    assert "thing/orphan: must be either a top concept or have a skos:broader" in problems
    assert "thing/orphan: 2 skos:prefLabel@nl" in problems
    assert "scheme/good: scheme IRI" not in problems


def test_readme_parser_and_signature_check_bite() -> None:
    markdown = "\n".join(
        [
            "# t",
            "## Classes",
            "| class | subclass of | what |",
            "|---|---|---|",
            "| `meent:A` | `prov:Entity` | an a |",
            "## Properties (meent:)",
            "| p | domain | range | sub | meaning |",
            "|---|---|---|---|---|",
            "| `meent:p` | `meent:A` or `meent:B` | concept in `scheme/themes` "
            "| `dct:subject` | p |",
            "## Concept schemes (`schemes.ttl`)",
            "| scheme | iris | concepts |",
            "|---|---|---|",
            "| `roles` (also `org:Role`) | `…/id/role/{slug}` "
            "| `coach`, `land-issuer` (gronduitgever) |",
        ]
    )
    contract = readme_contract(markdown)
    assert contract["classes"] == {MEENT.A: {PROV.Entity}}
    assert contract["all"] == {MEENT.A, MEENT.B, MEENT.p}
    assert contract["schemes"]["roles"] == {
        "type": "role",
        "extra_types": {ORG.Role},
        "concepts": {"coach": "", "land-issuer": "gronduitgever"},
    }
    expected = contract["properties"][MEENT.p]
    assert expected["range"] == [SKOS.Concept]
    wrong = Graph()
    wrong.add((MEENT.p, RDFS.domain, MEENT.A))
    problems = "\n".join(signature_problems(wrong, MEENT.p, expected))
    assert "domain should be schema:domainIncludes" in problems
    assert "range should be rdfs:range" in problems
    assert "no rdfs:seeAlso" in problems
    assert "rdfs:subPropertyOf" in problems


# ---------------------------------------------------------------- the class diagram


def test_diagram_draws_every_class_and_the_properties_between_them(ontology: Graph) -> None:
    from service.views.ontology_diagram import diagram_dot, meent_classes

    dot = diagram_dot(ontology)
    for cls in meent_classes(ontology):
        assert f'"meent:{cls.removeprefix(str(MEENT))}";' in dot, cls
    assert '"meent:Tenure" -> "meent:SharedResource" [label="meent:tenureOf"];' in dot
    assert '"meent:Participation" -> "org:Membership" [arrowhead=onormal];' in dot


def test_committed_diagram_is_not_behind_the_ontology(ontology: Graph) -> None:
    """ontology/diagram.svg is drawn by `meent diagram`; a new class must show up in it."""
    from service.views.ontology_diagram import meent_classes

    svg = (ROOT / "ontology" / "diagram.svg").read_text(encoding="utf-8")
    missing = [
        c for c in meent_classes(ontology) if f"meent:{c.removeprefix(str(MEENT))}<" not in svg
    ]
    assert not missing, f"run `meent diagram`: {missing} not drawn"
