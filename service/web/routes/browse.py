"""Pages for finding one's way: the landing page ``/``, the lists of everything of a class
(``/index?class=…``) or under a type segment (``/id/commons`` → ``/doc/commons``), and a label
search (``/search?q=…``). HTML only: the RDF of the same lists is a SPARQL query away."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pyoxigraph as ox
from fastapi import Query, Request, Response

from service.store import Store
from service.views.browse import Listing, class_counts, graph_counts, instances, search, under
from service.views.describe import about, label_literals
from service.views.labels import label_of
from service.views.links import local_href
from service.vocab import PREFIXES
from service.web.deps import SettingsDep, StoreDep, TemplatesDep
from service.web.errors import BadRequest
from service.web.i18n import MESSAGES, page_language
from service.web.pages import (
    HTML,
    SEGMENT,
    not_found,
    not_modified,
    page_number,
    render,
    validators,
    vary,
)
from service.web.routing import Router

router = Router()
MAX_QUERY = 200
VOCABULARY_MACHINERY = tuple(PREFIXES[p] for p in ("owl", "rdfs", "sh"))


def _graph_row(row: dict[str, object], settings: SettingsDep, lang: str) -> dict[str, object]:
    """The ontology and shapes graphs are read best as their documentation pages."""
    for name in ("ontology", "shapes"):
        if row["iri"] == settings.graph_iri(name):
            key = "ontology" if name == "ontology" else "shapes"
            return {
                **row,
                "href": "/def" if name == "ontology" else "/shapes",
                "label": MESSAGES[lang][key],
            }
    return row


async def _labels(store: Store, iris: set[str]) -> dict[str, list[ox.Literal]]:
    return label_literals(await about(store, iris))


@router.get("/")
async def landing(
    request: Request, store: StoreDep, settings: SettingsDep, templates: TemplatesDep
) -> Response:
    lang = page_language(request)
    checks = await validators(request, store, "landing", lang)
    headers = {"Vary": vary(HTML)}
    unchanged = not_modified(request, checks, headers)
    if unchanged is not None:
        return unchanged
    # The ontology's and shapes' own machinery (owl:Class, sh:NodeShape …) is documented at
    # /def and /shapes; the table is about the things the graph describes.
    classes = [
        c for c in await class_counts(store) if not c.iri.value.startswith(VOCABULARY_MACHINERY)
    ]
    graphs = await graph_counts(store)
    labels = await _labels(store, {c.iri.value for c in [*classes, *graphs]})
    contribution_prefix = settings.graph_iri("contribution/")

    def row(count, href: str) -> dict[str, object]:
        return {
            "label": label_of(count.iri.value, labels, lang),
            "href": href,
            "iri": count.iri.value,
            "count": count.count,
        }

    return render(
        request,
        templates,
        settings,
        "landing.html",
        {
            "lang": lang,
            "classes": [row(c, "/index?" + urlencode({"class": c.iri.value})) for c in classes],
            "graphs": [
                _graph_row(row(g, local_href(g.iri.value, settings.base_iri)), settings, lang)
                for g in graphs
            ],
            "contributions": [
                row(g, local_href(g.iri.value, settings.base_iri))
                for g in reversed(graphs)
                if g.iri.value.startswith(contribution_prefix)
            ][:10],
            "total": sum(g.count for g in graphs),
        },
        headers={**headers, **checks.headers()},
    )


@router.get("/index")
async def class_index(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    class_: str = Query(..., alias="class", max_length=4096),
) -> Response:
    try:
        node = ox.NamedNode(class_)
    except ValueError:
        raise BadRequest(f"Not a valid IRI: {class_!r}.") from None
    page = page_number(request)
    listing = await instances(store, node, page)
    if not listing.items and page == 1:
        return await not_found(request, store, settings, templates, class_)
    lang = page_language(request)
    labels = await _labels(store, {class_})
    title = label_of(class_, labels, lang)
    return await _index(request, store, settings, templates, listing, title=title, iri=class_)


@router.get("/doc/{type_}")
async def type_index(
    type_: str, request: Request, store: StoreDep, settings: SettingsDep, templates: TemplatesDep
) -> Response:
    prefix = f"{settings.base_iri}id/{type_}/"
    if not SEGMENT.match(type_):
        return await not_found(request, store, settings, templates, prefix)
    page = page_number(request)
    listing = await under(store, prefix, page)
    if not listing.items and page == 1:
        return await not_found(request, store, settings, templates, prefix)
    return await _index(request, store, settings, templates, listing, title=type_, iri=prefix)


@router.get("/id/{type_}")
async def type_index_iri(type_: str, request: Request) -> Response:
    # The list is a document about the things under …/id/{type}/: same 303 as a thing's IRI.
    query = request.url.query
    # Encoded again: the segment arrives decoded, and a Location header must be ASCII (a
    # "%0D%0A" in it would split the response, an "Ω" cannot even be sent).
    location = f"/doc/{quote(type_, safe='')}" + (f"?{query}" if query else "")
    return Response(status_code=303, headers={"Location": location, "Vary": "Accept"})


async def _index(
    request: Request,
    store: Store,
    settings: SettingsDep,
    templates: TemplatesDep,
    listing: Listing,
    *,
    title: str,
    iri: str,
) -> Response:
    lang = page_language(request)
    labels = await _labels(store, {x.value for x in listing.items})
    items = [
        {
            "label": label_of(x.value, labels, lang),
            "href": local_href(x.value, settings.base_iri),
            "iri": x.value,
        }
        for x in listing.items
    ]
    params = {k: v for k, v in request.query_params.items() if k != "page"}

    def page_href(number: int) -> str:
        return request.url.path + "?" + urlencode({**params, "page": number})

    return render(
        request,
        templates,
        settings,
        "index.html",
        {
            "lang": lang,
            "title": title,
            "iri": iri,
            "items": items,
            "page": listing.page,
            "prev_href": page_href(listing.page - 1) if listing.page > 1 else None,
            "next_href": page_href(listing.page + 1) if listing.has_next else None,
        },
        headers={"Vary": vary(HTML)},
    )


@router.get("/search")
async def search_page(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    q: str = Query("", max_length=MAX_QUERY),
) -> Response:
    lang = page_language(request)
    found = await search(store, q) if q.strip() else []
    labels = await _labels(store, {x.value for x in found})
    results = [
        {
            "label": label_of(x.value, labels, lang),
            "href": local_href(x.value, settings.base_iri),
            "iri": x.value,
        }
        for x in found
    ]
    return render(
        request,
        templates,
        settings,
        "search.html",
        {"lang": lang, "query": q, "results": results},
        headers={"Vary": vary(HTML)},
    )
