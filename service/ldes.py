"""``/ldes``: the change feed, a Linked Data Event Stream (https://w3id.org/ldes/specification).

Every change to a named graph of the published graph — a data file synced, a contribution
accepted, replaced or retracted — is a member: an ``as:Update`` carrying the graph's new
content, or an ``as:Delete``. A member's content is the named graph named by the member's IRI,
so pages are datasets (TriG by default, N-Quads, JSON-LD). Pages hold ``ldes_page_size``
members in order; a full page never changes again (immutable, cached for a year), the newest
is cached for seconds. A harvester that read up to page *n* fetches page *n* again and follows
its ``tree:relation`` to what is new.

Replaying every member in order — ``as:Update`` replaces the graph ``as:object`` with the
member's named graph, ``as:Delete`` drops it — rebuilds the published graph. Bulk loads
(``meent load FILES``) are not in the feed; the dumps carry them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import anyio.to_thread
import pyoxigraph as ox
from fastapi import Request, Response

from service.conneg import GRAPH_FORMATS, Format, by_name, negotiate, supported
from service.deps import SettingsDep, StoreDep
from service.errors import BadRequest, NotAcceptable, NotFound
from service.etags import http_date, not_modified
from service.routing import Router
from service.state import Change

router = Router()

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
AS = "https://www.w3.org/ns/activitystreams#"
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
GENERATED = ox.NamedNode(PROV + "generatedAtTime")
PREFIXES = {"ldes": LDES, "tree": TREE, "as": AS, "prov": PROV, "dct": DCT}
#: Formats that hold named graphs (a member's content is one), TriG when the client says
#: nothing.
FEED_FORMATS = tuple(
    next(f for f in GRAPH_FORMATS if f.rdf == rdf)
    for rdf in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS, ox.RdfFormat.JSON_LD)
)
IMMUTABLE = "public, max-age=31536000, immutable"
OPEN_PAGE = "public, max-age=5"


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _time(moment: datetime) -> ox.Literal:
    return ox.Literal(moment.isoformat(), datatype=XSD_DATETIME)


def _format(request: Request) -> Format:
    name = request.query_params.get("format")
    if name is not None:
        chosen = by_name(name, FEED_FORMATS)
        if chosen is None:
            raise BadRequest(
                f"Unknown format '{name}' for the feed; use one of: "
                + ", ".join(f.names[0] for f in FEED_FORMATS)
            )
        return chosen
    chosen = negotiate(request.headers.get("accept"), FEED_FORMATS)
    if chosen is None:
        raise NotAcceptable(supported(FEED_FORMATS))
    return chosen


def _respond(
    request: Request, quads: list[ox.Quad], etag: str, modified: datetime | None, cache: str
) -> Response:
    fmt = _format(request)
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
    stream = _n(f"{settings.base_iri}ldes")
    view = _n(_page_url(request, 1))
    quads = [
        ox.Quad(stream, RDF_TYPE, _n(LDES + "EventStream")),
        ox.Quad(stream, _n(LDES + "timestampPath"), GENERATED),
        ox.Quad(stream, _n(LDES + "versionOfPath"), _n(AS + "object")),
        ox.Quad(stream, _n(TREE + "view"), view),
        ox.Quad(view, RDF_TYPE, _n(TREE + "Node")),
    ]
    # The description never changes; only the host it names may.
    return _respond(request, quads, f"ldes-stream-{view.value}", None, OPEN_PAGE)


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
    node = _n(_page_url(request, page))
    stream = _n(f"{settings.base_iri}ldes")
    quads = [ox.Quad(node, RDF_TYPE, _n(TREE + "Node"))]
    if closed:
        # An IRI, not a blank node: an immutable page must be the same bytes every time.
        relation = _n(f"{node.value}#next")
        quads += [
            ox.Quad(node, _n(TREE + "relation"), relation),
            ox.Quad(relation, RDF_TYPE, _n(TREE + "GreaterThanOrEqualToRelation")),
            ox.Quad(relation, _n(TREE + "path"), GENERATED),
            ox.Quad(relation, _n(TREE + "value"), _time(members[-1].time)),
            ox.Quad(relation, _n(TREE + "node"), _n(_page_url(request, page + 1))),
        ]
    member_quads = await anyio.to_thread.run_sync(_members, members, stream, settings.base_iri)
    quads += member_quads
    last_seq = members[-1].seq if members else (page - 1) * size
    modified = members[-1].time if members else None
    etag = f"ldes-{page}-{last_seq}{'-closed' if closed else ''}"
    return _respond(request, quads, etag, modified, IMMUTABLE if closed else OPEN_PAGE)


def member_iri(base_iri: str, seq: int) -> str:
    return f"{base_iri}ldes/member/{seq}"


def _members(changes: list[Change], stream: ox.NamedNode, base_iri: str) -> list[ox.Quad]:
    quads: list[ox.Quad] = []
    for change in changes:
        member = _n(member_iri(base_iri, change.seq))
        activity = AS + ("Delete" if change.action == "delete" else "Update")
        quads += [
            ox.Quad(stream, _n(TREE + "member"), member),
            ox.Quad(member, RDF_TYPE, _n(activity)),
            ox.Quad(member, _n(AS + "object"), _n(change.graph)),
            ox.Quad(member, GENERATED, _time(change.time)),
        ]
        if change.action != "delete":
            for parsed in ox.parse(change.ntriples, ox.RdfFormat.N_TRIPLES):
                quads.append(ox.Quad(parsed.subject, parsed.predicate, parsed.object, member))
    return quads
