"""Which long queries run and which wait: the query worker pool's schedule for them.

A query worker evaluates one query; a long one is CPU-bound, so on a machine with two CPUs
eight long queries at once finish no sooner in all than two at a time would — but eight at
once hold eight working sets, and eight RocksDB block caches (one per worker process). On the
benchmark's mix at a million triples that was ~750 MB where ``oxigraph serve`` held ~240 MB.
So at most ``slots`` long queries run; the others wait, paused by the pool.

Who runs next is decided so that no one query can hold a slot against the others for long,
and none waits for ever:

- a query that has run ``quantum`` seconds in its slot while others wait gives the slot up
  and waits in turn;
- a freed slot goes to the waiting query with the least *claim*: the seconds it has run less
  the seconds it has waited (first come among equals). A new query goes before runaways
  that have had many seconds already, so it does not queue behind them until they time out;
  a query put back goes before newer ones once it has waited as long as it ran.

A query's deadline runs while it waits, so a runaway that keeps being put back still ends at
its timeout. This module only keeps the books; ``service.store.worker_pool`` sends the signals.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


@dataclass
class Changes(Generic[T]):
    """What the caller must do: pause these, resume those."""

    pause: list[T] = field(default_factory=list)
    resume: list[T] = field(default_factory=list)


class LongQueries(Generic[T]):
    """The long queries of a pool: those that run (at most ``slots``) and those that wait.
    Times are the caller's clock, in seconds."""

    def __init__(self, slots: int, quantum: float) -> None:
        if slots < 1:
            raise ValueError("at least one long query must be able to run")
        self.slots = slots
        self.quantum = quantum
        self._since: dict[T, float] = {}  # running: when it got its slot
        self._ran: dict[T, float] = {}  # every query here: seconds run before its current turn
        self._waiting: dict[T, float] = {}  # when each began to wait, in that order

    @property
    def running(self) -> set[T]:
        return set(self._since)

    @property
    def waiting(self) -> list[T]:
        return list(self._waiting)

    def __contains__(self, query: object) -> bool:
        return query in self._ran

    def start(self, query: T, now: float) -> Changes[T]:
        """``query`` has become long: it runs if a slot is free or one has run past its
        quantum (that one waits instead); otherwise it waits."""
        self._ran[query] = 0.0
        if len(self._since) < self.slots:
            self._since[query] = now
            return Changes()
        expired = self._expired(now)
        if expired is not None:
            self._put_back(expired, now)
            self._since[query] = now
            return Changes(pause=[expired])
        self._waiting[query] = now
        return Changes(pause=[query])

    def end(self, query: T, now: float) -> Changes[T]:
        """``query`` ended (answered, failed or stopped): its slot goes to the waiting query
        with the least claim."""
        self._since.pop(query, None)
        self._ran.pop(query, None)
        self._waiting.pop(query, None)
        changes: Changes[T] = Changes()
        while self._waiting and len(self._since) < self.slots:
            chosen = self._next(now)
            del self._waiting[chosen]
            self._since[chosen] = now
            changes.resume.append(chosen)
        return changes

    def tick(self, now: float) -> Changes[T]:
        """Queries past their quantum give their slots to waiting ones with a lesser claim
        than theirs (the seconds they have run)."""
        changes: Changes[T] = Changes()
        while self._waiting:
            expired = self._expired(now)
            if expired is None:
                break
            chosen = self._next(now)
            if self._claim(chosen, now) >= self._ran[expired] + now - self._since[expired]:
                break  # no waiting query has a lesser claim: let the running one go on
            self._put_back(expired, now)
            del self._waiting[chosen]
            self._since[chosen] = now
            changes.pause.append(expired)
            changes.resume.append(chosen)
        return changes

    def _expired(self, now: float) -> T | None:
        """The running query longest in its slot, if that is at least a quantum."""
        if not self._since:
            return None
        longest = min(self._since, key=self._since.__getitem__)
        return longest if now - self._since[longest] >= self.quantum else None

    def _claim(self, query: T, now: float) -> float:
        return self._ran[query] - (now - self._waiting[query])

    def _next(self, now: float) -> T:
        """The waiting query with the least claim (min keeps the first of equals)."""
        return min(self._waiting, key=lambda query: self._claim(query, now))

    def _put_back(self, query: T, now: float) -> None:
        self._ran[query] += now - self._since.pop(query)
        self._waiting[query] = now
