"""``/sparql``: the SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/).

Queries by GET, by POST with a URL-encoded form, and by POST with the query as the body
(§2.1.1–2.1.3); ``default-graph-uri``/``named-graph-uri`` set the dataset (§2.1.4). Results
stream in the negotiated format. A bare GET answers with the Service Description
(https://www.w3.org/TR/sparql11-service-description/ §2) or, for a browser, the query editor.
Updates are refused: Meent's graph changes only through contributions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import anyio
import pyoxigraph as ox
from fastapi import Request, Response

from service.harvest.service_description import SD_PREFIXES, service_description
from service.rdf.conneg import (
    GRAPH_FORMATS,
    HTML,
    RESULT_FORMATS,
    Format,
    negotiate,
    negotiate_language,
    supported,
)
from service.rdf.queries import examples_graph, read_queries
from service.rdf.sparqltext import QueryForm, cap_rows, form_of, is_repeatable, scan
from service.rdf.writing import JsonLdStream, write_rdf
from service.store import QueryError, QueryTimeout, ResultStream, StoreError
from service.vocab import PREFIXES, SH
from service.web.deps import SettingsDep, StoreDep, TemplatesDep
from service.web.errors import (
    BadRequest,
    Forbidden,
    NotAcceptable,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
    problem,
)
from service.web.negotiation import choose_format, format_values, representation
from service.web.pages import jsonld_context
from service.web.routing import Router
from service.web.streaming import CutStream, StreamCut

log = logging.getLogger("meent")
router = Router()

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
#: Parameters of SPARQL 1.1 Protocol §2.1 that may appear in a query request.
DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")
ALLOW = "GET, HEAD, POST, OPTIONS"
#: Deepest bracket nesting and most operators a query may have. pyoxigraph's parser and
#: evaluator recurse once per level: a 20 KB query of ~4000 nested braces, or a chain of
#: ~10000 ``UNION``/``+``/``||``, overflows a worker thread's stack and kills the process.
#: Real queries stay far below both.
MAX_NESTING = 128
MAX_OPERATORS = 2000
#: Seconds past the query timeout after which the router stops waiting even if the store has
#: not kept its deadline.
TIMEOUT_GRACE = 2.0
#: The prefixes the editor starts with: the vocabularies a Meent query most often needs.
EDITOR_PREFIXES = {
    p: PREFIXES[p] for p in ("dct", "meent", "org", "prov", "rdf", "rdfs", "schema", "skos", "xsd")
}


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in params if key == name]
    if len(values) > 1:
        raise BadRequest(f"The '{name}' parameter is given {len(values)} times; give it once.")
    return values[0] if values else None


def _all(params: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in params if key == name]


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _charset(request: Request) -> str | None:
    for param in request.headers.get("content-type", "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    return bytes(body)


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"The {what} is not valid UTF-8 (byte {error.start + 1}).") from None


def _check_complexity(deepest: int, operators: int) -> None:
    """Refuse a query the engine would recurse too deeply on (see ``MAX_NESTING``), given
    its ``complexity``."""
    if deepest > MAX_NESTING:
        raise BadRequest(
            f"The query nests brackets {deepest} deep; this endpoint allows {MAX_NESTING}."
        )
    if operators > MAX_OPERATORS:
        raise BadRequest(
            f"The query has {operators} operators; this endpoint allows {MAX_OPERATORS}. "
            "Split it, or use VALUES instead of long UNION or || chains."
        )


def _check_dataset(params: list[tuple[str, str]]) -> None:
    """§2.1.4: ``default-graph-uri``/``named-graph-uri`` must be IRIs (a client error)."""
    for name in DATASET_PARAMS:
        for value in _all(params, name):
            try:
                ox.NamedNode(value)
            except ValueError:
                raise BadRequest(
                    f"The '{name}' parameter is not an absolute IRI: {value!r}."
                ) from None


def _with_base(query: str, endpoint: str) -> str:
    """The query with the endpoint as its base IRI, on a line of its own.

    SPARQL 1.1 Protocol §2.1 lets the service choose the base IRI of a query ("which MAY be
    the service endpoint"); without one, a relative IRI such as ``<s>`` is a syntax error in
    the embedded store and resolves against the remote server's own URL. A BASE in the query
    itself still applies after this one. ``_query_problem`` takes the extra line off the
    positions it reports.
    """
    return f"BASE <{endpoint}>\n{query}"


async def _query(
    request: Request,
    params: list[tuple[str, str]],
    query: str,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    """Checks that come before any work, then the query itself."""
    # Read once: the checks here and in _run ask of its keywords.
    words, deepest, operators = scan(query)
    if form_of(words) is QueryForm.UPDATE:
        raise _refuse_update()
    _check_complexity(deepest, operators)
    _check_dataset(params)
    endpoint = str(request.url_for("sparql_get"))
    return await _run(request, params, _with_base(query, endpoint), words, store, settings)


def _refuse_update() -> Forbidden:
    return Forbidden(
        "This endpoint answers queries only: SPARQL Update is not accepted here. "
        "Add or change data by submitting a contribution (POST /contributions).",
    )


def _formats(
    request: Request, params: list[tuple[str, str]], form: QueryForm
) -> tuple[Format, Format]:
    """The result format and the graph format to answer with (``service.web.negotiation``:
    the format parameters, for links people paste and for clients such as SPARQLWrapper, then
    the Accept header)."""
    offered = GRAPH_FORMATS if form.returns_graph else RESULT_FORMATS
    if form is QueryForm.UNKNOWN:  # the engine will say what is wrong with the text
        offered = (*RESULT_FORMATS, *GRAPH_FORMATS)
    chosen = representation(
        offered,
        f"a {form.value} query",
        format_values=format_values(params),
        accept=request.headers.get("accept"),
    )
    if chosen.rdf is not None:
        return RESULT_FORMATS[0], chosen
    return chosen, GRAPH_FORMATS[0]


async def _run(
    request: Request,
    params: list[tuple[str, str]],
    query: str,
    words: list[str],
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    """``words``: the keywords of the query as sent (the BASE line added since is no
    keyword that any check here asks about)."""
    form = form_of(words)  # _query has refused updates already
    if not settings.federation and "SERVICE" in words:
        raise BadRequest(
            "Federated queries (SERVICE) are switched off on this endpoint: they would let "
            "anyone make the server fetch arbitrary URLs."
        )
    results_format, graph_format = _formats(request, params, form)
    assert results_format.results is not None and graph_format.rdf is not None
    # An answer may be kept (by the response cache, keyed to the graph's version, and by
    # others) but must be checked again before reuse; one with RAND() or NOW() never.
    headers = {
        "Vary": "Accept",
        "Cache-Control": "no-cache" if is_repeatable(words) else "no-store",
    }
    if settings.max_result_rows is not None:
        query = cap_rows(query, settings.max_result_rows)
        # Says that a LIMIT was applied, so a client can tell a capped answer from a full one.
        headers["Meent-Result-Cap"] = str(settings.max_result_rows)
    # A graph answer in JSON-LD comes from the store as N-Triples and is compacted here as it
    # streams (service.rdf.writing.JsonLdStream).
    compact = graph_format.rdf == ox.RdfFormat.JSON_LD
    try:
        # The store enforces the timeout (and stops the work where it can); this is only a
        # backstop should a store not keep its deadline.
        with anyio.fail_after(settings.query_timeout + TIMEOUT_GRACE):
            stream = await store.query_stream(
                query,
                results_format=results_format.results,
                graph_format=ox.RdfFormat.N_TRIPLES if compact else graph_format.rdf,
                default_graph_uris=_all(params, "default-graph-uri"),
                named_graph_uris=_all(params, "named-graph-uri"),
                timeout=settings.query_timeout,
            )
            first = await _first_chunk(stream)
    except (QueryTimeout, TimeoutError):
        raise _timeout(settings.query_timeout) from None
    except QueryError as error:
        raise _query_problem(str(error)) from None
    except StoreError as error:
        raise Unavailable(str(error), headers={"Retry-After": "10"}) from None
    fmt = results_format if not stream.is_graph else graph_format
    body = _rest(request, stream, first)
    if stream.is_graph and compact:
        writer = JsonLdStream(await jsonld_context(request, store))
        body = _compacted(body, writer)
    return CutStream(body, media_type=fmt.content_type, headers=headers)


async def _compacted(body: AsyncIterator[bytes], writer: JsonLdStream) -> AsyncIterator[bytes]:
    """``body`` (N-Triples) as compacted JSON-LD; the work in a thread, batch by batch."""
    yield writer.head()
    async for chunk in body:
        out = await anyio.to_thread.run_sync(writer.feed, chunk)
        if out:
            yield out
    yield await anyio.to_thread.run_sync(writer.tail)


_POSITION = re.compile(r"^error at (\d+):(\d+): ")


def _query_problem(message: str) -> BadRequest:
    """A 400 for a query the engine refused, with the line and column when it gives them."""
    position = _POSITION.match(message)
    if position is None:
        return BadRequest(f"The query could not be evaluated: {message}")
    # Line 1 is the BASE line that _with_base put before the query.
    line, column = max(int(position[1]) - 1, 1), int(position[2])
    reason = message[position.end() :]
    return BadRequest(
        f"Syntax error in the query at line {line}, column {column}: {reason}",
        line=line,
        column=column,
    )


def _timeout(seconds: float) -> Unavailable:
    """503 for a query stopped at the timeout (SPARQL 1.1 Protocol §2.1.5 leaves the code to
    the service; 503 says "not now, not like this", and no Retry-After: the same query would
    be stopped again)."""
    return Unavailable(
        f"The query ran longer than the {seconds:g} s this endpoint allows and was stopped. "
        "Narrow it (LIMIT, more selective patterns) or run it on a dump of the data.",
    )


async def _first_chunk(stream: ResultStream) -> bytes:
    """Wait for the first bytes: most evaluation errors surface here, while a status code
    can still say so."""
    try:
        return await anext(stream.chunks)
    except StopAsyncIteration:
        return b""
    except BaseException:
        await stream.aclose()
        raise


async def _rest(request: Request, stream: ResultStream, first: bytes) -> AsyncIterator[bytes]:
    """The body: the first chunk, then the rest. The store stops the stream at the query's
    deadline (QueryTimeout) or on a failure; the status line has gone already, so the answer
    is then cut (``service.web.streaming``): the connection ends without the chunked body's
    last chunk, and every client sees an error rather than a clean end — a CSV, TSV or
    N-Triples answer stopped at a row boundary would otherwise pass for a whole one. The
    request's state says so too, for the response cache."""
    try:
        yield first
        while True:
            try:
                chunk = await anext(stream.chunks)
            except StopAsyncIteration:
                return
            except StoreError as error:
                request.state.response_incomplete = True
                log.warning(
                    "the answer to a query was cut after it began (%s): %s",
                    type(error).__name__,
                    error,
                )
                raise StreamCut(str(error)) from None
            yield chunk
    finally:
        await stream.aclose()


@router.get("/sparql", response_model=None)
async def sparql_get(
    request: Request, store: StoreDep, settings: SettingsDep, templates: TemplatesDep
) -> Response:
    """SPARQL 1.1 Protocol §2.1.1 query via GET; a bare GET describes the service."""
    params = parse_qsl(request.url.query, keep_blank_values=True)
    if _all(params, "update"):
        raise _refuse_update()
    query = _one(params, "query")
    if query is None:
        return await _describe_or_edit(request, store, settings, templates)
    if len(query.encode()) > settings.max_query_bytes:
        raise PayloadTooLarge(f"The query is larger than {settings.max_query_bytes} bytes.")
    return await _query(request, params, query, store, settings)


@router.post("/sparql", response_model=None)
async def sparql_post(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """§2.1.2 query via URL-encoded POST and §2.1.3 query via POST directly."""
    url_params = parse_qsl(request.url.query, keep_blank_values=True)
    media_type = _media_type(request)
    if media_type == SPARQL_UPDATE or _all(url_params, "update"):
        raise _refuse_update()
    charset = _charset(request)
    if media_type in (FORM, SPARQL_QUERY) and charset not in (None, "utf-8", "utf8"):
        # §2.1.2/§2.1.3: the body is UTF-8; a declared other charset is a format we lack.
        raise UnsupportedMediaType(
            f"A SPARQL query is sent in UTF-8, not {charset}.",
            supported=[FORM, SPARQL_QUERY],
        )
    if media_type == FORM:
        body = _decode(await _body(request, settings.max_query_bytes), "form")
        form_params = parse_qsl(body, keep_blank_values=True)
        if _all(form_params, "update"):
            raise _refuse_update()
        query = _one(form_params, "query")
        if query is None:
            raise BadRequest("The form has no 'query' parameter.")
        if _one(url_params, "query") is not None:
            raise BadRequest("Give the query once: in the form or in the URL, not both.")
        return await _query(request, url_params + form_params, query, store, settings)
    if media_type == SPARQL_QUERY:
        if _one(url_params, "query") is not None:
            raise BadRequest("Give the query once: in the body or in the URL, not both.")
        query = _decode(await _body(request, settings.max_query_bytes), "query")
        return await _query(request, url_params, query, store, settings)
    raise UnsupportedMediaType(
        f"A SPARQL query is POSTed as {FORM} or {SPARQL_QUERY}, "
        f"not {media_type or 'a body without Content-Type'}.",
        supported=[FORM, SPARQL_QUERY],
    )


@router.options("/sparql")
async def sparql_options() -> Response:
    return Response(status_code=204, headers={"Allow": ALLOW})


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
async def sparql_other_methods() -> Response:
    """§2.1: queries use GET or POST. A 405 must list every allowed method (RFC 9110 §15.5.6);
    without this route Starlette would list only those of the first /sparql route."""
    response = problem(
        405, "Method not allowed", f"/sparql answers {ALLOW}; SPARQL queries use GET or POST."
    )
    response.headers["Allow"] = ALLOW
    return response


async def _describe_or_edit(
    request: Request, store: StoreDep, settings: SettingsDep, templates: TemplatesDep
) -> Response:
    accept = request.headers.get("accept")
    chosen = negotiate(accept, (*GRAPH_FORMATS, HTML))
    if chosen is HTML and accept and "text/html" in accept:
        return _editor(request, settings, templates)
    if chosen is None or chosen.rdf is None:
        raise NotAcceptable([*supported(GRAPH_FORMATS), "text/html"])
    endpoint = str(request.url_for("sparql_get"))
    triples = await service_description(store, settings, endpoint)
    jsonld = await jsonld_context(request, store)
    body = write_rdf(triples, chosen, prefixes=SD_PREFIXES, context=jsonld)
    return Response(
        body,
        media_type=chosen.content_type,
        headers={"Vary": "Accept", "Cache-Control": "max-age=60"},
    )


def _editor(request: Request, settings: SettingsDep, templates: TemplatesDep) -> Response:
    """The query editor: YASGUI with the example questions as tabs, over a plain form."""
    endpoint = str(request.url_for("sparql_get"))
    lang = negotiate_language(request.headers.get("accept-language"))
    examples = read_queries(settings.project_root / "queries")
    prologue = "\n".join(f"PREFIX {p}: <{ns}>" for p, ns in sorted(EDITOR_PREFIXES.items()))
    default_query = (
        f"{prologue}\n\nSELECT ?class (COUNT(?s) AS ?n) WHERE {{\n  ?s a ?class .\n}}\n"
        "GROUP BY ?class\nORDER BY DESC(?n)\nLIMIT 25"
    )
    config = {
        "endpoint": endpoint,
        "defaultQuery": default_query,
        "examples": [
            {"name": e.summary.get(lang) or e.slug, "query": e.query_text} for e in examples
        ],
    }
    return templates.TemplateResponse(
        request,
        "sparql.html",
        {
            "endpoint": endpoint,
            "lang": lang,
            "default_query": default_query,
            "examples": examples,
            "config": config,
        },
        headers={"Vary": "Accept, Accept-Language"},
    )


@router.get("/.well-known/sparql-examples", response_model=None)
async def sparql_examples(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The example research questions of ``queries/`` as ``sh:SPARQLExecutable`` resources
    (as SIB's sparql-examples publishes them), targeting this endpoint."""
    chosen = choose_format(request, GRAPH_FORMATS, "the examples")
    assert chosen.rdf is not None
    examples = read_queries(settings.project_root / "queries")
    endpoint = str(request.url_for("sparql_get"))
    graph = examples_graph(examples, endpoint, settings.base_iri)
    triples = [q.triple for q in ox.parse(graph.serialize(format="nt"), ox.RdfFormat.N_TRIPLES)]
    prefixes = {"sh": str(SH), "schema": PREFIXES["schema"], "rdfs": PREFIXES["rdfs"]}
    jsonld = await jsonld_context(request, store)
    return Response(
        write_rdf(triples, chosen, prefixes=prefixes, context=jsonld),
        media_type=chosen.content_type,
        headers={"Vary": "Accept", "Cache-Control": "max-age=300"},
    )
