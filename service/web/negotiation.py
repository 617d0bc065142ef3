"""Which representation to send: the one decision every route makes the same way
(docs/architecture.md, "The path of a SPARQL query").

A path extension (``/doc/x.ttl``) wins, then a ``format=`` parameter (links people paste; a
full media type works too), then the ``Accept`` header (``service.rdf.conneg.negotiate``). A
``format=`` that names nothing the resource offers (an empty one included) is a 400 that names
the parameter and lists what it may be; an ``Accept`` header that matches nothing is
a 406 (RFC 9110 §15.5.7: that status is about the negotiation headers). Both list the media
types offered (``supported``).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request

from service.rdf.conneg import Format, by_name, negotiate, supported
from service.web.errors import BadRequest, NotAcceptable


def representation(
    offered: Sequence[Format], what: str, *, format_name: str | None, accept: str | None
) -> Format:
    """The format of ``offered`` a ``format=`` value or else an ``Accept`` header asks for."""
    if format_name is not None:
        chosen = by_name(format_name, offered)
        if chosen is None:
            raise BadRequest(
                f"Unknown format '{format_name}' for {what}; use one of: "
                + ", ".join(f.names[0] for f in offered),
                supported=supported(offered),
            )
        return chosen
    chosen = negotiate(accept, offered)
    if chosen is None:
        raise NotAcceptable(supported(offered))
    return chosen


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
        format_name=request.query_params.get("format"),
        accept=request.headers.get("accept"),
    )
