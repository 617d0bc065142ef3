"""The schema.org JSON-LD a resource page embeds, so search engines can index it.

Only what maps plainly: a schema.org type for Meent's and the reused classes, the name and
description in the page's language, the canonical IRI, and the sources' web pages.
"""

from __future__ import annotations

import json

from service.views.resource_view import ResourceView
from service.vocab import PREFIXES

_M, _ORG, _S = PREFIXES["meent"], PREFIXES["org"], PREFIXES["schema"]
#: Our classes → schema.org types; the first match in this order wins.
TYPES: tuple[tuple[str, str], ...] = (
    (PREFIXES["tooiont"] + "Gemeente", "GovernmentOrganization"),
    (PREFIXES["cv"] + "PublicOrganisation", "GovernmentOrganization"),
    (_S + "Event", "Event"),
    (_M + "Commons", "Organization"),
    (_ORG + "Organization", "Organization"),
    (_ORG + "FormalOrganization", "Organization"),
    (_ORG + "OrganizationalUnit", "Organization"),
    (_M + "Programme", "Project"),
    (_M + "Collaboration", "Project"),
    (_M + "SourceDocument", "CreativeWork"),
    (_M + "Practice", "CreativeWork"),
    (_M + "Lesson", "CreativeWork"),
    (_M + "District", "Place"),
    (_M + "Neighbourhood", "Place"),
    (PREFIXES["dct"] + "Location", "Place"),
    (PREFIXES["skos"] + "ConceptScheme", "DefinedTermSet"),
    (PREFIXES["skos"] + "Concept", "DefinedTerm"),
)


def schema_type(type_iris: list[str]) -> str:
    return next((name for iri, name in TYPES if iri in type_iris), "Thing")


def json_ld(view: ResourceView, lang: str) -> str:
    """The JSON-LD text, safe inside a ``<script>`` element."""
    data: dict[str, object] = {
        "@context": "https://schema.org/",
        "@type": schema_type([t.iri for t in view.types]),
        "@id": view.iri,
        "url": view.iri,
        "name": view.title,
        "inLanguage": lang,
    }
    if view.description:
        data["description"] = view.description
    pages = [page for source in view.sources for page in source.pages]
    if pages:
        data["isBasedOn"] = pages
    text = json.dumps(data, ensure_ascii=False, indent=1)
    # "</script>" or "<!--" inside a string would end or confuse the element: escape "<".
    return text.replace("<", "\\u003c")
