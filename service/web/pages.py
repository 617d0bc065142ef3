"""What every page and document of the linked-data routes shares: choosing the format,
conditional-request headers, rendering a template in the reader's language, and the 404 that
is a helpful page for a person and a problem document for a program."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from service.config import Settings
from service.harvest.dumps import Manifest
from service.rdf.conneg import GRAPH_FORMATS, HTML, Format, negotiate
from service.store import Store
from service.views.browse import search
from service.views.describe import about, label_literals
from service.views.labels import label_of
from service.views.links import local_href
from service.web import etags
from service.web.errors import BadRequest, NotFound
from service.web.i18n import LANG_COOKIE, LANGUAGES, MESSAGES, page_language
from service.web.services import Services, services_of

#: What a document can be written as, HTML first: a browser names it, and a client that
#: accepts anything gets the page a person can read.
DOC_FORMATS: tuple[Format, ...] = (HTML, *GRAPH_FORMATS)
EXTENSIONS = {f.extension: f for f in DOC_FORMATS}
MAX_PAGE = 100_000
#: A type segment or slug: lowercase ASCII, digits and hyphens (docs/architecture.md, "IRIs"),
#: a little wider so an IRI minted elsewhere in the same space still resolves.
SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.~-]*$")


def wants_html(request: Request) -> bool:
    """A browser names text/html; a program that accepts anything gets problem+json errors."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and negotiate(accept, DOC_FORMATS) == HTML


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    # ASCII digits, and few: str.isdigit() is also true of "²", which int() refuses, and
    # int() refuses numbers of more than 4300 digits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= MAX_PAGE:
        raise BadRequest(f"page must be a whole number from 1 to {MAX_PAGE}, not {raw!r}.")
    return int(raw)


@dataclass(frozen=True)
class Validators:
    etag: str
    last_modified: datetime

    def headers(self) -> dict[str, str]:
        return {"ETag": self.etag, "Last-Modified": etags.http_date(self.last_modified)}


async def validators(request: Request, store: Store, *selectors: str) -> Validators:
    """ETag and Last-Modified of this request's representation (path and query included)."""
    version = await etags.content_version(request, store)
    tag = etags.entity_tag(version, request.url.path, str(request.url.query), *selectors)
    return Validators(tag, etags.first_seen(request, version))


async def jsonld_context(request: Request, store: Store) -> dict[str, Any]:
    """Meent's JSON-LD context for the content this request sees: every JSON-LD document
    embeds it (``service.rdf.writing``)."""
    version = await etags.content_version(request, store)
    return await services_of(request).jsonld_context(version)


async def manifest_of(request: Request, services: Services) -> Manifest:
    """The dumps for the content this request sees (``Services.dumps``)."""
    return await services.dumps(await etags.content_version(request, services.store))


def vary(fmt: Format | None) -> str:
    # HTML depends on the reader's language, which also comes from a cookie.
    return "Accept, Accept-Language, Cookie" if fmt == HTML else "Accept"


def not_modified(request: Request, checks: Validators, headers: dict[str, str]) -> Response | None:
    if etags.not_modified(request, checks.etag, checks.last_modified):
        return Response(status_code=304, headers={**headers, **checks.headers()})
    return None


def link_header(links: Sequence[tuple[str, str, str | None]]) -> str:
    """RFC 8288 ``Link``: (target, rel, media type or None)."""
    parts = []
    for target, rel, media_type in links:
        part = f'<{target}>; rel="{rel}"'
        if media_type:
            part += f'; type="{media_type}"'
        parts.append(part)
    return ", ".join(parts)


def render(
    request: Request,
    templates: Jinja2Templates,
    settings: Settings,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    lang = context.get("lang") or page_language(request)
    other = [code for code in LANGUAGES if code != lang]
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    switch = [
        (code, request.url.path + "?" + urlencode({**params, "lang": code})) for code in other
    ]
    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": MESSAGES[lang],
            "switch": switch,
            "base_iri": settings.base_iri,
            **context,
        },
        status_code=status_code,
        headers=headers,
        media_type="text/html",
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


async def not_found(
    request: Request,
    store: Store,
    settings: Settings,
    templates: Jinja2Templates,
    iri: str,
) -> Response:
    """404: for a person, a page with a search box and the nearest labels; else problem+json."""
    detail = f"Meent's graph says nothing about <{iri}>."
    if not wants_html(request):
        raise NotFound(detail, iri=iri)
    lang = page_language(request)
    words = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].replace("-", " ")
    nearest = await search(store, words)
    if not nearest and words.strip():
        nearest = await search(store, max(words.split(), key=len))
    facts = await about(store, {n.value for n in nearest})
    labels = label_literals(facts)
    suggestions = [
        (label_of(n.value, labels, lang), local_href(n.value, settings.base_iri))
        for n in nearest[:10]
    ]
    return render(
        request,
        templates,
        settings,
        "notfound.html",
        {"lang": lang, "iri": iri, "suggestions": suggestions, "query": words},
        status_code=404,
        headers={"Vary": vary(HTML)},
    )
