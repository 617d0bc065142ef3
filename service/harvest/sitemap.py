"""The sitemap (https://www.sitemaps.org/protocol.html) of every resource document ``/doc/…``,
served at ``/sitemap.xml`` (``service.web.routes.sitemap``).

The protocol allows 50,000 URLs per sitemap; beyond that the sitemap is an index of pages.
``lastmod`` is when the published graph last changed.
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

import pyoxigraph as ox

from service.store import Solutions, Store

#: sitemaps.org: "no more than 50,000 URLs".
PAGE_SIZE = 50_000
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML = '<?xml version="1.0" encoding="UTF-8"?>\n'


async def document_urls(store: Store, base_iri: str, host: str) -> list[str]:
    """The ``/doc/…`` page on ``host`` of every resource of the graph, sorted."""
    things = base_iri + "id/"
    # The subjects, filtered and sorted here: a FILTER on STR(?s) in the query makes the
    # engine spell out the IRI of every triple's subject (on disk, a lookup each) — a
    # second for a few thousand contributions, against milliseconds this way.
    result = await store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o }")
    assert isinstance(result, Solutions)
    subjects = sorted(
        row["s"].value
        for row in result
        if isinstance(row["s"], ox.NamedNode) and row["s"].value.startswith(things)
    )
    return [host + "doc/" + iri.removeprefix(things) for iri in subjects]


def page_count(urls: list[str]) -> int:
    return max(1, -(-len(urls) // PAGE_SIZE))


def lastmod(modified: datetime) -> str:
    return modified.strftime("%Y-%m-%dT%H:%M:%SZ")


def sitemap_index(host: str, pages: int, modified: datetime) -> str:
    """The index of the sitemap's pages ``sitemap.xml?page=1…pages``."""
    items = "".join(
        f"<sitemap><loc>{escape(host)}sitemap.xml?page={n}</loc>"
        f"<lastmod>{lastmod(modified)}</lastmod></sitemap>"
        for n in range(1, pages + 1)
    )
    return f'{XML}<sitemapindex xmlns="{NS}">{items}</sitemapindex>\n'


def sitemap_page(urls: list[str], number: int, modified: datetime) -> str:
    """Page ``number`` (from 1) of the sitemap of ``urls``."""
    chosen = urls[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    items = "".join(
        f"<url><loc>{escape(url)}</loc><lastmod>{lastmod(modified)}</lastmod></url>"
        for url in chosen
    )
    return f'{XML}<urlset xmlns="{NS}">{items}</urlset>\n'
