"""The benchmark driver (``bench/run``, issue 7), end to end at a tiny scale: it loads the same
data into real servers, drives them, writes the report, and fails the run on any error.

The benchmark itself is not part of the tests; this smoke run is. rdflib-endpoint (the ``bench``
extra) is driven when it is installed; without it the run still compares Meent with
``oxigraph serve`` and the report says that rdflib-endpoint was not run.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HAS_RDFLIB_ENDPOINT = importlib.util.find_spec("rdflib_endpoint") is not None


def _driver(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "bench.run", "--triples", "5k", "--workdir",
               str(tmp_path / "work"), "--out", str(tmp_path / "RESULTS.md"), *args]  # fmt: skip
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_a_tiny_run_writes_the_report_without_errors(tmp_path: Path) -> None:
    run = _driver(
        tmp_path,
        "--duration", "0.2", "--mix-factor", "2", "--contributions", "3",
        "--pyshacl-triples", "2k", "--load-triples", "8k",
        # A few queries of each kind keep the run short: an example question, lookups, a
        # DESCRIBE, a CONSTRUCT, a join and the large SELECT.
        "--queries", "koppels-per-theme", "lookup", "describe", "construct", "four-way",
        "large-select",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    report = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "**Errors: 0.**" in report
    for heading in (
        "## Targets",
        "## The mix",
        "## Per query",
        "## Resource pages",
        "## Repeated requests",
        "## Loading and restart",
        "## Streaming",
        "## Contributions",
        "## Memory",
    ):
        assert heading in report, heading  # fmt: skip
    results = json.loads((tmp_path / "work" / "results.json").read_text())
    assert results["errors"] == []
    servers = {"Meent", "oxigraph serve"} | ({"rdflib-endpoint"} if HAS_RDFLIB_ENDPOINT else set())
    assert set(results["mix"]) == servers
    assert results["rdflib"]["ran"] is HAS_RDFLIB_ENDPOINT
    if not HAS_RDFLIB_ENDPOINT:
        assert "rdflib-endpoint is not installed" in report
    # Every server held the same data: the same answers, and every request was answered.
    for name in servers:
        counts = dict(results["counts"][name])
        if name == "rdflib-endpoint":  # DESCRIBE's answer is each engine's own choice
            counts.pop("describe")
        assert counts.items() <= results["counts"]["oxigraph serve"].items(), name
        for query, measured in results["per_query"][name].items():
            assert measured["requests"] >= 1, (name, query)
    assert results["stream"]["Meent"]["rows"] == results["stream"]["oxigraph serve"]["rows"] > 5000
    assert len(results["contributions"]["submit"]) == 3
    # Lookups are measured after a first pass over their requests, which is reported too.
    for name in servers:
        lookup = results["per_query"][name]["lookup"]
        assert lookup["cold_requests"] == 2000 and lookup["cold_throughput"] > 0, name
    assert "cold_throughput" not in results["per_query"]["Meent"]["four-way-join"]
    # The peak memory of each phase, per server: every question each server answered, the
    # mix and the stream; pages and contributions are Meent's alone. No phase's peak is above
    # the run's.
    by_phase = results["peak_by_phase"]
    for name in servers:
        phases = set(results["per_query"][name]) | {"the mix"}
        phases |= {"streaming SELECT"} if name != "rdflib-endpoint" else set()
        assert phases <= set(by_phase[name]), name
        assert 0 < max(by_phase[name].values()) <= results["peak_rss"][name], name
    assert {"resource pages", "contributions"} <= set(by_phase["Meent"])
    assert "resource pages" not in by_phase["oxigraph serve"]
    assert "### Peak by phase" in report
    # The bulk load compared apart, at its own size, and cleaned up after.
    assert results["load_at_scale"]["triples"] > results["load"]["triples"]
    assert f"at {results['load_at_scale']['triples']:,} triples" in report
    assert not list((tmp_path / "work").glob("load-*"))
    # The generated data is gone afterwards; the results stay.
    assert not (tmp_path / "work" / "data.nt").exists()


def test_an_error_fails_the_run(tmp_path: Path) -> None:
    """A query no server can answer: each answers 400, the driver counts it and exits 1."""
    run = _driver(tmp_path, "--check-only", "--no-rdflib", "--bad-query", "--queries", "lookup")
    assert run.returncode == 1, run.stderr[-3000:]
    assert "deliberately-invalid: HTTP 400" in run.stderr
    assert "answers checked: 2 error(s)" in run.stderr
