"""The remote store: any SPARQL 1.1 server, through the Protocol, Update and Graph Store
Protocol (see ``RemoteSparqlStore``)."""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Mapping,
    Sequence,
)
from pathlib import Path
from urllib.parse import quote

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import httpx
import pyoxigraph as ox

from service.store.base import (
    BytesProgress,
    DataError,
    QueryError,
    QueryResult,
    QueryTimeout,
    RdfData,
    ResultStream,
    Solutions,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
    Term,
)
from service.store.common import (
    CHUNK_SIZE,
    QUADS_QUERY,
    STAGING,
    ChunkWriter,
    bare_media_type,
    checked_iri,
    count_query,
    parse_triples,
    query_dataset,
    record_change,
    replace_update,
    set_state,
    solutions_of,
    stored_ntriples,
    threaded_stream,
    to_ntriples,
    values_clause,
    within_timeout,
)
from service.store.state import Change, StateDB

# --- remote ------------------------------------------------------------------------------------

SPARQL_RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"


class RemoteSparqlStore:
    """Any SPARQL 1.1 server, through the Protocol (queries), Update and the Graph Store
    Protocol (bulk loads).

    Atomicity: ``replace_graph`` sends one Update request (drop, metadata, insert), which a
    conforming server applies atomically (SPARQL 1.1 Update §2.2). Graph Store PUT is not
    used for it: Oxigraph's server clears the graph and then loads, so a bad body would leave
    it empty. Servers limit update bodies (Oxigraph: 1 MiB), so a graph bigger than
    ``max_update_bytes`` is staged: uploaded by Graph Store POST into a staging graph, then
    moved with one Update request (``MOVE``, SPARQL 1.1 Update §3.2.5). A failure still
    leaves the old graph, but while the upload runs, readers of the union also see the
    staging graph.

    Faults: a server that refuses connections, drops them or answers 5xx raises
    ``StoreUnavailable`` (the service answers 503); one that accepts but does not answer
    within ``timeout`` seconds raises ``StoreTimeout`` (504), and one that does not accept a
    connection within ``connect_timeout`` counts as down. Public queries have their own
    deadline (``QueryTimeout``). Nothing is cached about a failure: the next request tries
    again, so the service recovers by itself once the server is back.
    """

    def __init__(
        self,
        query_url: str,
        update_url: str,
        gsp_url: str,
        *,
        state: StateDB | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_update_bytes: int = 900_000,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self._state = state or StateDB(None)
        self._bulk_loads = 0  # the writes the private state does not record
        self._max_update_bytes = max_update_bytes
        self._timeout = timeout
        self._connect_timeout = min(connect_timeout, timeout)
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=self._connect_timeout)
        )

    # SPARQL 1.1 Protocol §2.1.2: query via POST with URL-encoded parameters; the dataset
    # parameters are repeated, one per graph.
    async def _query_request(
        self,
        sparql: str,
        accept: str,
        default_graph_uris: Sequence[str],
        named_graph_uris: Sequence[str],
        substitutions: Mapping[str, Term] | None,
        timeout: float | None = None,
    ) -> httpx.Request:
        if not default_graph_uris and not named_graph_uris:
            dataset = await anyio.to_thread.run_sync(query_dataset, sparql)
            if dataset is not None:
                default_graph_uris, named_graph_uris = dataset
        if substitutions:
            sparql += values_clause(substitutions)
        form: list[tuple[str, str]] = [("query", sparql)]
        form += [("default-graph-uri", checked_iri(iri).value) for iri in default_graph_uris]
        form += [("named-graph-uri", checked_iri(iri).value) for iri in named_graph_uris]
        return self._client.build_request(
            "POST",
            self.query_url,
            data=dict_list(form),
            headers={"Accept": accept},
            timeout=(
                httpx.Timeout(timeout, connect=min(self._connect_timeout, timeout))
                if timeout is not None
                else httpx.USE_CLIENT_DEFAULT
            ),
        )

    async def _send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        timeout: float | None = None,
        writes: bool = False,
    ) -> httpx.Response:
        """Send ``request``; a failure of the server or the network becomes StoreUnavailable
        or StoreTimeout (QueryTimeout for a public query, which has its own ``timeout``).
        ``writes``: the request changes the store, so an answer that never came may hide a
        change that was made."""
        where = f"{request.method} {request.url.copy_with(query=None)}"
        maybe = " The change may or may not have been made." if writes else ""
        try:
            response = await self._client.send(request, stream=stream)
        except httpx.ConnectTimeout as error:
            raise StoreUnavailable(
                "The store behind this service is not reachable right now.",
                cause=f"{where}: no connection within {self._connect_timeout:g} s ({error!r})",
            ) from None
        except httpx.PoolTimeout as error:
            raise StoreUnavailable(
                "The store behind this service is too busy right now.",
                cause=f"{where}: no free connection ({error!r})",
            ) from None
        except httpx.TimeoutException as error:
            if timeout is not None:
                raise QueryTimeout(timeout) from None
            raise StoreTimeout(
                "The store behind this service did not answer in time." + maybe,
                cause=f"{where}: no answer within {self._timeout:g} s ({error!r})",
            ) from None
        except httpx.HTTPError as error:  # refused, reset, closed without an answer
            raise StoreUnavailable(
                "The store behind this service is not reachable right now." + maybe,
                cause=f"{where}: {error!r}",
            ) from None
        if response.is_success:
            return response
        try:
            body = (await response.aread()).decode(errors="replace").strip()
        except httpx.HTTPError:
            body = ""
        await response.aclose()
        # SPARQL 1.1 Protocol §2.1.5: 400 means the request (the query) was malformed.
        if response.status_code == 400:
            raise QueryError(body or "the SPARQL server rejected the request")
        if response.status_code >= 500:
            raise StoreUnavailable(
                "The store behind this service failed to answer." + maybe,
                cause=f"{where}: answered {response.status_code}: {body[:500]}",
            )
        raise StoreError(f"SPARQL server answered {response.status_code}: {body[:500]}")

    async def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryResult:
        request = await self._query_request(
            sparql,
            f"{SPARQL_RESULTS_JSON}, {N_TRIPLES};q=0.9",
            default_graph_uris,
            named_graph_uris,
            substitutions,
        )
        response = await self._send(request)
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        body = response.content

        def parse() -> QueryResult:
            graph_format = ox.RdfFormat.from_media_type(media_type)
            if graph_format is not None:
                return [q.triple for q in ox.parse(body, graph_format, without_named_graphs=True)]
            results_format = ox.QueryResultsFormat.from_media_type(media_type)
            if results_format is None:
                raise StoreError(f"SPARQL server answered an unknown type: {media_type!r}")
            parsed = ox.parse_query_results(body, results_format)
            try:
                if isinstance(parsed, ox.QueryBoolean):
                    return bool(parsed)
                return solutions_of(parsed)
            except (SyntaxError, OSError) as error:
                raise StoreError(f"SPARQL server sent unreadable results: {error}") from None
            finally:
                del parsed  # on this thread: see OxigraphStore.query()

        return await anyio.to_thread.run_sync(parse)

    async def query_stream(
        self,
        sparql: str,
        *,
        results_format: ox.QueryResultsFormat,
        graph_format: ox.RdfFormat,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        substitutions: Mapping[str, Term] | None = None,
        timeout: float | None = None,
    ) -> ResultStream:
        """Asks the server for exactly the two offered formats and passes its bytes through;
        if it answers another format, the result is parsed and re-serialised.

        The ``timeout`` bounds the whole exchange (and each read of the HTTP request); at the
        deadline the connection is closed. Whether the *server* then stops evaluating is up
        to the server: give it its own query timeout, no longer than Meent's
        (``oxigraph serve --timeout-s 30``; Fuseki ``arq:queryTimeout``; Virtuoso
        ``MaxQueryExecutionTime``), or a runaway query keeps a server CPU busy.
        """
        return await within_timeout(
            timeout,
            self._start_stream(
                sparql,
                results_format,
                graph_format,
                default_graph_uris,
                named_graph_uris,
                substitutions,
                timeout,
            ),
        )

    async def _start_stream(
        self,
        sparql: str,
        results_format: ox.QueryResultsFormat,
        graph_format: ox.RdfFormat,
        default_graph_uris: Sequence[str],
        named_graph_uris: Sequence[str],
        substitutions: Mapping[str, Term] | None,
        timeout: float | None,
    ) -> ResultStream:
        accept = f"{results_format.media_type}, {graph_format.media_type}"
        request = await self._query_request(
            sparql, accept, default_graph_uris, named_graph_uris, substitutions, timeout
        )
        response = await self._send(request, stream=True, timeout=timeout)
        media_type = bare_media_type(response.headers.get("content-type", ""))
        # pyoxigraph's media types may carry parameters ("text/csv; charset=utf-8").
        if media_type == bare_media_type(results_format.media_type):
            return ResultStream(results_format, _passthrough(response))
        if media_type == bare_media_type(graph_format.media_type):
            return ResultStream(graph_format, _passthrough(response))
        body = await response.aread()
        await response.aclose()
        source_graph = ox.RdfFormat.from_media_type(media_type)
        source_results = ox.QueryResultsFormat.from_media_type(media_type)
        if source_graph is None and source_results is None:
            raise StoreError(f"SPARQL server answered an unknown type: {media_type!r}")

        def transcode(out: ChunkWriter) -> None:
            if source_graph is not None:
                out.announce(graph_format)
                quads = ox.parse(body, source_graph, without_named_graphs=True)
                ox.serialize((quad.triple for quad in quads), out, graph_format)
            else:
                out.announce(results_format)
                parsed = ox.parse_query_results(body, source_results)
                try:
                    parsed.serialize(out, results_format)
                finally:
                    del parsed  # on this thread: see OxigraphStore.query()

        return await threaded_stream(transcode)

    async def _update(self, operations: Sequence[str]) -> None:
        # SPARQL 1.1 Protocol §2.2.2: update via POST directly, application/sparql-update.
        request = self._client.build_request(
            "POST",
            self.update_url,
            content=" ;\n".join(operations).encode(),
            headers={"Content-Type": "application/sparql-update"},
        )
        await (await self._send(request, writes=True)).aclose()

    async def graph_iris(self) -> set[str]:
        result = await self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        assert isinstance(result, Solutions)
        return {
            row["g"].value
            for row in result
            if isinstance(row["g"], ox.NamedNode) and not row["g"].value.startswith(STAGING)
        }

    async def triple_count(self, graph_iri: str | None = None) -> int:
        result = await self.query(count_query(graph_iri))
        assert isinstance(result, Solutions)
        return int(result.rows[0]["n"].value)

    async def quads(self) -> list[ox.Quad]:
        result = await self.query(QUADS_QUERY)
        assert isinstance(result, Solutions)
        return [ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in result]

    async def write_quads(self, path: Path) -> None:
        # The SPARQL protocol has no dataset-wide dump: the quads come as one SELECT's answer.
        quads = await self.quads()
        await anyio.to_thread.run_sync(lambda: ox.serialize(quads, path, ox.RdfFormat.N_QUADS))

    async def replace_graph(
        self,
        graph_iri: str,
        data: RdfData,
        *,
        format: ox.RdfFormat = ox.RdfFormat.TURTLE,
        base_iri: str | None = None,
        metadata: Mapping[str, str | None] | None = None,
    ) -> int:
        triples = await anyio.to_thread.run_sync(parse_triples, data, format, base_iri)
        body = await anyio.to_thread.run_sync(to_ntriples, triples)
        update = replace_update(graph_iri, body)
        if len(update) <= self._max_update_bytes:
            await self._update([update])
        else:
            await self._replace_staged(graph_iri, body)
        logged = await anyio.to_thread.run_sync(stored_ntriples, triples)
        await record_change(self._state, metadata, graph_iri, logged)
        return len(triples)

    async def _replace_staged(self, graph_iri: str, body: bytes) -> None:
        staging = checked_iri(STAGING + quote(graph_iri, safe=""))
        await self._update([f"DROP SILENT GRAPH {staging}"])
        try:
            # Graph Store Protocol §5.5: POST adds the body's triples to the graph.
            request = self._client.build_request(
                "POST",
                self.gsp_url,
                params={"graph": staging.value},
                content=body,
                headers={"Content-Type": N_TRIPLES},
            )
            await (await self._send(request, writes=True)).aclose()
            # MOVE drops the target first, so this is the whole replacement, in one request.
            await self._update([f"MOVE SILENT GRAPH {staging} TO GRAPH {checked_iri(graph_iri)}"])
        finally:
            await self._update([f"DROP SILENT GRAPH {staging}"])

    async def drop_graph(
        self, graph_iri: str, *, metadata: Mapping[str, str | None] | None = None
    ) -> None:
        await self._update([f"DROP SILENT GRAPH {checked_iri(graph_iri)}"])
        await record_change(self._state, metadata, graph_iri, None)

    async def bulk_load(
        self,
        path: Path,
        *,
        format: ox.RdfFormat | None = None,
        graph_iri: str | None = None,
        progress: BytesProgress | None = None,
    ) -> None:
        """Graph Store Protocol §5.5 POST, streaming the file: into ``graph_iri`` for triples;
        quads (N-Quads, TriG) go to the dataset, as Oxigraph and Fuseki accept."""
        rdf_format = format or ox.RdfFormat.from_extension(path.suffix.lstrip("."))
        if rdf_format is None:
            raise DataError(f"unknown RDF format for {path.name}")
        params = {"graph": checked_iri(graph_iri).value} if graph_iri else {}
        if not graph_iri and not rdf_format.supports_datasets:
            params = {"default": ""}
        total = path.stat().st_size

        async def chunks() -> AsyncIterator[bytes]:
            done = 0
            async with await anyio.open_file(path, "rb") as file:
                while chunk := await file.read(CHUNK_SIZE * 16):
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
                    yield chunk

        request = self._client.build_request(
            "POST",
            self.gsp_url,
            params=params,
            content=chunks(),
            headers={"Content-Type": rdf_format.media_type},
        )
        try:
            await (await self._send(request, writes=True)).aclose()
        except QueryError as error:  # a 400 here is the server's parse error
            raise DataError(f"{path.name}: {error}") from error
        finally:
            self._bulk_loads += 1  # also after a failure: part of the file may be in

    @property
    def writes(self) -> int:
        return self._bulk_loads + self._state.writes

    async def metadata(self) -> dict[str, str]:
        return await anyio.to_thread.run_sync(self._state.metadata)

    async def set_metadata(self, values: Mapping[str, str | None]) -> None:
        await set_state(self._state, values)

    async def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        return await anyio.to_thread.run_sync(self._state.changes, after, limit)

    async def last_change(self) -> Change | None:
        return await anyio.to_thread.run_sync(self._state.last_change)

    async def close(self) -> None:
        await self._client.aclose()
        self._state.close()


async def _passthrough(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes(CHUNK_SIZE):
            yield chunk
    except httpx.HTTPError as error:
        raise StoreError(f"the SPARQL server's answer broke off: {error}") from None
    finally:
        await response.aclose()


def dict_list(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs → the dict-of-lists httpx encodes as repeated parameters, in order."""
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form
