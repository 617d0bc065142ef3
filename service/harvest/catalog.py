"""The DCAT-AP 3.0.1 / DCAT-AP-NL 3.0 catalogue of this instance, served at ``/catalog``
(``service.web.routes.catalog``).

One catalogue, one dataset (the published graph: the union of the named graphs), a
distribution for every dump (``service.harvest.dumps``) with its size, media type and SPDX SHA-256
checksum, one for the SPARQL endpoint, and the endpoint itself as a ``dcat:DataService``.
It is generated per request from the settings (publisher, contact point, title, temporal
coverage) and the store (modification time, dump checksums, canonical hash), and never
stored: the catalogue describes the graph, it is not part of it.

Served as RDF to clients that send no ``Accept`` (harvesters — DCAT-AP harvesting via CKAN
and data.europa.eu fetch without one) or ``*/*``: Turtle, else RDF/XML, JSON-LD or N-Triples
by negotiation; as an HTML page to browsers.

IRIs: the catalogue is ``{base}catalog``; its parts are fragments of it
(``#dataset``, ``#sparql``, ``#dump-ttl`` …), so each dereferences to this document.
Controlled values follow DCAT-AP §"Controlled vocabularies": EU authority tables for
themes (data-theme SOCI, GOVE), languages (NLD, ENG), file types and access rights; IANA
media types; ADMS publisher and licence types; Geonames for Amsterdam (2759794, accepted by
DCAT-AP's ``GeoNamesRestrictionRegexURI``); the TOOI IRI of the gemeente Amsterdam besides.
Every value is typed with the class the DCAT-AP(-NL) range shapes ask for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from service.config import Settings
from service.harvest.dumps import BY_NAME, Manifest, download_url
from service.vocab import PREFIXES, VCARD

EU = "http://publications.europa.eu/resource/authority/"
SPDX = "http://spdx.org/rdf/terms#"
ADMS = "http://www.w3.org/ns/adms#"
IANA = "https://www.iana.org/assignments/media-types/"
CC_BY_4 = "http://creativecommons.org/licenses/by/4.0/"
LICENCE_TYPE = "http://purl.org/adms/licencetype/Attribution"
PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"
THEMES = (EU + "data-theme/SOCI", EU + "data-theme/GOVE")
LANGUAGES = (EU + "language/NLD", EU + "language/ENG")
ACCESS_PUBLIC = EU + "access-right/PUBLIC"
FREQUENCY = EU + "frequency/IRREG"
AMSTERDAM_GEONAMES = "https://sws.geonames.org/2759794/"
AMSTERDAM_TOOI = "https://identifier.overheid.nl/tooi/id/gemeente/gm0363"
SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"
RDFC = "https://www.w3.org/TR/rdf-canon/"
KEYWORDS = ("commons", "meent", "publiek-collectief samenwerken", "koppels", "Amsterdam")

#: Formats for datasets only: a catalogue is one graph.
DATASET_ONLY = {"application/n-quads", "application/trig"}
#: Graph formats first (Turtle when the client has no preference), HTML when asked for.
#: Prefixes for the catalogue's Turtle.
CATALOG_PREFIXES = {
    **{k: v for k, v in PREFIXES.items() if k in {"dcat", "dct", "foaf", "vcard", "xsd", "rdf"}},
    "dcatap": "http://data.europa.eu/r5r/",
    "spdx": SPDX,
    "adms": ADMS,
    "skos": str(SKOS),
    "void": "http://rdfs.org/ns/void#",
}


class TripleGraph:
    """Triples built with plain strings for IRIs."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, s: str | ox.BlankNode, p: str, o: str | ox.Literal | ox.BlankNode) -> None:
        subject = s if isinstance(s, ox.BlankNode) else ox.NamedNode(s)
        obj = o if isinstance(o, ox.Literal | ox.BlankNode) else ox.NamedNode(o)
        self.triples.append(ox.Triple(subject, ox.NamedNode(p), obj))


def text_literal(value: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(value, language=lang) if lang else ox.Literal(value)


def typed_literal(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(datatype))


def datetime_literal(moment: datetime) -> ox.Literal:
    return typed_literal(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), str(XSD.dateTime))


@dataclass(frozen=True)
class CatalogIris:
    catalog: str
    dataset: str
    service: str
    contact: str
    sparql_distribution: str

    @classmethod
    def of(cls, settings: Settings) -> CatalogIris:
        base = settings.base_iri + "catalog"
        return cls(
            base, base + "#dataset", base + "#sparql", base + "#contact", base + "#dump-sparql"
        )

    def distribution(self, name: str) -> str:
        return f"{self.catalog}#dump-{name.removeprefix('meent.').replace('.', '-')}"


