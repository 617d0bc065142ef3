"""Deterministic generator of realistic Meent data for the benchmark (issue 7).

``python -m bench.generate --triples 1M --seed 42 --out bench/data-1m.nt`` writes N-Triples: the
same seed and size always give byte-identical output, so every store in a benchmark run (and
every later run) loads exactly the same graph.

What it makes, and why it looks like this:

- A *backbone* per municipality (TOOI IRI, departments, districts, source documents, an
  incubator programme with its toolbox, goal, launch event and yearly cohorts). The number of
  municipalities grows with the size, up to the Netherlands' ~342, so a 10M graph looks like
  "every municipality" rather than one city blown up.
- Then *clusters* around one commons each — its source document, a collaboration with a
  department, often a koppel in one of its municipality's cohorts, and practices and lessons in
  the programme's toolbox — repeated until the target size is nearly reached. Clusters are built
  whole, so the stream never references a resource it does not also describe.
- Popularity is Zipf-like: a few municipalities get most commons, a few themes and departments
  most koppels, as real data is; queries that GROUP BY or filter on a popular value then see
  realistic, uneven fan-out instead of uniform selectivity.
- Concept IRIs (themes, instruments, barriers, legal forms, …) are read from
  ``ontology/schemes.ttl`` at start, never typed here, so they cannot drift from the ontology.
- The data is synthetic and says so: every source document is described as generated, and its
  pages are on the reserved ``example.org`` domain. Municipality names are invented; their TOOI
  codes are random and never Amsterdam's ``gm0363``, so the data loads beside ``data/`` without
  clashing with curated resources.

Determinism: one ``random.Random(seed)`` drives every choice in a fixed order; concepts are
sorted by IRI; no set or dict is iterated in an order that depends on hashing; no clock is read.
Memory is constant in the size: only the backbone (bounded by the municipality cap) is kept.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TextIO, TypeVar

import pyoxigraph

from service.vocab import PREFIXES

ROOT = Path(__file__).resolve().parent.parent
SCHEMES_FILE = ROOT / "ontology" / "schemes.ttl"

ID = "https://w3id.org/meent/id/"
TOOI_GEMEENTE = "https://identifier.overheid.nl/tooi/id/gemeente/gm"
SCHEME = ID + "scheme/"

# The smallest size the backbone of three municipalities leaves room for.
MIN_TRIPLES = 2_000
# The Netherlands has about 342 municipalities; past that, the graph grows in commons, not towns.
MAX_MUNICIPALITIES = 342
# Amsterdam's code: the curated data describes it, and a second label would break uniqueLang.
CURATED_MUNICIPALITY_CODES = frozenset({363})


def _iri(value: str) -> str:
    return f"<{value}>"


_RDF, _RDFS, _XSD, _DCT, _ORG, _PROV, _FOAF, _SCHEMA, _SKOS, _MEENT = (
    PREFIXES[p]
    for p in ("rdf", "rdfs", "xsd", "dct", "org", "prov", "foaf", "schema", "skos", "meent")
)

A = _iri(_RDF + "type")
LABEL = _iri(_RDFS + "label")
DESCRIPTION = _iri(_DCT + "description")
TITLE = _iri(_DCT + "title")
SPATIAL = _iri(_DCT + "spatial")
IDENTIFIER = _iri(_DCT + "identifier")
PUBLISHER = _iri(_DCT + "publisher")
ISSUED = _iri(_DCT + "issued")
NOTATION = _iri(_SKOS + "notation")
UNIT_OF = _iri(_ORG + "unitOf")
DERIVED_FROM = _iri(_PROV + "wasDerivedFrom")
ATTRIBUTED_TO = _iri(_PROV + "wasAttributedTo")
GENERATED_BY = _iri(_PROV + "wasGeneratedBy")
HOMEPAGE = _iri(_FOAF + "homepage")
PAGE = _iri(_FOAF + "page")
START = _iri(_SCHEMA + "startDate")
END = _iri(_SCHEMA + "endDate")
FOUNDED = _iri(_SCHEMA + "foundingDate")
ABOUT = _iri(_SCHEMA + "about")
ORGANIZER = _iri(_SCHEMA + "organizer")
ORG_TYPE = _iri("http://www.w3.org/ns/regorg#orgType")

C_GEMEENTE = _iri("https://identifier.overheid.nl/tooi/def/ont/Gemeente")
C_PUBLIC_ORG = _iri("http://data.europa.eu/m8g/PublicOrganisation")
C_PUBLIC_EVENT = _iri("http://data.europa.eu/m8g/PublicEvent")
C_ORGANIZATION = _iri(_ORG + "Organization")
C_FORMAL_ORG = _iri(_ORG + "FormalOrganization")
C_UNIT = _iri(_ORG + "OrganizationalUnit")
C_REGISTERED = _iri("http://www.w3.org/ns/regorg#RegisteredOrganization")
C_LOCATION = _iri(_DCT + "Location")
C_EVENT = _iri(_SCHEMA + "Event")
C_COOPERATIVE = _iri(_SCHEMA + "Cooperative")


def _m(term: str) -> str:
    return _iri(_MEENT + term)


XSD_DATE = _XSD + "date"
XSD_DATETIME = _XSD + "dateTime"
XSD_GYEAR = _XSD + "gYear"
XSD_DECIMAL = _XSD + "decimal"


def literal(value: str) -> str:
    """An N-Triples string literal: only ``\\``, ``"``, CR and LF need escaping (RDF 1.1
    N-Triples, section 2.4); other characters are written as UTF-8."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


