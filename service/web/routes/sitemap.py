"""``/sitemap.xml`` (``service.harvest.sitemap``) of the resource documents on the request's
host, and ``/robots.txt`` pointing to it."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse

from service.harvest.sitemap import document_urls, page_count, sitemap_index, sitemap_page
from service.web import etags
from service.web.deps import SettingsDep, StoreDep
from service.web.errors import NotFound
from service.web.routing import Router

router = Router(tags=["sitemap"])


@router.get("/sitemap.xml")
async def sitemap(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    page = request.query_params.get("page")
    version = await etags.content_version(request, store)
    modified = await etags.modified_time(request, store)
    host = str(request.base_url)
    etag = etags.entity_tag(version, "sitemap", page or "", host)
    headers = {"ETag": etag, "Last-Modified": etags.http_date(modified)}
    if etags.not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    urls = await document_urls(store, settings.base_iri, host)
    pages = page_count(urls)
    if page is None and pages > 1:
        body = sitemap_index(host, pages, modified)
        return Response(body, media_type="application/xml", headers=headers)
    # ASCII digits, and few: str.isdigit() is also true of "²", which int() refuses.
    number = int(page) if page and page.isascii() and page.isdigit() and len(page) < 10 else 1
    if not 1 <= number <= pages:
        raise NotFound(f"The sitemap has {pages} page(s).")
    body = sitemap_page(urls, number, modified)
    return Response(body, media_type="application/xml", headers=headers)


@router.get("/robots.txt", response_class=PlainTextResponse)
async def robots(request: Request) -> str:
    return (
        f"User-agent: *\nAllow: /\nDisallow: /sparql?\n\nSitemap: {request.base_url}sitemap.xml\n"
    )