def describe_agents(graph: TripleGraph, settings: Settings, contact: str, landing: str) -> None:
    """The publisher (an organisation, never a person) and its public contact point."""
    publisher = settings.publisher
    graph.add(publisher, str(RDF.type), str(FOAF.Agent))
    graph.add(publisher, str(RDF.type), str(FOAF.Organization))
    graph.add(publisher, str(FOAF.name), text_literal(settings.publisher_name))
    graph.add(publisher, str(DCTERMS.type), PUBLISHER_TYPE + settings.publisher_type)
    graph.add(contact, str(RDF.type), str(VCARD.Kind))
    graph.add(contact, str(RDF.type), str(VCARD.Organization))
    graph.add(contact, str(VCARD.fn), text_literal(settings.publisher_name))
    if settings.contact_email:
        graph.add(contact, str(VCARD.hasEmail), "mailto:" + settings.contact_email)
    graph.add(contact, str(VCARD.hasURL), settings.contact_url or landing)


def _common(graph: TripleGraph, subject: str, settings: Settings, contact: str) -> None:
    graph.add(subject, str(DCTERMS.publisher), settings.publisher)
    graph.add(subject, str(DCAT.contactPoint), contact)


def _controlled_values(graph: TripleGraph, landing: str, base_iri: str) -> None:
    """Type the values as the DCAT-AP(-NL) range shapes require (DCAT-AP 3.0.1 range.ttl).

    Concepts of the EU and ADMS vocabularies are not described here: their labels and
    schemes are the authority's to publish, and harvesters hold those tables.
    """
    type_ = str(RDF.type)
    for language in LANGUAGES:
        graph.add(language, type_, str(DCTERMS.LinguisticSystem))
    graph.add(ACCESS_PUBLIC, type_, str(DCTERMS.RightsStatement))
    graph.add(FREQUENCY, type_, str(DCTERMS.Frequency))
    graph.add(CC_BY_4, type_, str(DCTERMS.LicenseDocument))
    graph.add(CC_BY_4, str(DCTERMS.type), LICENCE_TYPE)
    graph.add(SPDX + "checksumAlgorithm_sha256", type_, SPDX + "ChecksumAlgorithm")
    for place in (AMSTERDAM_GEONAMES, AMSTERDAM_TOOI):
        graph.add(place, type_, str(DCTERMS.Location))
    for standard in (SPARQL_PROTOCOL, base_iri + "def"):
        graph.add(standard, type_, str(DCTERMS.Standard))
    for document in (landing, landing + "dumps/"):
        graph.add(document, type_, str(FOAF.Document))
    graph.add(IANA + "application/gzip", type_, str(DCTERMS.MediaType))