class Lines:
    """N-Triples statements for one resource or cluster, built whole before any is yielded, so
    the caller can see its size and decide whether it still fits the budget."""

    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, s: str, p: str, o: str) -> None:
        self.lines.append(f"{s} {p} {o} .\n")

    def text(self, s: str, p: str, value: str, lang: str) -> None:
        self.lines.append(f"{s} {p} {literal(value)}@{lang} .\n")

    def typed(self, s: str, p: str, value: str, datatype: str) -> None:
        self.lines.append(f"{s} {p} {literal(value)}^^<{datatype}> .\n")

    def plain(self, s: str, p: str, value: str) -> None:
        self.lines.append(f"{s} {p} {literal(value)} .\n")

    def both(self, s: str, p: str, nl: str, en: str) -> None:
        self.text(s, p, nl, "nl")
        self.text(s, p, en, "en")


# --- concepts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    iri: str
    slug: str
    nl: str
    en: str
    broader: str | None = None

    @property
    def ref(self) -> str:
        return _iri(self.iri)


@dataclass(frozen=True)
class Schemes:
    """The concept schemes of ``ontology/schemes.ttl``, each sorted by IRI."""

    themes: tuple[Concept, ...]
    instruments: tuple[Concept, ...]
    barriers: tuple[Concept, ...]
    collaboration_forms: tuple[Concept, ...]
    formal_bases: tuple[Concept, ...]
    legal_forms: tuple[Concept, ...]
    municipal_roles: tuple[Concept, ...]

    @classmethod
    def from_file(cls, path: Path = SCHEMES_FILE) -> Schemes:
        skos = "http://www.w3.org/2004/02/skos/core#"
        in_scheme: dict[str, list[str]] = {}
        labels: dict[tuple[str, str], str] = {}
        broader: dict[str, str] = {}
        for triple in pyoxigraph.parse(path=path, format=pyoxigraph.RdfFormat.TURTLE):
            s, p, o = triple.subject, triple.predicate.value, triple.object
            if not isinstance(s, pyoxigraph.NamedNode):
                continue
            if p == skos + "inScheme" and isinstance(o, pyoxigraph.NamedNode):
                in_scheme.setdefault(o.value, []).append(s.value)
            elif p == skos + "prefLabel" and isinstance(o, pyoxigraph.Literal) and o.language:
                labels[(s.value, o.language)] = o.value
            elif p == skos + "broader" and isinstance(o, pyoxigraph.NamedNode):
                broader[s.value] = o.value

        def scheme(name: str) -> tuple[Concept, ...]:
            members = sorted(in_scheme.get(SCHEME + name, ()))
            if not members:
                raise ValueError(f"{path}: no concepts in scheme {SCHEME + name}")
            return tuple(
                Concept(
                    iri=iri,
                    slug=iri.rsplit("/", 1)[1],
                    nl=labels.get((iri, "nl"), iri.rsplit("/", 1)[1]),
                    en=labels.get((iri, "en"), iri.rsplit("/", 1)[1]),
                    broader=broader.get(iri),
                )
                for iri in members
            )

        return cls(
            themes=scheme("themes"),
            instruments=scheme("instruments"),
            barriers=scheme("barriers"),
            collaboration_forms=scheme("collaboration-forms"),
            formal_bases=scheme("formal-bases"),
            legal_forms=scheme("legal-forms"),
            municipal_roles=scheme("municipal-roles"),
        )

    def all_iris(self) -> frozenset[str]:
        groups = (
            self.themes,
            self.instruments,
            self.barriers,
            self.collaboration_forms,
            self.formal_bases,
            self.legal_forms,
            self.municipal_roles,
        )
        return frozenset(c.iri for group in groups for c in group)


