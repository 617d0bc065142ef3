"""The vocabularies as documents: ``/def`` (the ontology and its concept schemes) and
``/shapes`` (the SHACL shapes), as HTML documentation or as RDF by ``Accept``, ``?format=``
or extension (``/def.ttl``), and ``/def/context.jsonld``, the JSON-LD context.

A term IRI such as ``https://w3id.org/meent/def#Koppel`` is dereferenced by fetching ``/def``;
the browser then scrolls to the section with ``id="Koppel"``.
"""

from __future__ import annotations

import json
import re

import anyio.to_thread
import pyoxigraph as ox
from fastapi import Request, Response

from service.rdf.conneg import Format
from service.rdf.writing import write_rdf
from service.store import Store
from service.views.graphindex import GraphIndex
from service.views.ontology_doc import ontology_doc, shapes_doc
from service.vocab import PREFIXES
from service.web import etags, pages
from service.web.deps import SettingsDep, StoreDep, TemplatesDep
from service.web.errors import NotFound
from service.web.i18n import page_language
from service.web.negotiation import choose_format
from service.web.pages import (
    DOC_FORMATS,
    HTML,
    link_header,
    not_modified,
    render,
    validators,
    vary,
)
from service.web.routing import Router
from service.web.services import services_of

router = Router()
JSON_LD = "application/ld+json"
VERSION = re.compile(r"^\d+\.\d+\.\d+$")


async def _index(request: Request, store: Store, graph_iri: str) -> GraphIndex:
    """The graph's index, kept per content version (``Services.vocabulary``)."""
    version = await etags.content_version(request, store)
    return await services_of(request).vocabulary(version, graph_iri)


async def _vocabulary(
    name: str,
    extension: str | None,
    request: Request,
    store: Store,
    settings: SettingsDep,
    templates: TemplatesDep,
) -> Response:
    fmt: Format = choose_format(request, DOC_FORMATS, extension=extension)
    lang = page_language(request) if fmt == HTML else ""
    checks = await validators(request, store, fmt.media_type, lang)
    canonical = settings.base_iri + name
    links = [(canonical, "canonical", None)]
    links += [
        (f"/{name}.{f.extension}", "alternate", f.media_type) for f in DOC_FORMATS if f != fmt
    ]
    headers = {"Vary": vary(fmt), "Link": link_header(links)}
    unchanged = not_modified(request, checks, headers)
    if unchanged is not None:
        return unchanged
    headers.update(checks.headers())
    ontology = await _index(request, store, settings.graph_iri("ontology"))
    shapes = await _index(request, store, settings.graph_iri("shapes"))
    if fmt != HTML:
        graph = settings.graph_iri("ontology" if name == "def" else "shapes")
        triples = await store.query(
            "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
            substitutions={"g": ox.NamedNode(graph)},
        )
        assert isinstance(triples, list)
        if not triples:
            raise NotFound(f"The {name} graph is not loaded.")
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph)) for t in triples]
        jsonld = await pages.jsonld_context(request, store)
        body = await anyio.to_thread.run_sync(
            lambda: write_rdf(quads, fmt, prefixes=PREFIXES, context=jsonld)
        )
        return Response(body, headers=headers, media_type=fmt.content_type)
    doc = (
        ontology_doc(ontology, shapes, lang, settings.base_iri)
        if name == "def"
        else shapes_doc(shapes, ontology, lang, settings.base_iri)
    )
    formats = [
        (f.extension, f"/{name}.{f.extension}", f.media_type) for f in DOC_FORMATS if f != HTML
    ]
    return render(
        request,
        templates,
        settings,
        "ontology.html",
        {"lang": lang, "doc": doc, "formats": formats, "name": name},
        headers=headers,
    )


def _route(name: str, extension: str | None):
    async def endpoint(
        request: Request, store: StoreDep, settings: SettingsDep, templates: TemplatesDep
    ) -> Response:
        return await _vocabulary(name, extension, request, store, settings, templates)

    return endpoint


def _register(name: str) -> None:
    router.get(f"/{name}", name=name)(_route(name, None))
    for fmt in DOC_FORMATS:
        router.get(f"/{name}.{fmt.extension}")(_route(name, fmt.extension))


@router.get("/def/context.jsonld")
async def jsonld_context(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    checks = await validators(request, store, JSON_LD)
    unchanged = not_modified(request, checks, {})
    if unchanged is not None:
        return unchanged
    body = json.dumps(
        {"@context": await pages.jsonld_context(request, store)}, indent=2, ensure_ascii=False
    )
    return Response(body, media_type=JSON_LD, headers=checks.headers())


@router.get("/def/{version}")
async def versioned(version: str) -> Response:
    """``owl:versionIRI`` ``…/def/1.1.0``: only the current version is served."""
    if not VERSION.match(version):
        raise NotFound(f"No vocabulary document /def/{version}.")
    return Response(status_code=303, headers={"Location": "/def"})


_register("def")
_register("shapes")
