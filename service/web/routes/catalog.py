"""``/catalog``: the DCAT-AP catalogue (``service.harvest.catalog``) as RDF by default and by
negotiation — harvesters (CKAN, data.europa.eu) fetch without ``Accept`` — and as an HTML page
for browsers."""

from __future__ import annotations

import anyio.to_thread
from fastapi import Request, Response

from service.harvest.catalog import (
    CATALOG_PREFIXES,
    DATASET_ONLY,
    CatalogIris,
    build_catalog,
)
from service.harvest.dumps import BY_NAME, download_url
from service.rdf.conneg import GRAPH_FORMATS, Format
from service.rdf.writing import write_rdf
from service.web import etags
from service.web.deps import ServicesDep
from service.web.negotiation import choose_format
from service.web.pages import HTML, jsonld_context, manifest_of, render
from service.web.routing import Router

CATALOG_FORMATS: tuple[Format, ...] = (
    *(f for f in GRAPH_FORMATS if f.media_type not in DATASET_ONLY),
    HTML,
)

router = Router(tags=["catalogue"])


@router.get("/catalog")
async def catalog(request: Request, services: ServicesDep) -> Response:
    """The DCAT-AP catalogue: RDF by default and by negotiation, HTML for browsers."""
    settings, store = services.settings, services.store
    fmt = choose_format(request, CATALOG_FORMATS, "the catalogue")
    manifest = await manifest_of(request, services)
    headers, modified = await etags.freshness(request, store, "catalog", fmt.media_type)
    if etags.not_modified(request, headers["ETag"], modified):
        return Response(status_code=304, headers=headers)
    landing = str(request.base_url)
    triples = build_catalog(settings, manifest, modified, landing)
    if fmt == HTML:
        return render(
            request,
            services.templates,
            settings,
            "catalog.html",
            {
                "settings": settings,
                "iris": CatalogIris.of(settings),
                "manifest": manifest,
                "modified": modified,
                "files": [
                    (entry, BY_NAME[entry.name], download_url(landing, entry.name))
                    for entry in manifest.files
                ],
                "formats": [f for f in CATALOG_FORMATS if f != HTML],
            },
            headers=headers,
        )
    assert fmt.rdf is not None
    jsonld = await jsonld_context(request, store)
    body = await anyio.to_thread.run_sync(
        lambda: write_rdf(triples, fmt, prefixes=CATALOG_PREFIXES, context=jsonld)
    )
    return Response(body, headers=headers, media_type=fmt.content_type)