T = TypeVar("T")

# --- popularity --------------------------------------------------------------------------------


class Zipf(Generic[T]):
    """Weighted choice with weight 1/rank^s over ``items`` in the given order (rank 1 first)."""

    __slots__ = ("cum", "items")

    def __init__(self, items: Sequence[T], s: float = 1.1) -> None:
        self.items = list(items)
        self.cum = list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, len(items) + 1)))

    def pick(self, rng: random.Random) -> T:
        return rng.choices(self.items, cum_weights=self.cum)[0]

    def pick_other(self, rng: random.Random, not_this: T) -> T | None:
        """A second, different pick (a resource's second theme); None if there is no other."""
        if len(self.items) < 2:
            return None
        while True:
            choice = self.pick(rng)
            if choice != not_this:
                return choice


# --- names -------------------------------------------------------------------------------------

# fmt: off
_PLACE_HEADS = (
    "Noord", "Zuid", "Oost", "West", "Hoog", "Laag", "Nieuw", "Oud", "Groot", "Klein",
    "Ooster", "Wester", "Zuider", "Noorder", "Midden", "Lange", "Brede", "Zand", "Water",
    "Heide", "Linden", "Eiken", "Beuken", "Wilgen", "Riet", "Veen", "Molen", "Kraai", "Vos",
    "Zwanen",
)
_PLACE_TAILS = (
    "dam", "dijk", "veen", "wijk", "horst", "berg", "woude", "hoven", "zijl", "recht",
    "meer", "broek", "dorp", "haven", "burg", "stede", "lo", "oord", "waard", "sloot",
)
# fmt: on
# (nl, en, letter code); the first ones are the districts every town has.
_DISTRICTS = (
    ("Centrum", "Centre", "A"),
    ("Noord", "North", "N"),
    ("Zuid", "South", "K"),
    ("Oost", "East", "M"),
    ("West", "West", "E"),
    ("Nieuw-West", "New West", "F"),
    ("Zuidoost", "South-East", "T"),
    ("Haven", "Harbour", "B"),
    ("Buitengebied", "Countryside", "S"),
)
# (slug, nl, en): a department's name; the order is no ranking (that is shuffled per town).
_DEPARTMENTS = (
    ("sociaal-domein", "Sociaal Domein", "Social Affairs"),
    ("ruimte-en-economie", "Ruimte en Economie", "Spatial Planning and Economy"),
    ("wonen", "Wonen", "Housing"),
    ("duurzaamheid", "Duurzaamheid", "Sustainability"),
    ("openbare-ruimte", "Openbare Ruimte", "Public Space"),
    ("cultuur", "Cultuur", "Culture"),
    ("zorg-en-welzijn", "Zorg en Welzijn", "Care and Welfare"),
    ("inkoop", "Inkoop", "Procurement"),
    ("grond-en-ontwikkeling", "Grond en Ontwikkeling", "Land and Development"),
    ("participatie", "Participatie", "Participation"),
    ("werk-en-inkomen", "Werk en Inkomen", "Work and Income"),
    ("verkeer", "Verkeer en Vervoer", "Traffic and Transport"),
)
# Legal-form slug → (nl name prefix, en name suffix); other forms fall back to the "" entry.
_KIND_BY_LEGAL_FORM = {
    "cooperative": ("Coöperatie", "cooperative"),
    "foundation": ("Stichting", "foundation"),
    "association": ("Vereniging", "association"),
    "private-company": ("Sociale onderneming", "social enterprise"),
    "": ("Buurtcollectief", "neighbourhood collective"),
}
_NEXT_STEPS = (
    ("Een vaste afspraak over beheer vastleggen.", "Settle a lasting agreement on management."),
    ("Een tweede locatie in de wijk openen.", "Open a second location in the neighbourhood."),
    ("Meerjarige financiering regelen.", "Arrange multi-year funding."),
    ("Meer buurtbewoners als lid werven.", "Recruit more residents as members."),
    ("De samenwerking evalueren met de afdeling.", "Evaluate the collaboration with the unit."),
)

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lowercase ASCII with single hyphens, the slug form of Meent's IRIs."""
    table = str.maketrans("äëïöüéèêáàóòúù", "aeiouee" + "eaaoouu")
    return _SLUG_STRIP.sub("-", text.lower().translate(table)).strip("-")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the backbone --------------------------------------------------------------------------------


