"""``/.well-known/void``: the VoID description (``service.harvest.void``), RDF only — Turtle
unless the client asks for another. Its statistics scan the whole store, so the service keeps
those of a recent content version (``Services.void_statistics``)."""

from __future__ import annotations

import anyio.to_thread
from fastapi import Request, Response

from service.harvest.catalog import CATALOG_PREFIXES
from service.harvest.void import VOID, VOID_FORMATS, build_void, statistics
from service.rdf.writing import write_rdf
from service.web import etags
from service.web.deps import ServicesDep
from service.web.negotiation import choose_format
from service.web.pages import jsonld_context, manifest_of
from service.web.routing import Router

router = Router(tags=["catalogue"])


@router.get("/.well-known/void")
async def void(request: Request, services: ServicesDep) -> Response:
    """The VoID description (RDF only: Turtle unless the client asks for another)."""
    settings, store = services.settings, services.store
    fmt = choose_format(request, VOID_FORMATS, "the VoID description")
    headers, modified = await etags.freshness(request, store, "void", fmt.media_type)
    if etags.not_modified(request, headers["ETag"], modified):
        return Response(status_code=304, headers=headers)
    # Counting scans the whole store and must not follow every contribution: the statistics
    # of a version counted less than ``dump_interval`` s ago do (the dumps wait the same way),
    # and older ones are served while new ones are counted in the background.
    stats = await services.void_statistics.get(
        await etags.content_version(request, store),
        settings.dump_interval,
        lambda: statistics(store, settings.base_iri),
        services.background,
    )
    manifest = await manifest_of(request, services)
    triples = build_void(str(request.base_url), stats, settings, manifest, modified)
    prefixes = {**CATALOG_PREFIXES, "void": VOID}
    assert fmt.rdf is not None
    jsonld = await jsonld_context(request, store)
    body = await anyio.to_thread.run_sync(
        lambda: write_rdf(triples, fmt, prefixes=prefixes, context=jsonld)
    )
    return Response(body, headers=headers, media_type=fmt.content_type)
