"""Namespaces and the prefix map: the single source for Python code, queries and Turtle output."""

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SH, SKOS, VANN, VOID, XSD

BASE_IRI = "https://w3id.org/meent/"

MEENT = Namespace(BASE_IRI + "def#")
MEENTSH = Namespace(BASE_IRI + "shapes#")
ID = Namespace(BASE_IRI + "id/")
GRAPH = Namespace(BASE_IRI + "graph/")

ORG = Namespace("http://www.w3.org/ns/org#")
CV = Namespace("http://data.europa.eu/m8g/")
ROV = Namespace("http://www.w3.org/ns/regorg#")
TOOIONT = Namespace("https://identifier.overheid.nl/tooi/def/ont/")
DCATAP = Namespace("http://data.europa.eu/r5r/")
DCT = DCTERMS
LOCN = Namespace("http://www.w3.org/ns/locn#")
SCHEMA = Namespace("https://schema.org/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
VF = Namespace("https://w3id.org/valueflows/ont/vf#")
ESSGLOBAL = Namespace("http://purl.org/essglobal/vocab/")
CC = Namespace("http://creativecommons.org/ns#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
SOSA = Namespace("http://www.w3.org/ns/sosa/")

#: Prefix → namespace, used when writing Turtle, SPARQL prologues and JSON-LD contexts.
PREFIXES: dict[str, str] = {
    "cc": str(CC),
    "cv": str(CV),
    "dcat": str(DCAT),
    "dcatap": str(DCATAP),
    "dct": str(DCT),
    "eli": str(ELI),
    "essglobal": str(ESSGLOBAL),
    "foaf": str(FOAF),
    "locn": str(LOCN),
    "meent": str(MEENT),
    "meentsh": str(MEENTSH),
    "org": str(ORG),
    "owl": str(OWL),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "rov": str(ROV),
    "schema": str(SCHEMA),
    "sh": str(SH),
    "skos": str(SKOS),
    "sosa": str(SOSA),
    "tooiont": str(TOOIONT),
    "vann": str(VANN),
    "vcard": str(VCARD),
    "vf": str(VF),
    "void": str(VOID),
    "xsd": str(XSD),
}
