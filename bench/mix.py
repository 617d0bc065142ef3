"""The research-query mix of the benchmark (issue 7), fitted to the data ``bench.generate`` makes.

The mix is what a researcher, a browser and a harvester send:

- every example question of ``queries/*.rq`` (as published, on the generated data);
- resource lookups (``SELECT ?p ?o WHERE { <iri> ?p ?o }``) and ``DESCRIBE <iri>``;
- a CONSTRUCT (the koppel network of one municipality);
- text search with ``CONTAINS`` over labels;
- GROUP BY with ORDER BY/LIMIT (commons per municipality for one theme);
- a 4-way join (koppel → commons → district → municipality ← unit);
- OPTIONAL with language filters (the commons of one district, nl and en labels);
- a large SELECT that streams many rows (every label).

Parameters (which commons, which town, which theme, which word) are drawn from the generated
file itself, with ``random.Random`` seeded by the run's seed and the query's name, and skewed the
way real use is: a Zipf-like weight over a seeded shuffle, so a few resources are asked for again
and again (a harvester's or browser's repeats) and most rarely. Every server gets exactly the
same sequence of requests.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.generate import ID, SCHEMES_FILE, Schemes, Zipf
from service.rdf.queries import read_queries
from service.vocab import PREFIXES

ROOT = Path(__file__).resolve().parent.parent
#: Parameter instances drawn per parameterised query; requests cycle through them.
INSTANCES = 2_000

SELECT_JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
N_TRIPLES = "application/n-triples"

_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_TYPED = re.compile(rf"^<([^>]+)> {re.escape(_TYPE)} <([^>]+)> \.$")
_CLASSES = {
    PREFIXES["meent"] + "Commons": "commons",
    PREFIXES["meent"] + "Koppel": "koppel",
    PREFIXES["meent"] + "District": "district",
    PREFIXES["meent"] + "SourceDocument": "source",
    PREFIXES["meent"] + "Practice": "practice",
    PREFIXES["meent"] + "Lesson": "lesson",
    PREFIXES["meent"] + "Collaboration": "collaboration",
    PREFIXES["org"] + "OrganizationalUnit": "unit",
    PREFIXES["tooiont"] + "Gemeente": "municipality",
}
#: What a visitor looks up, by kind of resource: collectives most, archive pages least.
LOOKUP_KINDS = (
    ("commons", 35),
    ("koppel", 20),
    ("district", 10),
    ("source", 10),
    ("practice", 8),
    ("lesson", 7),
    ("unit", 5),
    ("collaboration", 5),
)


@dataclass(frozen=True)
class Catalogue:
    """The IRIs of the generated graph by kind, in file order, and the concepts used."""

    iris: dict[str, list[str]]
    themes: tuple[str, ...]
    words: tuple[str, ...]

    @classmethod
    def from_file(cls, path: Path) -> Catalogue:
        iris: dict[str, list[str]] = {kind: [] for kind in _CLASSES.values()}
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if _TYPE not in line:
                    continue
                match = _TYPED.match(line.rstrip("\n"))
                if match and match.group(2) in _CLASSES:
                    iris[_CLASSES[match.group(2)]].append(match.group(1))
        schemes = Schemes.from_file(SCHEMES_FILE)
        # Words people type into a search box: theme words and district names.
        words = sorted(
            {w for c in schemes.themes for w in re.findall(r"[a-z]{4,}", c.en.lower())}
            | {"north", "south", "centre", "harbour", "cooperative", "foundation"}
        )
        return cls(iris, tuple(c.iri for c in schemes.themes), tuple(words))


@dataclass(frozen=True)
class Query:
    """One query of the mix: its instances (the texts sent, cycled through) and the media
    type asked for."""

    name: str
    kind: str  # "select" | "graph"
    instances: tuple[str, ...]
    weight: float
    source: str  # "example" (queries/*.rq) or "bench"
    #: Whether another engine must give the same count. DESCRIBE's answer is the service's
    #: choice (SPARQL 1.1 Query §16.4): rdflib gives a different one than Oxigraph.
    same_across_engines: bool = True
    #: Asked for again and again, as a harvester or a browser does: measured after one pass
    #: over its instances (which is reported as the cold figure), and sent as it is, so that
    #: a server may answer repeats from a cache. Other queries are sent with a comment of
    #: their own each time, so that every request is evaluated.
    repeated: bool = False

    @property
    def accept(self) -> str:
        return SELECT_JSON if self.kind == "select" else TURTLE

    @property
    def check_accept(self) -> str:
        """The media type the answer check asks for: one that is easy to count exactly."""
        return SELECT_JSON if self.kind == "select" else N_TRIPLES


def skewed(items: Sequence[str], rng: random.Random, count: int, s: float = 1.0) -> list[str]:
    """``count`` picks from ``items``, Zipf-weighted over a seeded shuffle."""
    if not items:
        raise ValueError("nothing to pick from: is the generated graph too small?")
    zipf = Zipf(rng.sample(list(items), len(items)), s=s)
    return [zipf.pick(rng) for _ in range(count)]


def lookup_iris(catalogue: Catalogue, seed: int, name: str, count: int = INSTANCES) -> list[str]:
    """Resources to look up: a kind by ``LOOKUP_KINDS``, then one of that kind, skewed."""
    rng = random.Random(f"{seed}:{name}")
    kinds = [k for k, _ in LOOKUP_KINDS if catalogue.iris[k]]
    weights = [w for k, w in LOOKUP_KINDS if catalogue.iris[k]]
    pickers = {k: Zipf(rng.sample(catalogue.iris[k], len(catalogue.iris[k])), s=1.0) for k in kinds}
    return [pickers[rng.choices(kinds, weights)[0]].pick(rng) for _ in range(count)]


def doc_path(iri: str) -> str:
    """``https://w3id.org/meent/id/commons/x`` → ``/doc/commons/x``."""
    if not iri.startswith(ID):
        raise ValueError(f"not a Meent resource IRI: {iri}")
    return "/doc/" + iri.removeprefix(ID)


