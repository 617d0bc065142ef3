"""``/sitemap.xml`` (https://www.sitemaps.org/protocol.html) of every resource document
``/doc/…`` on the request's host, and ``/robots.txt`` pointing to it.

The protocol allows 50,000 URLs per sitemap; beyond that ``/sitemap.xml`` is a sitemap index
of ``/sitemap.xml?page=N``. ``lastmod`` is when the published graph last changed.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import pyoxigraph as ox
from fastapi import Request, Response
from fastapi.responses import PlainTextResponse

from service import etags
from service.catalog import modified_time
from service.deps import SettingsDep, StoreDep
from service.errors import NotFound
from service.routing import Router
from service.store import Solutions

#: sitemaps.org: "no more than 50,000 URLs".
PAGE_SIZE = 50_000
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML = '<?xml version="1.0" encoding="UTF-8"?>\n'

router = Router(tags=["sitemap"])


@router.get("/sitemap.xml")
async def sitemap(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    page = request.query_params.get("page")
    version = await etags.content_version(request, store)
    modified = await modified_time(request, store)
    etag = etags.entity_tag(version, "sitemap", page or "", str(request.base_url))
    headers = {"ETag": etag, "Last-Modified": etags.http_date(modified)}
    if etags.not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    things = settings.base_iri + "id/"
    # The subjects, filtered and sorted here: a FILTER on STR(?s) in the query makes the
    # engine spell out the IRI of every triple's subject (on disk, a lookup each) — a
    # second for a few thousand contributions, against milliseconds this way.
    result = await store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o }")
    assert isinstance(result, Solutions)
    host = str(request.base_url)
    subjects = sorted(
        row["s"].value
        for row in result
        if isinstance(row["s"], ox.NamedNode) and row["s"].value.startswith(things)
    )
    docs = [host + "doc/" + iri.removeprefix(things) for iri in subjects]
    lastmod = modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    pages = max(1, -(-len(docs) // PAGE_SIZE))
    if page is None and pages > 1:
        items = "".join(
            f"<sitemap><loc>{escape(host)}sitemap.xml?page={n}</loc>"
            f"<lastmod>{lastmod}</lastmod></sitemap>"
            for n in range(1, pages + 1)
        )
        body = f'{XML}<sitemapindex xmlns="{NS}">{items}</sitemapindex>\n'
        return Response(body, media_type="application/xml", headers=headers)
    # ASCII digits, and few: str.isdigit() is also true of "²", which int() refuses.
    number = int(page) if page and page.isascii() and page.isdigit() and len(page) < 10 else 1
    if not 1 <= number <= pages:
        raise NotFound(f"The sitemap has {pages} page(s).")
    chosen = docs[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    items = "".join(
        f"<url><loc>{escape(url)}</loc><lastmod>{lastmod}</lastmod></url>" for url in chosen
    )
    body = f'{XML}<urlset xmlns="{NS}">{items}</urlset>\n'
    return Response(body, media_type="application/xml", headers=headers)


@router.get("/robots.txt", response_class=PlainTextResponse)
async def robots(request: Request) -> str:
    return (
        f"User-agent: *\nAllow: /\nDisallow: /sparql?\n\nSitemap: {request.base_url}sitemap.xml\n"
    )
