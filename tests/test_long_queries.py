"""The schedule of long queries (service.store.schedule): which run, which wait, who is next."""

from __future__ import annotations

import pytest

from service.store.schedule import LongQueries


def test_past_the_slots_a_long_query_waits() -> None:
    long = LongQueries[str](slots=2, quantum=10)
    assert long.start("a", 0).pause == []
    assert long.start("b", 0).pause == []
    changes = long.start("c", 1)
    assert changes.pause == ["c"] and changes.resume == []
    assert long.running == {"a", "b"} and long.waiting == ["c"]


def test_a_freed_slot_goes_to_the_waiting_query_that_has_run_least() -> None:
    long = LongQueries[str](slots=1, quantum=2)
    long.start("old", 0)
    assert long.start("new", 3).pause == ["old"]  # "old" had its quantum: it waits instead
    assert long.start("newer", 4).pause == ["newer"]  # "new" has not: the newcomer waits
    # "new" ends: "newer" (run 0 s, waited 1 s) goes before "old" (run 3 s, waited 2 s),
    # though "old" waited first.
    changes = long.end("new", 5)
    assert changes.resume == ["newer"] and changes.pause == []
    assert long.end("newer", 6).resume == ["old"]
    assert long.running == {"old"} and long.waiting == []


def test_equals_are_served_first_come() -> None:
    long = LongQueries[str](slots=1, quantum=10)
    long.start("a", 0)
    long.start("b", 1)
    long.start("c", 2)
    assert long.end("a", 3).resume == ["b"]
    assert long.end("b", 4).resume == ["c"]


def test_past_its_quantum_a_query_takes_turns_with_those_waiting() -> None:
    long = LongQueries[str](slots=1, quantum=2)
    long.start("runaway", 0)
    long.start("other", 0.5)  # waits: the runaway is within its quantum
    assert long.tick(1.9).pause == []
    changes = long.tick(2.0)
    assert changes.pause == ["runaway"] and changes.resume == ["other"]
    # "other" has had its quantum, and the runaway (run 2 s) has waited as long: its turn.
    changes = long.tick(4.0)
    assert changes.pause == ["other"] and changes.resume == ["runaway"]


def test_a_new_query_goes_before_one_that_ran_long_and_waited_little() -> None:
    long = LongQueries[str](slots=1, quantum=2)
    long.start("runaway", 0)
    long.start("other", 5)  # the runaway has run 5 s: it waits, "other" runs
    assert long.running == {"other"}
    long.start("newcomer", 5.5)
    # "other" ends: the newcomer (claim -0.5) goes before the runaway (5 s run, 1 s waited).
    assert long.end("other", 6).resume == ["newcomer"]
    # The runaway's claim falls as it waits; it runs once no one has a lesser one.
    assert long.end("newcomer", 7).resume == ["runaway"]


def test_nothing_changes_hands_when_no_one_waits() -> None:
    long = LongQueries[str](slots=2, quantum=1)
    long.start("a", 0)
    long.start("b", 0)
    assert long.tick(100).pause == [] and long.running == {"a", "b"}


def test_a_waiting_query_that_ends_frees_nothing_and_is_forgotten() -> None:
    long = LongQueries[str](slots=1, quantum=10)
    long.start("a", 0)
    long.start("b", 1)
    changes = long.end("b", 2)  # stopped at its deadline while it waited
    assert changes.resume == [] and changes.pause == []
    assert "b" not in long and long.waiting == []
    assert long.end("a", 3).resume == []
    assert "a" not in long and long.running == set()


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LongQueries[str](slots=0, quantum=1)