@dataclass
class Municipality:
    code: int
    name: str
    slug: str
    ref: str
    source: str
    units: Zipf[tuple[str, str, str]] = field(repr=False)  # (ref, nl name, en name)
    districts: list[tuple[str, str]] = field(default_factory=list)  # (ref, nl name)
    cohorts: list[tuple[str, int]] = field(default_factory=list)  # (ref, year)
    toolboxes: list[str] = field(default_factory=list)
    toolbox_of_cohort: dict[str, str] = field(default_factory=dict)


def municipality_count(triples: int) -> int:
    # ~8,000 triples per town: 10k → 3 towns, 1M → 125, 10M → the full 342.
    return max(3, min(MAX_MUNICIPALITIES, triples // 8_000))


class Generator:
    def __init__(self, triples: int, seed: int, schemes: Schemes) -> None:
        if triples < MIN_TRIPLES:
            raise ValueError(f"at least {MIN_TRIPLES} triples are needed, not {triples}")
        self.target = triples
        self.rng = random.Random(seed)
        self.seed = seed
        self.s = schemes
        self.count = 0
        rng = self.rng
        # Which theme (department, town) is popular is itself chosen by the seed.
        self.themes = Zipf(rng.sample(schemes.themes, len(schemes.themes)))
        self.barriers = Zipf(rng.sample(schemes.barriers, len(schemes.barriers)), s=0.8)
        self.instruments = Zipf(rng.sample(schemes.instruments, len(schemes.instruments)), s=0.8)
        self.roles = Zipf(rng.sample(schemes.municipal_roles, len(schemes.municipal_roles)), s=0.6)
        self.legal_forms = self._legal_form_weights(schemes.legal_forms)
        self.incubator = next((c for c in schemes.instruments if "incubator" in c.slug), None)

    def _legal_form_weights(self, forms: Sequence[Concept]) -> tuple[list[Concept], list[float]]:
        """Informal collectives and foundations are common, cooperatives less so, and among
        cooperatives the U.A. form (excluded liability) is by far the usual one."""
        weights = []
        for form in forms:
            if form.slug == "informal":
                weights.append(30.0)
            elif form.slug in ("foundation", "association"):
                weights.append(22.0 if form.slug == "foundation" else 12.0)
            elif form.slug == "cooperative-ua":
                weights.append(14.0)
            elif form.slug.startswith("cooperative"):
                weights.append(2.0)
            else:
                weights.append(4.0)
        return list(forms), list(itertools.accumulate(weights))

    # The stream: the backbone, then clusters while a whole one still fits, then small fillers.

    def __iter__(self) -> Iterator[str]:
        towns = self._towns()
        for town in towns:
            yield from self._emit(self._backbone(town))
        pick_town = Zipf(towns, s=1.0)
        for n in itertools.count(1):
            cluster = self._cluster(pick_town.pick(self.rng), n)
            if self.count + len(cluster) > self.target:
                break
            yield from self._emit(cluster)
        # Fillers are 9 triples each, so the last gap is under 9 triples: far inside ±1 %.
        for n in itertools.count(1):
            filler = self._archived_source(towns[n % len(towns)], n)
            if self.count + len(filler) > self.target:
                break
            yield from self._emit(filler)

    def _emit(self, lines: Lines) -> list[str]:
        self.count += len(lines)
        return lines.lines

    def _towns(self) -> list[Municipality]:
        rng = self.rng
        count = municipality_count(self.target)
        codes = [c for c in range(1, 2000) if c not in CURATED_MUNICIPALITY_CODES]
        names = [h + t for h in _PLACE_HEADS for t in _PLACE_TAILS]
        towns = []
        for code, name in zip(rng.sample(codes, count), rng.sample(names, count), strict=True):
            slug = slugify(name)
            units = [(_iri(f"{ID}unit/{slug}-{d[0]}"), d[1], d[2]) for d in _DEPARTMENTS]
            rng.shuffle(units)
            towns.append(
                Municipality(
                    code=code,
                    name=name,
                    slug=slug,
                    ref=_iri(f"{TOOI_GEMEENTE}{code:04d}"),
                    source=_iri(f"{ID}source/{slug}-gemeente-website"),
                    units=Zipf(units[: rng.randint(5, len(units))]),
                )
            )
        return towns

    def _source(
        self, out: Lines, ref: str, nl_title: str, en_title: str, page: str, publisher: str
    ) -> None:
        out.add(ref, A, _m("SourceDocument"))
        out.both(ref, LABEL, nl_title, en_title)
        out.text(ref, TITLE, nl_title, "nl")
        out.both(
            ref,
            DESCRIPTION,
            f"Synthetisch document, gegenereerd voor de benchmark van Meent (seed {self.seed}).",
            f"Synthetic document, generated for Meent's benchmark (seed {self.seed}).",
        )
        out.add(ref, PAGE, _iri(page))
        out.add(ref, PUBLISHER, publisher)
        out.typed(ref, _m("retrieved"), "2026", XSD_GYEAR)

    def _backbone(self, town: Municipality) -> Lines:
        rng, out = self.rng, Lines()
        g, name, slug = town.ref, town.name, town.slug
        self._source(
            out,
            town.source,
            f"Website gemeente {name}",
            f"Website of the municipality of {name}",
            f"https://www.example.org/gemeente/{slug}/",
            g,
        )
        for t in (C_GEMEENTE, C_PUBLIC_ORG, C_ORGANIZATION):
            out.add(g, A, t)
        out.both(g, LABEL, f"Gemeente {name}", f"Municipality of {name}")
        out.both(
            g,
            DESCRIPTION,
            f"De gemeente {name} (gemeentecode {town.code:04d}).",
            f"The municipality of {name} (municipality code {town.code:04d}).",
        )
        out.add(g, DERIVED_FROM, town.source)

        for ref, nl, en in town.units.items:
            out.add(ref, A, C_UNIT)
            out.both(ref, LABEL, f"Afdeling {nl}, gemeente {name}", f"{en}, {name}")
            out.both(
                ref,
                DESCRIPTION,
                f"De afdeling {nl} van de gemeente {name}.",
                f"The {en} department of the municipality of {name}.",
            )
            out.add(ref, UNIT_OF, g)
            out.add(ref, DERIVED_FROM, town.source)

        # Every town has at least a centre, a north and a south; some have up to nine districts.
        for i, (nl, en, letter) in enumerate(_DISTRICTS[: rng.randint(3, len(_DISTRICTS))]):
            ref = _iri(f"{ID}district/{slug}-{slugify(nl)}")
            out.add(ref, A, C_LOCATION)
            out.add(ref, A, _m("District"))
            out.both(ref, LABEL, f"{name} {nl}", f"{name} {en}")
            out.both(
                ref,
                DESCRIPTION,
                f"Stadsdeel {nl} van de gemeente {name} (lettercode {letter}).",
                f"{en}, a district of the municipality of {name} (letter code {letter}).",
            )
            out.plain(ref, NOTATION, letter)
            out.plain(ref, IDENTIFIER, f"WK{town.code:04d}{i:02d}")
            out.add(ref, _m("municipality"), g)
            out.add(ref, DERIVED_FROM, town.source)
            town.districts.append((ref, f"{name} {nl}"))

        for p in range(1 if rng.random() < 0.8 else 2):
            self._programme(out, town, p)
        return out

    def _programme(self, out: Lines, town: Municipality, index: int) -> None:
        rng, name, slug = self.rng, town.name, town.slug
        suffix = "" if index == 0 else f"-{index + 1}"
        prog = _iri(f"{ID}programme/{slug}-incubator{suffix}")
        toolbox = _iri(f"{ID}toolbox/{slug}-samenwerken{suffix}")
        event = _iri(f"{ID}event/{slug}-lancering{suffix}")
        source = _iri(f"{ID}source/{slug}-programma{suffix}")
        unit = town.units.items[0][0]
        start_year = rng.randint(2018, 2024)
        # Before November, so the first cohort (which ends on 15 December) ends after it starts.
        start = f"{start_year}-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"
        self._source(
            out,
            source,
            f"Incubatorprogramma publiek-collectief samenwerken, gemeente {name}",
            f"Incubator programme for public–collective collaboration, {name}",
            f"https://www.example.org/gemeente/{slug}/programma{suffix}",
            town.ref,
        )
        out.add(prog, A, _m("Programme"))
        out.both(
            prog,
            LABEL,
            f"Incubatorprogramma publiek-collectief samenwerken {name}{suffix}",
            f"{name} public–collective collaboration incubator{suffix}",
        )
        out.both(
            prog,
            DESCRIPTION,
            f"Programma van de gemeente {name} voor koppels van ambtenaren en initiatiefnemers.",
            f"Programme of the municipality of {name} for koppels of civil servants and "
            "initiators.",
        )
        out.add(prog, _m("organiser"), unit)
        out.add(prog, _m("organiser"), town.ref)
        out.typed(prog, START, start, XSD_DATE)
        out.add(prog, _m("toolbox"), toolbox)
        if self.incubator is not None:
            out.add(prog, _m("instrument"), self.incubator.ref)
        out.add(prog, DERIVED_FROM, source)

        out.add(toolbox, A, _m("Toolbox"))
        out.both(
            toolbox,
            LABEL,
            f"Toolbox publiek-collectief samenwerken {name}{suffix}",
            f"{name} toolbox for public–collective collaboration{suffix}",
        )
        out.both(
            toolbox,
            DESCRIPTION,
            f"Wat de koppels in het programma van {name} leerden en wat werkte.",
            f"What the koppels in the {name} programme learnt and what worked.",
        )
        out.add(toolbox, DERIVED_FROM, source)
        town.toolboxes.append(toolbox)

        if rng.random() < 0.5:
            goal = _iri(f"{ID}goal/{slug}-cooperatieve-economie{suffix}")
            share = rng.choice((10, 15, 20, 25, 35))
            year = rng.choice((2030, 2035, 2040))
            out.add(prog, _m("hasGoal"), goal)
            out.add(goal, A, _m("Goal"))
            out.both(
                goal,
                LABEL,
                f"{share}% coöperatieve economie in {name} in {year}",
                f"{share}% cooperative economy in {name} by {year}",
            )
            out.both(
                goal,
                DESCRIPTION,
                f"Doel van het programma: {share}% van de economie van {name} in coöperatieve "
                f"handen in {year}.",
                f"The programme's goal: {share}% of {name}'s economy in cooperative hands by "
                f"{year}.",
            )
            out.typed(goal, _m("targetShare"), f"{share / 100:.2f}", XSD_DECIMAL)
            out.typed(goal, _m("targetYear"), str(year), XSD_GYEAR)
            out.both(
                goal,
                _m("indicator"),
                "aandeel van de lokale economie in coöperatieve handen",
                "share of the local economy in cooperative hands",
            )
            out.add(goal, DERIVED_FROM, source)

        out.add(event, A, C_EVENT)
        out.add(event, A, C_PUBLIC_EVENT)
        out.both(
            event, LABEL, f"Lancering incubatorprogramma {name}", f"Launch of the {name} incubator"
        )
        out.both(
            event,
            DESCRIPTION,
            f"Lanceringsavond van het incubatorprogramma van de gemeente {name}.",
            f"Launch evening of the incubator programme of the municipality of {name}.",
        )
        out.typed(event, START, f"{start}T17:30:00+01:00", XSD_DATETIME)
        out.typed(event, END, f"{start}T22:00:00+01:00", XSD_DATETIME)
        out.add(event, ABOUT, prog)
        out.add(event, ORGANIZER, unit)
        out.add(event, DERIVED_FROM, source)

        for year in range(start_year, min(start_year + 4, 2025) + 1):
            cohort = _iri(f"{ID}cohort/{slug}-incubator{suffix}-{year}")
            out.add(cohort, A, _m("Cohort"))
            out.both(
                cohort,
                LABEL,
                f"Incubatorprogramma {name}{suffix}, cohort {year}",
                f"{name} incubator{suffix}, {year} cohort",
            )
            out.both(
                cohort,
                DESCRIPTION,
                f"De koppels die in {year} meededen aan het incubatorprogramma van {name}.",
                f"The koppels taking part in the {name} incubator programme in {year}.",
            )
            out.add(cohort, _m("cohortOf"), prog)
            cohort_start = start if year == start_year else f"{year}-02-01"
            out.typed(cohort, START, cohort_start, XSD_DATE)
            out.typed(cohort, END, f"{year}-12-15", XSD_DATE)
            out.add(cohort, DERIVED_FROM, source)
            town.cohorts.append((cohort, year))
            town.toolbox_of_cohort[cohort] = toolbox

    # --- clusters ------------------------------------------------------------------------------

    def _cluster(self, town: Municipality, n: int) -> Lines:
        """One commons with everything around it; ``n`` makes its slugs unique."""
        rng, s, out = self.rng, self.s, Lines()
        theme: Concept = self.themes.pick(rng)
        form: Concept = rng.choices(self.legal_forms[0], cum_weights=self.legal_forms[1])[0]
        district, place = rng.choice(town.districts)
        kind_key = "cooperative" if form.slug.startswith("cooperative") else form.slug
        kind_nl, kind_en = _KIND_BY_LEGAL_FORM.get(kind_key, _KIND_BY_LEGAL_FORM[""])
        name_nl = f"{kind_nl} {theme.nl} {place}"
        name_en = f"{place} {theme.en} {kind_en}"
        cslug = f"{slugify(theme.en)}-{slugify(place)}-{n}"
        commons = _iri(f"{ID}commons/{cslug}")
        source = _iri(f"{ID}source/{cslug}")

        self._source(
            out,
            source,
            f"Over {name_nl}",
            f"About {name_en}",
            f"https://nieuws.example.org/{town.slug}/{cslug}",
            town.ref,
        )
        out.add(source, ISSUED, self._date_literal(2015, 2025))

        out.add(commons, A, _m("Commons"))
        if form.slug != "informal":
            out.add(commons, A, C_FORMAL_ORG)
            out.add(commons, A, C_REGISTERED)
        if kind_key == "cooperative":
            out.add(commons, A, C_COOPERATIVE)
        out.both(commons, LABEL, name_nl, name_en)
        out.both(
            commons,
            DESCRIPTION,
            f"Bewonerscollectief in {place} dat werkt aan {theme.nl}.",
            f"Residents' collective in {place} working on {theme.en}.",
        )
        out.add(commons, SPATIAL, district)
        out.add(commons, _m("theme"), theme.ref)
        if rng.random() < 0.3:
            second = self.themes.pick_other(rng, theme)
            if second is not None:
                out.add(commons, _m("theme"), second.ref)
        if rng.random() < 0.8:
            out.add(commons, HOMEPAGE, _iri(f"https://{cslug}.example.org/"))
        out.add(commons, ORG_TYPE, form.ref)
        if rng.random() < 0.7:
            out.typed(commons, FOUNDED, str(rng.randint(1995, 2024)), XSD_GYEAR)
        out.add(commons, DERIVED_FROM, source)

        # Most commons work with the municipality; about half of those take part in a programme.
        if rng.random() >= 0.75:
            return out
        unit, unit_nl, unit_en = town.units.pick(rng)
        collab = _iri(f"{ID}collaboration/{cslug}")
        start_year = rng.randint(2016, 2025)
        out.add(collab, A, _m("Collaboration"))
        out.both(
            collab,
            LABEL,
            f"Samenwerking {name_nl} en {unit_nl}",
            f"Collaboration of {name_en} and {unit_en}",
        )
        out.both(
            collab,
            DESCRIPTION,
            f"{name_nl} en de afdeling {unit_nl} werken samen aan {theme.nl}.",
            f"{name_en} and the {unit_en} department work together on {theme.en}.",
        )
        out.add(collab, _m("collectivePartner"), commons)
        out.add(collab, _m("publicPartner"), unit)
        out.add(collab, _m("theme"), theme.ref)
        out.add(collab, _m("formalBasis"), rng.choice(s.formal_bases).ref)
        out.add(collab, _m("collaborationForm"), rng.choice(s.collaboration_forms).ref)
        out.add(collab, _m("municipalRole"), self.roles.pick(rng).ref)
        barrier: Concept = self.barriers.pick(rng)
        instrument: Concept = self.instruments.pick(rng)
        out.add(collab, _m("instrument"), instrument.ref)
        out.add(collab, _m("barrier"), barrier.ref)
        out.typed(collab, START, f"{start_year}-{rng.randint(1, 12):02d}-01", XSD_DATE)
        if rng.random() < 0.3:
            out.typed(collab, END, f"{start_year + rng.randint(1, 4)}-12-31", XSD_DATE)
        out.add(collab, DERIVED_FROM, source)

        if rng.random() < 0.5:
            practice = _iri(f"{ID}practice/{slugify(instrument.en)}-{n}")
            out.add(practice, A, _m("Practice"))
            out.both(
                practice,
                LABEL,
                f"{_capital(instrument.nl)} tegen {barrier.nl} ({place})",
                f"{_capital(instrument.en)} against {barrier.en} ({place})",
            )
            out.both(
                practice,
                DESCRIPTION,
                f"Om {barrier.nl} te overwinnen zetten {name_nl} en de afdeling {unit_nl} "
                f"{instrument.nl} in.",
                f"To overcome {barrier.en}, {name_en} and the {unit_en} unit used {instrument.en}.",
            )
            out.add(practice, _m("inToolbox"), rng.choice(town.toolboxes))
            out.add(practice, _m("theme"), theme.ref)
            out.add(practice, _m("instrument"), instrument.ref)
            out.add(practice, _m("addressesBarrier"), barrier.ref)
            out.add(practice, ATTRIBUTED_TO, commons)
            out.add(practice, DERIVED_FROM, source)

        if rng.random() >= 0.6:
            return out
        cohort, year = rng.choice(town.cohorts)
        koppel = _iri(f"{ID}koppel/{year}-{cslug}")
        out.add(koppel, A, _m("Koppel"))
        out.both(koppel, LABEL, f"Koppel {name_nl} ({year})", f"{name_en} koppel ({year})")
        out.both(
            koppel,
            DESCRIPTION,
            f"Koppel van een ambtenaar van {unit_nl} en een initiatiefnemer van {name_nl}.",
            f"Koppel of a civil servant of {unit_en} and an initiator of {name_en}.",
        )
        out.add(koppel, _m("inCohort"), cohort)
        out.add(koppel, _m("theme"), theme.ref)
        out.add(koppel, _m("initiative"), commons)
        out.add(koppel, _m("municipalUnit"), unit)
        out.add(koppel, _m("collaboration"), collab)
        out.add(koppel, SPATIAL, district)
        if rng.random() < 0.5:
            out.both(koppel, _m("nextStep"), *rng.choice(_NEXT_STEPS))
        out.add(koppel, DERIVED_FROM, source)

        if rng.random() < 0.6:
            lesson = _iri(f"{ID}lesson/{slugify(barrier.en)}-{n}")
            lesson_barrier = self.barriers.pick(rng)
            out.add(lesson, A, _m("Lesson"))
            out.both(
                lesson,
                LABEL,
                f"Les over {lesson_barrier.nl} ({name_nl})",
                f"Lesson on {lesson_barrier.en} ({name_en})",
            )
            out.both(
                lesson,
                DESCRIPTION,
                f"Het koppel liep aan tegen {lesson_barrier.nl} en leerde dat vroeg "
                "gezamenlijk overleg helpt.",
                f"The koppel ran into {lesson_barrier.en} and learnt that early joint "
                "consultation helps.",
            )
            out.add(lesson, _m("inToolbox"), town.toolbox_of_cohort[cohort])
            out.add(lesson, _m("barrier"), lesson_barrier.ref)
            out.add(lesson, _m("theme"), theme.ref)
            out.add(lesson, GENERATED_BY, cohort)
            out.add(lesson, ATTRIBUTED_TO, koppel)
            out.add(lesson, DERIVED_FROM, source)
        return out

    def _archived_source(self, town: Municipality, n: int) -> Lines:
        """A source document nothing cites yet (an archived page): exactly 9 triples."""
        out = Lines()
        self._source(
            out,
            _iri(f"{ID}source/{town.slug}-archief-{n}"),
            f"Archiefpagina {n}, gemeente {town.name}",
            f"Archived page {n}, municipality of {town.name}",
            f"https://www.example.org/gemeente/{town.slug}/archief/{n}",
            town.ref,
        )
        return out

    def _date_literal(self, first_year: int, last_year: int) -> str:
        rng = self.rng
        date = f"{rng.randint(first_year, last_year)}-{rng.randint(1, 12):02d}-"
        return f"{literal(date + f'{rng.randint(1, 28):02d}')}^^<{XSD_DATE}>"


def generate(triples: int, seed: int, *, schemes: Path = SCHEMES_FILE) -> Iterator[str]:
    """N-Triples lines (each ending in a newline) of a synthetic Meent graph of about
    ``triples`` triples (within ±1 % for any size from 2,000 up), the same for the same
    ``seed``. Streams: memory does not grow with the size."""
    return iter(Generator(triples, seed, Schemes.from_file(schemes)))


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kKmMgG]?)$")


