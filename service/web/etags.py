"""Conditional requests (RFC 9110 §13): ``ETag`` and ``Last-Modified`` for every document.

A document changes only when the store's content does, so validators derive from one
*content version*: a hash of the store's metadata (the loader records a content hash for every
graph it syncs), of the list of graphs (a contribution adds a graph of its own) and of the
newest entry of the change log (a contribution replaced under its own name). Both are
cheap reads on either store, made once per request. A representation's ETag adds what else
selects it — path, query, format, language — so the HTML and the Turtle of one resource never
share a validator.

The store keeps no modification times, so ``Last-Modified`` is the time this process first saw
the current version: never earlier than the real change, which is the safe side for caches.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request

from service.store import Store
from service.web.services import services_of


async def content_version(request: Request, store: Store) -> str:
    """The store's content version, computed once per request."""
    cached = getattr(request.state, "content_version", None)
    if cached is not None:
        return cached
    metadata = await store.metadata()
    graphs = await store.graph_iris()
    # The change log's newest entry: a graph replaced under the same name (a contribution's
    # PUT) changes no metadata and no graph name, but it is logged.
    last = await store.last_change()
    digest = hashlib.sha256()
    for key, value in sorted(metadata.items()):
        digest.update(f"{key}\0{value}\n".encode())
    for graph in sorted(graphs):
        digest.update(f"graph\0{graph}\n".encode())
    digest.update(f"change\0{last.seq if last is not None else 0}\n".encode())
    version = digest.hexdigest()[:32]
    request.state.content_version = version
    return version


def first_seen(request: Request, version: str) -> datetime:
    """When this process first saw ``version`` (``service.web.services.FirstSeen``)."""
    return services_of(request).first_seen(version)


def entity_tag(version: str, *selectors: str) -> str:
    """A strong ETag for one representation of one version."""
    digest = hashlib.sha256(version.encode())
    for selector in selectors:
        digest.update(b"\0" + selector.encode())
    return f'"{digest.hexdigest()[:32]}"'


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """Whether a GET/HEAD may be answered 304 (RFC 9110 §13.2.2: If-None-Match wins; then
    If-Modified-Since, which a server ignores when If-None-Match is present)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        # Weak comparison (§8.8.3.2), as If-None-Match requires.
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an invalid date is ignored (§13.1.3)
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    # HTTP dates have whole seconds: compare at that precision.
    return last_modified.replace(microsecond=0) <= since


async def modified_time(request: Request, store: Store) -> datetime:
    """When the published graph last changed: the newest entry of the change log (``/ldes``),
    else when this process first saw the current content."""
    last = await store.last_change()
    if last is not None:
        return last.time
    return first_seen(request, await content_version(request, store))


async def freshness(
    request: Request, store: Store, name: str, media_type: str
) -> tuple[dict[str, str], datetime]:
    """Validators and caching headers for a description of the whole dataset (catalogue,
    VoID): they change with the content, the representation and the host it names."""
    version = await content_version(request, store)
    modified = await modified_time(request, store)
    headers = {
        "ETag": entity_tag(version, name, media_type, str(request.base_url)),
        "Last-Modified": http_date(modified),
        "Vary": "Accept",
        "Cache-Control": "public, max-age=60",
    }
    return headers, modified
