"""Which representation to send: the one decision every route makes the same way
(docs/architecture.md, "The path of a SPARQL query").

A path extension (``/doc/x.ttl``) wins, then the format parameters, then the ``Accept`` header
(``service.rdf.conneg.negotiate``). The format parameters are ``format`` (links people paste;
a full media type works too) and, as clients written for several servers send them beside it,
``output`` and ``results`` (SPARQLWrapper sends all three, and two spellings of one type in
each: ``format=tsv&format=text/tab-separated-values``). Read liberally where the meaning is
plain:

- values that all name the same format the resource offers ask for that format;
- values that name formats Meent knows but that disagree, or that this resource cannot be
  (``turtle`` for a SELECT), leave the choice to ``Accept``, as a server that ignored them
  would — a 406 if it cannot choose either;
- a value that names no format at all (``pdf``) is a 400 that names the parameter and lists
  what it may be; an empty value is no choice beside others, and names nothing alone;
- a value may list media types, comma-separated, in order of preference (as SPARQLWrapper
  sends for JSON-LD).

An ``Accept`` header that matches nothing is a 406 (RFC 9110 §15.5.7: that status is about the
negotiation headers). Both problems list the media types offered (``supported``).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request

from service.rdf.conneg import KNOWN_FORMATS, Format, by_name, negotiate, supported
from service.web.errors import BadRequest, NotAcceptable

#: The query parameters that name a format, in the order their values are read.
FORMAT_PARAMETERS = ("format", "output", "results")


def format_values(params: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """(parameter, value) for every format parameter of a request, in order."""
    return [(key, value) for key, value in params if key in FORMAT_PARAMETERS]


def representation(
    offered: Sequence[Format],
    what: str,
    *,
    format_values: Sequence[tuple[str, str]],
    accept: str | None,
) -> Format:
    """The format of ``offered`` the format parameters or else ``Accept`` ask for."""
    if format_values:
        # An empty value is no choice beside others (SPARQLWrapper adds one); alone, it names
        # nothing.
        given = [(key, value) for key, value in format_values if value.strip()] or format_values
        named = {_named(value, offered) for _, value in given}
        if len(named) == 1 and None not in named:
            return named.pop()
        unknown = [(key, value) for key, value in given if not _named(value, KNOWN_FORMATS)]
        if unknown:
            key, value = unknown[0]
            raise BadRequest(
                f"Unknown format '{value}' in '{key}' for {what}; use one of: "
                + ", ".join(f.names[0] for f in offered),
                supported=supported(offered),
            )
    chosen = negotiate(accept, offered)
    if chosen is None:
        raise NotAcceptable(supported(offered))
    return chosen


def _named(value: str, offered: Sequence[Format]) -> Format | None:
    """The format of ``offered`` a parameter value names: a name, a media type, or a list of
    media types in order of preference (``application/ld+json,application/x-json+ld``)."""
    for alternative in value.split(","):
        found = by_name(alternative, offered)
        if found is not None:
            return found
    return None


def choose_format(
    request: Request,
    offered: Sequence[Format],
    what: str = "this document",
    extension: str | None = None,
) -> Format:
    """``representation`` for a request; ``extension``, from the path, must be one offered
    (the route's path pattern admits no other)."""
    if extension is not None:
        return next(f for f in offered if f.extension == extension)
    return representation(
        offered,
        what,
        format_values=format_values(request.query_params.multi_items()),
        accept=request.headers.get("accept"),
    )