def parse_size(text: str) -> int:
    """``100k``, ``1M``, ``2.5M``, ``10000`` or ``10_000`` → a number of triples."""
    match = _SIZE.match(text.replace("_", ""))
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 100k, 1M, 10M)")
    number, unit = match.groups()
    factor = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}[unit.lower()]
    return round(float(number) * factor)


def write(triples: int, seed: int, out: TextIO) -> int:
    """Writes the graph to ``out``; returns the number of triples written."""
    count = 0
    buffer: list[str] = []
    for line in generate(triples, seed):
        buffer.append(line)
        if len(buffer) == 10_000:
            out.writelines(buffer)
            count += len(buffer)
            buffer.clear()
    out.writelines(buffer)
    return count + len(buffer)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description="Write a deterministic, synthetic Meent graph as N-Triples.",
    )
    parser.add_argument("--triples", type=parse_size, required=True, help="100k, 1M, 10M, …")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default="-", help="an .nt file, or - for standard output")
    args = parser.parse_args(argv)
    if args.triples < MIN_TRIPLES:
        parser.error(f"--triples must be at least {MIN_TRIPLES}")
    began = time.perf_counter()
    if args.out == "-":
        count = write(args.triples, args.seed, sys.stdout)
    else:
        with open(args.out, "w", encoding="utf-8", newline="\n") as out:
            count = write(args.triples, args.seed, out)
    seconds = time.perf_counter() - began
    print(
        f"{count:,} triples in {seconds:.1f} s ({count / seconds:,.0f} triples/s) → {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