def build_catalog(
    settings: Settings, manifest: Manifest, modified: datetime, landing: str
) -> list[ox.Triple]:
    """The catalogue's triples (DCAT-AP 3.0.1 §5 classes; DCAT-AP-NL 3.0 mandatory properties),
    for the host whose landing page is ``landing``."""
    iris = CatalogIris.of(settings)
    sparql_url = landing + "sparql"
    graph = TripleGraph()
    type_ = str(RDF.type)
    describe_agents(graph, settings, iris.contact, landing)
    _controlled_values(graph, landing, settings.base_iri)

    catalog = iris.catalog
    graph.add(catalog, type_, str(DCAT.Catalog))
    graph.add(catalog, str(DCTERMS.title), text_literal(settings.instance_title, "en"))
    graph.add(
        catalog,
        str(DCTERMS.description),
        text_literal(
            f"Catalogue of {settings.instance_title}: " + settings.instance_description, "en"
        ),
    )
    _common(graph, catalog, settings, iris.contact)
    graph.add(catalog, str(FOAF.homepage), landing)
    graph.add(catalog, str(DCTERMS.license), CC_BY_4)
    graph.add(catalog, str(DCAT.themeTaxonomy), EU + "data-theme")
    graph.add(catalog, str(DCTERMS.modified), datetime_literal(modified))
    graph.add(catalog, str(DCTERMS.spatial), AMSTERDAM_GEONAMES)
    for language in LANGUAGES:
        graph.add(catalog, str(DCTERMS.language), language)
    graph.add(catalog, str(DCAT.dataset), iris.dataset)
    graph.add(catalog, str(DCAT.service), iris.service)

    dataset = iris.dataset
    graph.add(dataset, type_, str(DCAT.Dataset))
    graph.add(dataset, str(DCTERMS.title), text_literal(settings.instance_title, "en"))
    graph.add(dataset, str(DCTERMS.description), text_literal(settings.instance_description, "en"))
    graph.add(dataset, str(DCTERMS.identifier), text_literal(dataset))
    _common(graph, dataset, settings, iris.contact)
    graph.add(dataset, str(DCTERMS.creator), settings.publisher)
    graph.add(dataset, str(DCTERMS.accessRights), ACCESS_PUBLIC)
    graph.add(dataset, str(DCTERMS.accrualPeriodicity), FREQUENCY)
    graph.add(dataset, str(DCTERMS.modified), datetime_literal(modified))
    graph.add(dataset, str(DCAT.landingPage), landing)
    graph.add(dataset, str(DCTERMS.conformsTo), settings.base_iri + "def")
    for theme in THEMES:
        graph.add(dataset, str(DCAT.theme), theme)
    for language in LANGUAGES:
        graph.add(dataset, str(DCTERMS.language), language)
    for place in (AMSTERDAM_GEONAMES, AMSTERDAM_TOOI):
        graph.add(dataset, str(DCTERMS.spatial), place)
    for keyword in KEYWORDS:
        graph.add(dataset, str(DCAT.keyword), text_literal(keyword))
    period = ox.BlankNode()
    graph.add(dataset, str(DCTERMS.temporal), period)
    graph.add(period, type_, str(DCTERMS.PeriodOfTime))
    graph.add(period, str(DCAT.startDate), typed_literal(settings.temporal_start, str(XSD.date)))
    if settings.temporal_end:
        graph.add(period, str(DCAT.endDate), typed_literal(settings.temporal_end, str(XSD.date)))
    canonical_identifier(graph, dataset, manifest)

    for entry in manifest.files:
        dump = BY_NAME[entry.name]
        dist = iris.distribution(entry.name)
        url = download_url(landing, entry.name)
        graph.add(dataset, str(DCAT.distribution), dist)
        graph.add(dist, type_, str(DCAT.Distribution))
        graph.add(dist, str(DCTERMS.title), text_literal(f"Full dump: {entry.name}", "en"))
        graph.add(dist, str(DCAT.accessURL), url)
        graph.add(dist, str(DCAT.downloadURL), url)
        graph.add(dist, str(DCTERMS.license), CC_BY_4)
        graph.add(dist, str(DCTERMS.format), EU + "file-type/" + dump.file_type)
        graph.add(dist, str(DCAT.mediaType), IANA + dump.media_type)
        if dump.compressed:
            graph.add(dist, str(DCAT.compressFormat), IANA + "application/gzip")
        graph.add(
            dist, str(DCAT.byteSize), typed_literal(str(entry.bytes), str(XSD.nonNegativeInteger))
        )
        graph.add(dist, str(DCTERMS.modified), datetime_literal(manifest.built))
        checksum = ox.BlankNode()
        graph.add(dist, SPDX + "checksum", checksum)
        graph.add(checksum, type_, SPDX + "Checksum")
        graph.add(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
        graph.add(checksum, SPDX + "checksumValue", typed_literal(entry.sha256, str(XSD.hexBinary)))
        graph.add(dist, str(FOAF.page), landing + "dumps/")
        graph.add(EU + "file-type/" + dump.file_type, type_, str(DCTERMS.MediaTypeOrExtent))
        graph.add(IANA + dump.media_type, type_, str(DCTERMS.MediaType))

    dist = iris.sparql_distribution
    graph.add(dataset, str(DCAT.distribution), dist)
    graph.add(dist, type_, str(DCAT.Distribution))
    graph.add(dist, str(DCTERMS.title), text_literal("SPARQL endpoint", "en"))
    graph.add(dist, str(DCAT.accessURL), sparql_url)
    graph.add(dist, str(DCAT.accessService), iris.service)
    graph.add(dist, str(DCTERMS.license), CC_BY_4)
    graph.add(dist, str(DCTERMS.format), EU + "file-type/SPARQLQ")
    graph.add(EU + "file-type/SPARQLQ", type_, str(DCTERMS.MediaTypeOrExtent))

    service = iris.service
    graph.add(service, type_, str(DCAT.DataService))
    graph.add(
        service,
        str(DCTERMS.title),
        text_literal(f"{settings.instance_title} SPARQL endpoint", "en"),
    )
    graph.add(
        service,
        str(DCTERMS.description),
        text_literal(
            "SPARQL 1.1 Protocol endpoint over the whole graph (default graph: the union of "
            "the named graphs). Read-only.",
            "en",
        ),
    )
    graph.add(service, str(DCTERMS.identifier), text_literal(service))
    _common(graph, service, settings, iris.contact)
    graph.add(service, str(DCAT.endpointURL), sparql_url)
    graph.add(service, str(DCAT.endpointDescription), sparql_url)
    graph.add(service, str(DCTERMS.conformsTo), SPARQL_PROTOCOL)
    graph.add(service, str(DCAT.servesDataset), dataset)
    graph.add(service, str(DCTERMS.accessRights), ACCESS_PUBLIC)
    graph.add(service, str(DCTERMS.license), CC_BY_4)
    for theme in THEMES:
        graph.add(service, str(DCAT.theme), theme)
    return graph.triples


def canonical_identifier(graph: TripleGraph, dataset: str, manifest: Manifest) -> None:
    """The canonical hash as an ``adms:identifier`` (DCAT-AP "other identifier"): an
    identifier of exactly this content, whoever holds the copy."""
    identifier = ox.BlankNode()
    graph.add(dataset, ADMS + "identifier", identifier)
    graph.add(identifier, str(RDF.type), ADMS + "Identifier")
    graph.add(identifier, str(SKOS.notation), typed_literal(manifest.canonical_hash, RDFC))
    graph.add(
        identifier,
        ADMS + "schemaAgency",
        text_literal(
            "W3C RDF Dataset Canonicalization (RDFC-1.0), SHA-256 of the canonical N-Quads"
        ),
    )
