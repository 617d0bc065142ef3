"""What the routes share, opened once by the lifespan and closed by it (docs/architecture.md,
"The code, by layer").

Every long-lived object the service keeps between requests is a field of ``Services``: typed,
made in ``Services.open`` before the first request, and closed in ``Services.close``. Routes
take it (or one of its fields) as a dependency (``service.web.deps``); nothing is added to the
application while it serves.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import anyio
from fastapi import Request
from fastapi.templating import Jinja2Templates

from service.config import Settings
from service.contrib.intake import Intake
from service.contrib.templates import TemplateMaker
from service.contrib.tokens import AuthFailures
from service.harvest.dumps import Manifest, current_manifest
from service.store import Store, open_store
from service.views.graphindex import GraphIndex
from service.views.jsonld_context import context
from service.views.ontology_doc import graph_index
from service.web.auth import Authenticator

T = TypeVar("T")
Prepare = Callable[[Store], Awaitable[None]]

#: Content versions whose first sighting is remembered; older ones are forgotten.
VERSIONS_REMEMBERED = 64


class Recent(Generic[T]):
    """The newest value computed for a content version, kept for ``interval`` seconds past
    its version: what costs a scan of the whole store (the VoID statistics) must not follow
    every contribution. One computation at a time; who waited uses its result."""

    def __init__(self) -> None:
        self._value: tuple[str, float, T] | None = None
        self._lock = anyio.Lock()

    def _fresh(self, version: str, interval: float) -> T | None:
        if self._value is None:
            return None
        seen, when, value = self._value
        return value if seen == version or time.monotonic() - when < interval else None

    async def get(self, version: str, interval: float, compute: Callable[[], Awaitable[T]]) -> T:
        value = self._fresh(version, interval)
        if value is not None:
            return value
        async with self._lock:
            value = self._fresh(version, interval)
            if value is None:
                value = await compute()
                self._value = (version, time.monotonic(), value)
            return value


class FirstSeen:
    """When this process first saw each content version (whole seconds, as HTTP dates have);
    the last ``VERSIONS_REMEMBERED`` versions only, so a long run of contributions cannot
    grow it without bound."""

    def __init__(self, remembered: int = VERSIONS_REMEMBERED) -> None:
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._remembered = remembered

    def __call__(self, version: str) -> datetime:
        moment = self._seen.get(version)
        if moment is None:
            moment = self._seen[version] = datetime.now(UTC).replace(microsecond=0)
            while len(self._seen) > self._remembered:
                self._seen.popitem(last=False)
        return moment


@dataclass(eq=False)
class Services:
    settings: Settings
    templates: Jinja2Templates
    store: Store
    intake: Intake
    template_maker: TemplateMaker
    auth: Authenticator
    first_seen: FirstSeen = field(default_factory=FirstSeen)
    #: The VoID statistics of a recent content version.
    void_statistics: Recent[dict[str, object]] = field(default_factory=Recent)
    #: One build of the dumps at a time.
    dumps_lock: anyio.Lock = field(default_factory=anyio.Lock)
    #: The indexes of the vocabulary graphs (``/def``, ``/shapes``) of one content version.
    vocabularies: dict[tuple[str, str], GraphIndex] = field(default_factory=dict)

    @classmethod
    async def open(
        cls, settings: Settings, templates: Jinja2Templates, prepare: Prepare
    ) -> Services:
        """Open the store, ``prepare`` it (the sync of the project's files), and open what
        depends on it; on a failure, close what was opened."""
        store = open_store(settings)
        try:
            await prepare(store)
            intake = Intake(settings, store)
        except BaseException:
            await store.close()
            raise
        return cls(
            settings=settings,
            templates=templates,
            store=store,
            intake=intake,
            template_maker=TemplateMaker(intake.validator.shapes, intake.validator.ontology),
            auth=Authenticator(
                AuthFailures(settings.auth_failure_limit, settings.auth_failure_window),
                intake.tokens,
            ),
        )

    async def vocabulary(self, version: str, graph_iri: str) -> GraphIndex:
        """The index of a vocabulary graph (``/def``, ``/shapes``) of content ``version``:
        the vocabularies change only on a sync, so it is kept until the version changes."""
        if any(key[0] != version for key in self.vocabularies):
            self.vocabularies.clear()
        key = (version, graph_iri)
        if key not in self.vocabularies:
            self.vocabularies[key] = await graph_index(self.store, graph_iri)
        return self.vocabularies[key]

    async def jsonld_context(self, version: str) -> dict[str, Any]:
        """Meent's JSON-LD context (``/def/context.jsonld``) of content ``version``: what every
        JSON-LD document embeds (``service.rdf.writing``)."""
        ontology = await self.vocabulary(version, self.settings.graph_iri("ontology"))
        return context(ontology, self.settings.base_iri)["@context"]

    async def dumps(self, version: str) -> Manifest:
        """The dumps of content ``version``: built now if missing or too old, one build at a
        time (``service.harvest.dumps.current_manifest``)."""
        return await current_manifest(self.store, self.settings, version, self.dumps_lock)

    async def close(self) -> None:
        """Close everything ``open`` opened, the store last."""
        try:
            self.intake.close()
        finally:
            await self.store.close()


def services_of(request: Request) -> Services:
    """The services of the application answering ``request`` (set by its lifespan)."""
    return request.app.state.services
