"""Dereferenceable IRIs (docs/architecture.md, "IRIs": the Dutch URI strategy; W3C "Cool URIs
for the Semantic Web" §4.3, 303 URIs).

- ``GET /id/{type}/{slug}`` → ``303 See Other`` → ``/doc/{type}/{slug}``: the thing is not
  the document about it.
- ``GET /doc/{type}/{slug}`` → the description as HTML or RDF, by ``Accept``, by
  ``?format=`` or by extension (``.ttl .nt .jsonld .rdf .nq .trig .html``).
- ``GET /resource?iri=…`` → the same for any IRI the graph mentions (external ones included);
  canonical IRIs are redirected to their own addresses.

Canonical IRIs are built from ``settings.base_iri``, so whatever host serves a request, it
answers for ``https://w3id.org/meent/id/…``.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import anyio.to_thread
import pyoxigraph as ox
from fastapi import Query, Request, Response

from service.rdf.conneg import Format
from service.rdf.writing import write_rdf
from service.views.describe import Description, describe, exists
from service.views.links import doc_iri, local_href, sparql_describe
from service.views.resource_view import build
from service.views.schemaorg import json_ld
from service.vocab import PREFIXES
from service.web.deps import SettingsDep, StoreDep, TemplatesDep
from service.web.errors import BadRequest
from service.web.i18n import page_language
from service.web.negotiation import choose_format
from service.web.pages import (
    DOC_FORMATS,
    EXTENSIONS,
    HTML,
    SEGMENT,
    jsonld_context,
    link_header,
    not_found,
    not_modified,
    page_number,
    render,
    validators,
    vary,
)
from service.web.routing import Router

router = Router()


def _see_other(location: str, request: Request) -> Response:
    query = request.url.query
    return Response(
        status_code=303,
        headers={"Location": location + (f"?{query}" if query else ""), "Vary": "Accept"},
    )


@router.get("/id/{type_}/{slug}")
async def thing(
    type_: str,
    slug: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    templates: TemplatesDep,
) -> Response:
    iri = doc_iri(settings.base_iri, type_, slug)
    if not (SEGMENT.match(type_) and SEGMENT.match(slug)) or not await exists(
        store, ox.NamedNode(iri)
    ):
        return await not_found(request, store, settings, templates, iri)
    return _see_other(f"/doc/{type_}/{slug}", request)


@router.get("/doc/{type_}/{slug}")
async def document(
    type_: str,
    slug: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    templates: TemplatesDep,
) -> Response:
    stem, dot, extension = slug.rpartition(".")
    if not dot or extension not in EXTENSIONS:
        stem, extension = slug, ""
    iri = doc_iri(settings.base_iri, type_, stem)
    if not (SEGMENT.match(type_) and SEGMENT.match(stem)):
        return await not_found(request, store, settings, templates, iri)
    fmt = choose_format(request, DOC_FORMATS, extension=extension or None)
    base_path = f"/doc/{type_}/{stem}"
    alternates = [(f"{base_path}.{f.extension}", f) for f in DOC_FORMATS]
    return await _resource(request, store, settings, templates, iri, fmt, base_path, alternates)


@router.get("/resource")
async def resource(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    iri: str = Query(..., description="The IRI to look up", max_length=4096),
) -> Response:
    try:
        node = ox.NamedNode(iri)
    except ValueError:
        raise BadRequest(f"Not a valid IRI: {iri!r}.") from None
    local = local_href(iri, settings.base_iri)
    if not local.startswith("/resource?"):
        # A canonical IRI has an address of its own; a chosen format goes along.
        path, hash_, fragment = local.partition("#")
        fmt = request.query_params.get("format")
        target = path + (f"?{urlencode({'format': fmt})}" if fmt else "") + hash_ + fragment
        # An IRI may hold non-ASCII characters; a Location header may not.
        location = quote(target, safe="/?#[]@!$&'()*+,;=:%~")
        return Response(status_code=303, headers={"Location": location, "Vary": "Accept"})
    fmt = choose_format(request, DOC_FORMATS)
    alternates = [
        (f"/resource?{urlencode({'iri': iri, 'format': f.extension})}", f) for f in DOC_FORMATS
    ]
    path = "/resource?" + urlencode({"iri": iri})
    return await _resource(request, store, settings, templates, node.value, fmt, path, alternates)


async def _resource(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    iri: str,
    fmt: Format,
    self_path: str,
    alternates: list[tuple[str, Format]],
) -> Response:
    page = page_number(request)
    lang = page_language(request) if fmt == HTML else ""
    checks = await validators(request, store, fmt.media_type, lang)
    links = [
        (iri, "canonical", None),
        *((href, "alternate", f.media_type) for href, f in alternates if f != fmt),
    ]
    headers = {"Vary": vary(fmt), "Link": link_header(links)}
    unchanged = not_modified(request, checks, headers)
    if unchanged is not None:
        return unchanged
    description = await describe(store, ox.NamedNode(iri), page=page)
    if not description.exists:
        return await not_found(request, store, settings, templates, iri)
    page_links = _page_links(self_path, description)
    headers["Link"] = link_header(
        [*links, *((href, rel, None) for rel, href in page_links.items())]
    )
    headers.update(checks.headers())
    if fmt != HTML:
        jsonld = await jsonld_context(request, store)
        body = await anyio.to_thread.run_sync(
            lambda: write_rdf(description.quads(), fmt, prefixes=PREFIXES, context=jsonld)
        )
        return Response(body, headers=headers, media_type=fmt.content_type)
    view = build(description, lang, settings.base_iri)
    return render(
        request,
        templates,
        settings,
        "resource.html",
        {
            "lang": lang,
            "view": view,
            "page": description.page,
            "page_links": page_links,
            "formats": [(f.extension, href, f.media_type) for href, f in alternates if f != HTML],
            "sparql_href": sparql_describe(iri),
            "json_ld": json_ld(view, lang),
        },
        headers=headers,
    )


def _page_links(self_path: str, description: Description) -> dict[str, str]:
    sep = "&" if "?" in self_path else "?"
    found = {}
    if description.page > 1:
        found["prev"] = f"{self_path}{sep}page={description.page - 1}"
    if description.has_next:
        found["next"] = f"{self_path}{sep}page={description.page + 1}"
    return found
