"""What the routes share, opened once by the lifespan and closed by it (docs/architecture.md,
"The code, by layer").

Every long-lived object the service keeps between requests is a field of ``Services``: typed,
made in ``Services.open`` before the first request, and closed in ``Services.close``. Routes
take it (or one of its fields) as a dependency (``service.web.deps``); nothing is added to the
application while it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
from service.harvest.dumps import Manifest, current_manifest, is_current, read_manifest
from service.store import Store, open_store
from service.views.graphindex import GraphIndex
from service.views.jsonld_context import context
from service.views.ontology_doc import graph_index
from service.web.auth import Authenticator

T = TypeVar("T")
log = logging.getLogger("meent")
Prepare = Callable[[Store], Awaitable[None]]

#: Content versions whose first sighting is remembered; older ones are forgotten.
VERSIONS_REMEMBERED = 64


class Background:
    """Work a request starts and does not wait for: a build of the dumps, a new count of the
    VoID statistics. One task per key at a time; a failure is logged, never raised into a
    request; ``close`` cancels what runs (a build in a worker thread finishes first)."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        #: Work finished so far: a finished build changes answers without a write to the
        #: store, so the response cache keys on this too (``service.web.app.written``).
        self.finished = 0

    def start(self, key: str, work: Callable[[], Awaitable[object]]) -> None:
        if key in self._tasks:
            return

        async def run() -> None:
            try:
                await work()
                self.finished += 1
            except Exception:
                log.exception("the background work %r failed; the next request retries", key)
            finally:
                self._tasks.pop(key, None)

        self._tasks[key] = asyncio.get_running_loop().create_task(run())

    @property
    def running(self) -> set[str]:
        return set(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Recent(Generic[T]):
    """The newest value computed for a content version, kept for ``interval`` seconds past
    its version: what costs a scan of the whole store (the VoID statistics) must not follow
    every contribution. Once there is a value, a request never waits for a new one: it gets
    the last value and a new one is computed in the background. One computation at a time;
    who waited for the first uses its result."""

    def __init__(self) -> None:
        self._value: tuple[str, float, T] | None = None
        self._lock = anyio.Lock()

    def _fresh(self, version: str, interval: float) -> T | None:
        if self._value is None:
            return None
        seen, when, value = self._value
        return value if seen == version or time.monotonic() - when < interval else None

    async def get(
        self,
        version: str,
        interval: float,
        compute: Callable[[], Awaitable[T]],
        background: Background | None = None,
    ) -> T:
        value = self._fresh(version, interval)
        if value is not None:
            return value
        if self._value is not None and background is not None:
            background.start(f"recent-{id(self)}", lambda: self.get(version, interval, compute))
            return self._value[2]
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
    #: Builds and counts that requests start and do not wait for.
    background: Background = field(default_factory=Background)
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
        """The dumps for content ``version``. Only the very first build is waited for: once
        there is a complete build, it is served (with the date it was built) while a newer one
        is made in the background, one at a time (``service.harvest.dumps``)."""
        settings = self.settings
        manifest = await anyio.to_thread.run_sync(read_manifest, settings.dumps_path)
        if manifest is None:
            return await current_manifest(self.store, settings, version, self.dumps_lock)
        if not is_current(manifest, version, settings.dump_interval):
            self.background.start(
                "dumps",
                lambda: current_manifest(self.store, settings, version, self.dumps_lock),
            )
        return manifest

    async def close(self) -> None:
        """Stop the background work, then close everything ``open`` opened, the store last."""
        try:
            await self.background.close()
            self.intake.close()
        finally:
            await self.store.close()


def services_of(request: Request) -> Services:
    """The services of the application answering ``request`` (set by its lifespan)."""
    return request.app.state.services