def _prologue(*names: str) -> str:
    return "".join(f"PREFIX {n}: <{PREFIXES[n]}>\n" for n in names)


def bench_queries(catalogue: Catalogue, seed: int) -> list[Query]:
    """The queries written for the benchmark (the examples come from ``example_queries``)."""

    def rng(name: str) -> random.Random:
        return random.Random(f"{seed}:{name}")

    lookups = lookup_iris(catalogue, seed, "lookup")
    describes = lookup_iris(catalogue, seed, "describe")
    towns = skewed(catalogue.iris["municipality"], rng("construct"), INSTANCES)
    words = skewed(catalogue.words, rng("text"), INSTANCES, s=0.8)
    group_themes = skewed(catalogue.themes, rng("group"), INSTANCES, s=0.8)
    join_themes = skewed(catalogue.themes, rng("join"), INSTANCES, s=0.8)
    districts = skewed(catalogue.iris["district"], rng("optional"), INSTANCES)
    m = _prologue("dct", "foaf", "meent", "org", "rdfs", "schema")
    return [
        Query(
            "lookup",
            "select",
            tuple(f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}" for iri in lookups),
            30,
            "bench",
            repeated=True,
        ),
        Query(
            "describe",
            "graph",
            tuple(f"DESCRIBE <{iri}>" for iri in describes),
            15,
            "bench",
            same_across_engines=False,
            repeated=True,
        ),
        Query(
            "construct-koppel-network-of-a-town",
            "graph",
            tuple(
                m + "CONSTRUCT {\n"
                "  ?koppel meent:initiative ?commons ; meent:municipalUnit ?unit ;"
                " meent:theme ?theme .\n"
                "  ?commons rdfs:label ?label ; dct:spatial ?district .\n"
                "} WHERE {\n"
                f"  ?district meent:municipality <{town}> .\n"
                "  ?commons dct:spatial ?district ; rdfs:label ?label .\n"
                "  ?koppel meent:initiative ?commons ; meent:municipalUnit ?unit ;"
                " meent:theme ?theme .\n"
                '  FILTER (LANGMATCHES(LANG(?label), "en"))\n'
                "}"
                for town in towns
            ),
            2,
            "bench",
        ),
        Query(
            "text-search-contains",
            "select",
            tuple(
                m + "SELECT ?resource ?label WHERE {\n"
                "  ?resource rdfs:label ?label .\n"
                f'  FILTER (LANG(?label) = "en" && CONTAINS(LCASE(STR(?label)), "{word}"))\n'
                "} ORDER BY ?label ?resource LIMIT 100"
                for word in words
            ),
            3,
            "bench",
        ),
        Query(
            "group-by-order-by-limit",
            "select",
            tuple(
                m + "SELECT ?town (COUNT(DISTINCT ?commons) AS ?n) WHERE {\n"
                f"  ?commons a meent:Commons ; meent:theme <{theme}> ; dct:spatial ?district .\n"
                "  ?district meent:municipality ?town .\n"
                "} GROUP BY ?town ORDER BY DESC(?n) ?town LIMIT 10"
                for theme in group_themes
            ),
            3,
            "bench",
        ),
        Query(
            "four-way-join",
            "select",
            tuple(
                m + "SELECT ?koppel ?commons ?district ?unit ?town WHERE {\n"
                f"  ?koppel meent:theme <{theme}> ; meent:initiative ?commons ;"
                " meent:municipalUnit ?unit .\n"
                "  ?commons dct:spatial ?district .\n"
                "  ?district meent:municipality ?town .\n"
                "  ?unit org:unitOf ?town .\n"
                "}"
                for theme in join_themes
            ),
            2,
            "bench",
        ),
        Query(
            "optional-with-language-filters",
            "select",
            tuple(
                m + "SELECT ?commons ?labelNl ?labelEn ?homepage ?founded WHERE {\n"
                f"  ?commons a meent:Commons ; dct:spatial <{district}> .\n"
                "  OPTIONAL { ?commons rdfs:label ?labelNl"
                ' FILTER (LANGMATCHES(LANG(?labelNl), "nl")) }\n'
                "  OPTIONAL { ?commons rdfs:label ?labelEn"
                ' FILTER (LANGMATCHES(LANG(?labelEn), "en")) }\n'
                "  OPTIONAL { ?commons foaf:homepage ?homepage }\n"
                "  OPTIONAL { ?commons schema:foundingDate ?founded }\n"
                "} ORDER BY ?commons"
                for district in districts
            ),
            3,
            "bench",
        ),
        Query(
            "large-select-every-label",
            "select",
            (m + "SELECT ?resource ?label WHERE { ?resource rdfs:label ?label }",),
            0.5,
            "bench",
        ),
    ]


def example_queries(root: Path = ROOT) -> list[Query]:
    """The project's example questions, each as one query of the mix."""
    found = []
    for example in read_queries(root / "queries"):
        kind = "select" if example.query_form in ("select", "ask") else "graph"
        describe = example.query_form == "describe"
        found.append(Query(example.slug, kind, (example.query_text,), 1, "example", not describe))
    return found


def build(catalogue: Catalogue, seed: int, root: Path = ROOT) -> list[Query]:
    return [*example_queries(root), *bench_queries(catalogue, seed)]


def mix_sequence(
    queries: Sequence[Query], seed: int, length: int = 50_000
) -> list[tuple[int, int]]:
    """The whole mix as (query index, instance index) pairs, drawn by the queries' weights."""
    rng = random.Random(f"{seed}:mix")
    picks = rng.choices(range(len(queries)), [q.weight for q in queries], k=length)
    used = [0] * len(queries)
    sequence = []
    for index in picks:
        sequence.append((index, used[index] % len(queries[index].instances)))
        used[index] += 1
    return sequence
