"""The contribution intake, without HTTP: parse → validate → store with provenance → report.

One :class:`Intake` per application. Writes are serialised by a lock held from validation to
storing, so two contributions cannot both pass against a store that neither has changed yet
(two founding dates for one commons, each alone allowed).

Storing is one ``replace_graph`` call — data and PROV-O record in one graph
(``service.contrib.records``) — so a failure anywhere before or during it leaves no trace,
and once it returns the contribution is in the store (the 201 is sent only after that).
Pending contributions (review mode) are held in the private state
(``service.contrib.pending``) until a curator accepts them.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import RDF, SH

from service.config import Settings
from service.contrib.incremental import IncrementalValidator
from service.contrib.pending import Pending, PendingStore
from service.contrib.protected import Protection
from service.contrib.records import (
    CC_BY,
    DATA_QUERY,
    LIST_QUERY,
    REPORT_QUERY,
    Names,
    Record,
    graph_triples,
    retraction_triples,
)
from service.contrib.reports import LocatedResult, Source, locate
from service.contrib.tokens import Token, TokenStore, slugify
from service.contrib.validation import ValidationReport
from service.rdf.parsing import RdfSyntaxError, parse_rdf
from service.rdf.sourcemap import turtle_source_map
from service.store import Solutions, Store
from service.store.state import connect

#: Media types a contribution may have, and how to parse them.
FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
PAGE_SIZE = 50


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_id() -> str:
    """Sortable and unguessable: ``20261126-3f9a0c1b2d4e``."""
    return f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(6)}"


def to_ox(term: Node) -> Any:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, Literal)
    if term.language:
        return ox.Literal(str(term), language=term.language)
    datatype = ox.NamedNode(str(term.datatype)) if term.datatype else None
    return ox.Literal(str(term), datatype=datatype)


@dataclass
class Checked:
    """A parsed and validated submission."""

    body: bytes
    media_type: str
    data: Graph
    report: ValidationReport
    located: list[LocatedResult]
    sha256: str

    @property
    def conforms(self) -> bool:
        return self.report.conforms


class Intake:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        root = settings.project_root
        self.validator = IncrementalValidator.from_project(root)
        self.protection = Protection(
            self.validator.ontology, self.validator.shapes, settings.base_iri
        )
        self._db = connect(settings.state_path)
        lock = threading.Lock()
        self.tokens = TokenStore(self._db, lock)
        self.pending = PendingStore(self._db, lock)
        self.write_lock = anyio.Lock()

    def close(self) -> None:
        self._db.close()

    def names(self, contribution_id: str) -> Names:
        return Names(self.settings.base_iri, contribution_id)

    # --- checking -------------------------------------------------------------------------

    async def check(
        self, body: bytes, media_type: str, *, exclude_graph: str | None = None
    ) -> Checked:
        """Parse (``RdfSyntaxError`` with line and column) and validate against the store."""
        fmt = FORMATS[media_type]

        def parse() -> tuple[Graph, list[Source]]:
            data = parse_rdf(body, fmt, source="contribution")
            sources = []
            if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES):
                text = body.decode("utf-8", errors="replace")
                sources.append(Source("contribution", turtle_source_map(text)))
            return data, sources

        data, sources = await anyio.to_thread.run_sync(parse)
        if len(data) == 0:
            raise RdfSyntaxError("the contribution holds no triples", None, None, "contribution")
        found = await self.validator.validate(self.store, data, exclude_graph=exclude_graph)
        protected = self.protection.check(data)
        report = ValidationReport(
            tuple(protected) + found.results, _with_results(found.graph, protected)
        )
        return Checked(
            body,
            media_type,
            data,
            report,
            locate(report, sources),
            hashlib.sha256(body).hexdigest(),
        )

    # --- storing --------------------------------------------------------------------------

    def record_for(
        self, names: Names, checked: Checked, who: str, licence: str, **more: Any
    ) -> Record:
        return Record(
            names=names,
            contributor=who,
            contributor_slug=slugify(who),
            created=more.pop("created", now()),
            sha256=checked.sha256,
            licence=licence,
            shapes_version=self.validator.version,
            warnings=checked.report.warnings,
            **more,
        )

    async def publish(self, names: Names, checked: Checked, record: Record) -> None:
        data = [ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in checked.data]
        # The store logs the new graph in the change feed (/ldes) itself.
        await self.store.replace_graph(names.graph, graph_triples(data, record))

    async def submit(self, checked: Checked, token: Token, licence: str = CC_BY) -> str:
        """Store a checked, conforming submission (or hold it, in review mode); its id."""
        contribution_id = new_id()
        names = self.names(contribution_id)
        if self.settings.review_mode:
            pending = Pending(
                contribution_id,
                token.name,
                now(),
                checked.media_type,
                checked.body,
                checked.sha256,
                licence,
            )
            await anyio.to_thread.run_sync(self.pending.add, pending)
            return contribution_id
        await self.publish(names, checked, self.record_for(names, checked, token.name, licence))
        return contribution_id

    async def replace(self, contribution_id: str, checked: Checked, previous: dict) -> None:
        names = self.names(contribution_id)
        record = self.record_for(
            names,
            checked,
            previous["contributor"],
            previous["licence"],
            created=previous["created"],
            modified=now(),
            revisions=[*previous.get("revisions", []), previous["sha256"]],
        )
        await self.publish(names, checked, record)

    async def retract(self, contribution_id: str, token: Token) -> None:
        """Replace the graph by its record plus the retraction: the data leave the public
        graph, the record of what was there and who retracted it stays."""
        names = self.names(contribution_id)
        kept = await self.store.query(
            bind(
                "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } FILTER (isIRI(?s) && "
                "(STRSTARTS(STR(?s), ?records) || STRSTARTS(STR(?s), ?agents))) }",
                self._graph_bindings(names),
            )
        )
        assert isinstance(kept, list)
        extra = retraction_triples(names, now(), token.name, token.slug)
        await self.store.replace_graph(names.graph, [*kept, *extra])

    # --- reading --------------------------------------------------------------------------

    def _graph_bindings(self, names: Names) -> dict[str, Any]:
        return {
            "g": ox.NamedNode(names.graph),
            "records": ox.Literal(names.record),
            "agents": ox.Literal(f"{self.settings.base_iri}id/contributor/"),
        }

    async def records(self, *, offset: int = 0, limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
        prefix = ox.Literal(f"{self.settings.base_iri}graph/contribution/")
        query = bind(LIST_QUERY, {"prefix": prefix}) + f"LIMIT {int(limit)} OFFSET {int(offset)}"
        rows = await self.store.query(query)
        assert isinstance(rows, Solutions)
        return [_row(row) for row in rows]

    async def record(self, contribution_id: str) -> dict[str, Any] | None:
        names = self.names(contribution_id)
        graph = {"g": ox.NamedNode(names.graph), "prefix": ox.Literal(names.graph)}
        rows = await self.store.query(bind(LIST_QUERY, graph))
        assert isinstance(rows, Solutions)
        if not rows.rows:
            return None
        found = _row(rows.rows[0])
        report = await self.store.query(
            REPORT_QUERY, substitutions={"g": ox.NamedNode(names.graph)}
        )
        assert isinstance(report, Solutions)
        found["shapesVersion"] = None
        warnings: dict[str, dict[str, Any]] = {}
        for row in report:
            found["shapesVersion"] = row["version"].value
            result = row["result"]
            if result is None:
                continue
            item = warnings.setdefault(
                result.value,
                {
                    "severity": row["severity"].value.rsplit("#", 1)[-1],
                    "focusNode": _value(row["focus"]),
                    "path": _value(row["path"]),
                    "value": _value(row["value"]),
                    "messages": {},
                },
            )
            message = row["message"]
            if message is not None:
                item["messages"][message.language or ""] = message.value
        found["warnings"] = list(warnings.values())
        return found

    async def data(self, contribution_id: str) -> list[ox.Triple]:
        names = self.names(contribution_id)
        triples = await self.store.query(bind(DATA_QUERY, self._graph_bindings(names)))
        assert isinstance(triples, list)
        return triples


def bind(query: str, terms: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """``query`` with its variables bound by a VALUES block at the start of its WHERE
    clause, the terms written in pyoxigraph's N-Triples form (validated, never raw input).

    Not the store's ``substitutions``: those join after the whole pattern (SPARQL 1.1 §10.2.2),
    too late for the FILTERs and GRAPH patterns here that need the values.
    """
    head, sep, rest = query.partition("WHERE {")
    assert sep, "the query needs a WHERE clause"
    names = " ".join(f"?{name}" for name in terms)
    values = " ".join(str(term) for term in terms.values())
    return f"{head}WHERE {{ VALUES ({names}) {{ ({values}) }}{rest}"


def _value(term: Any) -> str | None:
    return None if term is None else term.value


def _row(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"].value,
        "graph": row["g"].value,
        "record": row["record"].value,
        "contributor": row["who"].value,
        "created": row["created"].value,
        "modified": _value(row["modified"]),
        "retracted": _value(row["retracted"]),
        "sha256": row["sha"].value,
        "licence": row["licence"].value,
        "status": "retracted" if row["retracted"] is not None else "published",
    }


def _with_results(report: Graph, extra: list) -> Graph:
    """``report`` with ``extra`` results (the protection checks) added as SHACL results."""
    if not extra:
        return report
    graph = Graph()
    graph += report
    node = next(iter(graph.subjects(RDF.type, SH.ValidationReport)), None)
    if node is None:
        node = BNode()
        graph.add((node, RDF.type, SH.ValidationReport))
    graph.set((node, SH.conforms, Literal(False)))
    for result in extra:
        r = BNode()
        graph.add((node, SH.result, r))
        graph.add((r, RDF.type, SH.ValidationResult))
        graph.add((r, SH.focusNode, result.focus))
        graph.add((r, SH.resultSeverity, SH.Violation))
        graph.add((r, SH.sourceConstraintComponent, result.constraint))
        if result.path is not None:
            graph.add((r, SH.resultPath, result.path))
        if result.value is not None:
            graph.add((r, SH.value, result.value))
        for lang, message in result.messages.items():
            graph.add((r, SH.resultMessage, Literal(message, lang=lang or None)))
    return graph
