"""The benchmark report (``bench/report.py``): how finely the mix can tell a ratio, and the
server time per mix request estimated from the per-query figures."""

from __future__ import annotations

import pytest

from bench.report import MEENT, OXIGRAPH, RDFLIB, mix_cost, mix_resolution


def _mix(**answered: tuple[int, float]) -> dict[str, dict[str, float]]:
    return {
        name: {"requests": n, "seconds": seconds, "throughput": n / seconds}
        for name, (n, seconds) in answered.items()
    }


def test_one_answer_more_or_fewer_spans_the_ratio() -> None:
    mix = _mix(**{MEENT: (150, 75.0), RDFLIB: (9, 90.0)})
    low, high = mix_resolution(mix, RDFLIB)
    # Meent 2 req/s; rdflib-endpoint 0.1 req/s (20 ×), or 10/90 and 8/90 had it answered one
    # request more or fewer.
    assert low == pytest.approx(18.0)
    assert high == pytest.approx(22.5)
    assert low < mix[MEENT]["throughput"] / mix[RDFLIB]["throughput"] < high


def test_many_answers_give_a_narrow_span() -> None:
    mix = _mix(**{MEENT: (1000, 300.0), OXIGRAPH: (900, 300.0)})
    low, high = mix_resolution(mix, OXIGRAPH)
    assert high - low < 0.01


def test_too_few_answers_give_no_span() -> None:
    mix = _mix(**{MEENT: (150, 75.0), RDFLIB: (1, 90.0)})
    assert mix_resolution(mix, RDFLIB) is None


def test_mix_cost_weighs_each_query_as_the_mix_ran_and_counts_left_out_ones_at_the_timeout() -> (
    None
):
    r = {
        "args": {"query_timeout": 30.0, "rdflib_timeout": 20.0},
        "mix_by_query": {MEENT: {"lookup": {"n": 90}, "heavy": {"n": 10}}},
        "per_query": {
            MEENT: {"lookup": {"throughput": 1000.0}, "heavy": {"throughput": 0.5}},
            RDFLIB: {"lookup": {"throughput": 100.0}},  # "heavy" left out
        },
    }
    ours, left_out = mix_cost(r, MEENT)
    assert ours == pytest.approx((90 / 1000 + 10 / 0.5) / 100)
    assert left_out == []
    theirs, left_out = mix_cost(r, RDFLIB)
    assert theirs == pytest.approx((90 / 100 + 10 * 20.0) / 100)
    assert left_out == ["heavy"]
    assert mix_cost(r, OXIGRAPH) is None  # not measured
