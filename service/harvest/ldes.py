"""The change feed, a Linked Data Event Stream (https://w3id.org/ldes/specification), served
at ``/ldes`` (``service.web.routes.ldes``).

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

from datetime import datetime

import pyoxigraph as ox

from service.rdf.conneg import GRAPH_FORMATS
from service.store.state import Change

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


def stream_quads(base_iri: str, first_page: str) -> list[ox.Quad]:
    """The event stream: what it is and where its first page is."""
    stream = _n(f"{base_iri}ldes")
    view = _n(first_page)
    return [
        ox.Quad(stream, RDF_TYPE, _n(LDES + "EventStream")),
        ox.Quad(stream, _n(LDES + "timestampPath"), GENERATED),
        ox.Quad(stream, _n(LDES + "versionOfPath"), _n(AS + "object")),
        ox.Quad(stream, _n(TREE + "view"), view),
        ox.Quad(view, RDF_TYPE, _n(TREE + "Node")),
    ]


def page_quads(
    members: list[Change], page_url: str, next_url: str | None, base_iri: str
) -> list[ox.Quad]:
    """A page of the feed: its members and, when it is full (``next_url``), the relation to
    the next page."""
    node = _n(page_url)
    stream = _n(f"{base_iri}ldes")
    quads = [ox.Quad(node, RDF_TYPE, _n(TREE + "Node"))]
    if next_url is not None:
        # An IRI, not a blank node: an immutable page must be the same bytes every time.
        relation = _n(f"{node.value}#next")
        quads += [
            ox.Quad(node, _n(TREE + "relation"), relation),
            ox.Quad(relation, RDF_TYPE, _n(TREE + "GreaterThanOrEqualToRelation")),
            ox.Quad(relation, _n(TREE + "path"), GENERATED),
            ox.Quad(relation, _n(TREE + "value"), _time(members[-1].time)),
            ox.Quad(relation, _n(TREE + "node"), _n(next_url)),
        ]
    return quads + _members(members, stream, base_iri)


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
