"""Content negotiation (RFC 9110 §12.5.1) and the format tables — in one place.

Pure functions: the routers pass the ``Accept`` header and what they can offer, and get back
the format to write, or ``None`` for a 406. Specificity follows RFC 9110: ``text/turtle``
beats ``text/*`` beats ``*/*`` for the same type, whatever the order in the header; a range's
parameters must all match; ``q=0`` means "not acceptable". Ties go to the server's order of
preference (the order of ``offered``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    """A serialisation Meent can write: its media type, ``format=`` names and extension."""

    media_type: str
    names: tuple[str, ...]
    extension: str
    rdf: ox.RdfFormat | None = None
    results: ox.QueryResultsFormat | None = None

    @property
    def content_type(self) -> str:
        # Text formats are UTF-8 by definition of their specs; say so for browsers and curl.
        if self.media_type.startswith("text/") or self.media_type.endswith(("+json", "+xml")):
            return f"{self.media_type}; charset=utf-8"
        return self.media_type


#: SELECT and ASK results, in order of preference when the client has none.
RESULT_FORMATS: tuple[Format, ...] = (
    Format(
        "application/sparql-results+json",
        ("json", "srj"),
        "srj",
        results=ox.QueryResultsFormat.JSON,
    ),
    Format(
        "application/sparql-results+xml", ("xml", "srx"), "srx", results=ox.QueryResultsFormat.XML
    ),
    Format("text/csv", ("csv",), "csv", results=ox.QueryResultsFormat.CSV),
    Format("text/tab-separated-values", ("tsv",), "tsv", results=ox.QueryResultsFormat.TSV),
)

#: RDF graphs (CONSTRUCT, DESCRIBE, documents), in order of preference.
GRAPH_FORMATS: tuple[Format, ...] = (
    # N3 is a superset of Turtle: a client that asks for N3 can read Turtle.
    Format("text/turtle", ("turtle", "ttl", "n3"), "ttl", rdf=ox.RdfFormat.TURTLE),
    Format("application/n-triples", ("ntriples", "nt"), "nt", rdf=ox.RdfFormat.N_TRIPLES),
    Format(
        "application/ld+json", ("jsonld", "json-ld", "json"), "jsonld", rdf=ox.RdfFormat.JSON_LD
    ),
    Format(
        "application/rdf+xml", ("rdfxml", "rdf", "xml", "rdf+xml"), "rdf", rdf=ox.RdfFormat.RDF_XML
    ),
    Format("application/n-quads", ("nquads", "nq"), "nq", rdf=ox.RdfFormat.N_QUADS),
    Format("application/trig", ("trig",), "trig", rdf=ox.RdfFormat.TRIG),
)

#: A page for people: offered beside the RDF formats wherever a person may ask.
HTML = Format("text/html", ("html",), "html")
#: Every format Meent can write somewhere: a ``format=`` naming one of these is understood,
#: even where the resource at hand cannot be written in it.
KNOWN_FORMATS: tuple[Format, ...] = (*RESULT_FORMATS, *GRAPH_FORMATS, HTML)
#: Media types that are the same format under another name.
ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "application/x-turtle": "text/turtle",
    "text/plain": "application/n-triples",
    "application/json+ld": "application/ld+json",
    "application/x-json+ld": "application/ld+json",
    "text/n3": "text/turtle",
    "text/rdf+n3": "text/turtle",
    "application/n3": "text/turtle",
    "application/turtle": "text/turtle",
}


_SATISFIED_PARAMS = frozenset({"charset", "profile"})


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float

    def specificity(self, media_type: str) -> int | None:
        """How closely this range matches ``media_type`` (higher is closer), or None."""
        main, _, sub = media_type.partition("/")
        if self.type == "*":
            return 0 if self.subtype == "*" else None
        if self.type != main:
            return None
        if self.subtype == "*":
            return 1
        if self.subtype != sub:
            return None
        return 2 + len(self.params)


def parse_accept(header: str) -> list[MediaRange]:
    """Parse an ``Accept`` header; malformed members are ignored, as browsers' servers do."""
    ranges = []
    for member in header.split(","):
        media, *raw_params = (part.strip() for part in member.split(";"))
        main, slash, sub = media.lower().partition("/")
        if not slash or not main or not sub or (main == "*" and sub != "*"):
            continue
        q = 1.0
        params = []
        for raw in raw_params:
            name, eq, value = raw.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if not eq:
                continue
            if name == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
                break  # parameters after q are accept-extensions, not media-type parameters
            params.append((name, value.lower()))
        ranges.append(MediaRange(main, sub, tuple(params), q))
    return ranges


def negotiate(accept: str | None, offered: Sequence[Format]) -> Format | None:
    """The best of ``offered`` for ``accept``; the first when there is no header; None = 406.

    Parameters in a range must be ones every offered format satisfies — ``charset`` (all are
    UTF-8) and JSON-LD's ``profile`` (any JSON-LD form is valid JSON-LD) — so
    ``text/turtle;version=2`` does not select Turtle.
    """
    if accept is None or not accept.strip():
        return offered[0] if offered else None
    ranges = parse_accept(accept)
    best: tuple[float, Format] | None = None
    for fmt in offered:
        names = [fmt.media_type, *(alias for alias, t in ALIASES.items() if t == fmt.media_type)]
        q = _quality(ranges, names)
        if q > 0 and (best is None or q > best[0]):
            best = (q, fmt)
    return best[1] if best else None


def _quality(ranges: list[MediaRange], media_types: list[str]) -> float:
    """The q of the most specific range matching ``media_types`` (0 if none).

    The first media type is the format's own; the rest are aliases, which count only when
    named exactly (``text/*`` must not pick SPARQL XML results because of ``text/xml``).
    """
    chosen: tuple[int, float] | None = None
    for index, media_type in enumerate(media_types):
        for media_range in ranges:
            if any(name not in _SATISFIED_PARAMS for name, _ in media_range.params):
                continue
            score = media_range.specificity(media_type)
            if index > 0 and (score is None or score < 2):
                continue
            if score is not None and (chosen is None or score > chosen[0]):
                chosen = (score, media_range.q)
    return chosen[1] if chosen else 0.0


def by_name(name: str, offered: Sequence[Format]) -> Format | None:
    """The format a ``format=`` parameter or a file extension names (case-insensitive).

    A full media type works too (``format=text/turtle``), as in Fuseki and Virtuoso.
    """
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return next((f for f in offered if key in f.names or key == f.media_type), None)


def supported(offered: Sequence[Format]) -> list[str]:
    """The media types to list in a 406 answer."""
    return [f.media_type for f in offered]


def negotiate_language(header: str | None, offered: Sequence[str] = ("en", "nl")) -> str:
    """The best of ``offered`` languages for an ``Accept-Language`` header (RFC 9110 §12.5.4,
    basic filtering: ``nl-BE`` asks for ``nl``); ties go to the earlier member of the header,
    and the first offered language is the fallback."""
    best_q, best = 0.0, None
    for member in (header or "").split(","):
        tag, *params = (part.strip() for part in member.split(";"))
        tag = tag.lower()
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        wildcard = offered[0] if tag == "*" else None
        lang = next((o for o in offered if tag == o or tag.startswith(o + "-")), wildcard)
        if lang is not None and q > best_q:
            best_q, best = q, lang
    return best or offered[0]
