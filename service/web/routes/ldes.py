"""``/ldes``: the change feed (``service.harvest.ldes``) — the stream and its pages, TriG by
default; full pages are immutable and cached for a year, the newest for seconds."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio.to_thread
import pyoxigraph as ox
from fastapi import Request, Response

from service.harvest.ldes import FEED_FORMATS, PREFIXES, page_quads, stream_quads
from service.web.deps import SettingsDep, StoreDep
from service.web.errors import NotFound
from service.web.etags import http_date, not_modified
from service.web.negotiation import choose_format
from service.web.routing import Router

router = Router()

IMMUTABLE = "public, max-age=31536000, immutable"
OPEN_PAGE = "public, max-age=5"


def _respond(
    request: Request, quads: list[ox.Quad], etag: str, modified: datetime | None, cache: str
) -> Response:
    fmt = choose_format(request, FEED_FORMATS, "the feed")
    etag = f'"{etag}-{fmt.extension}"'  # one tag per representation
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Accept"}
    if modified is not None:
        headers["Last-Modified"] = http_date(modified)
    if not_modified(request, etag, modified or datetime.now(UTC)):
        return Response(status_code=304, headers=headers)
    assert fmt.rdf is not None
    body = ox.serialize(quads, format=fmt.rdf, prefixes=PREFIXES)
    return Response(body, media_type=fmt.content_type, headers=headers)


def _page_url(request: Request, number: int) -> str:
    return str(request.url_for("ldes_page", number=str(number)))


@router.get("/ldes", response_model=None)
async def ldes_stream(request: Request, settings: SettingsDep) -> Response:
    """The event stream: what it is and where its first page is."""
    first = _page_url(request, 1)
    quads = stream_quads(settings.base_iri, first)
    # The description never changes; only the host it names may.
    return _respond(request, quads, f"ldes-stream-{first}", None, OPEN_PAGE)


@router.get("/ldes/{number}", response_model=None)
async def ldes_page(
    number: str, request: Request, store: StoreDep, settings: SettingsDep
) -> Response:
    """One page of the feed: members ``(n-1)·size+1 … n·size`` in order."""
    # ASCII digits, and few enough for SQLite's integers: str.isdigit() is also true of "²",
    # which int() refuses.
    if not (number.isascii() and number.isdigit() and len(number) <= 15) or int(number) < 1:
        raise NotFound(f"The feed has no page {number!r}; pages are numbered from 1.")
    page = int(number)
    size = settings.ldes_page_size
    changes = await store.changes(after=(page - 1) * size, limit=size)
    if page > 1 and not changes:
        previous = await store.changes(after=(page - 2) * size, limit=1)
        if not previous:
            raise NotFound(f"The feed has no page {page} yet.")
    members = changes[:size]
    closed = len(members) == size
    next_url = _page_url(request, page + 1) if closed else None
    quads = await anyio.to_thread.run_sync(
        page_quads, members, _page_url(request, page), next_url, settings.base_iri
    )
    last_seq = members[-1].seq if members else (page - 1) * size
    modified = members[-1].time if members else None
    etag = f"ldes-{page}-{last_seq}{'-closed' if closed else ''}"
    return _respond(request, quads, etag, modified, IMMUTABLE if closed else OPEN_PAGE)
