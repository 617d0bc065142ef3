"""Abuse of the query service (issue 8): while 8 clients send runaway queries, 8 others
sending lookups see no errors and a p99 latency within 3 × the idle figure, and the runaway
work is really stopped.

A real ``meent serve`` on 127.0.0.1; each group of clients is a process of its own
(``loadclient.py``), so that neither shares an interpreter with the test or the other group.
The idle and loaded figures come from the same lookups in the same run: a ratio, not a time.
The figures are written to test-artifacts/query-abuse.json (docs/reliability.md cites them).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from servers import MeentServer
from test_query_timeout import EX, LOOKUP, RUNAWAY, ntriples, store_with

ROOT = Path(__file__).resolve().parents[1]
CLIENT = str(Path(__file__).with_name("loadclient.py"))
ARTIFACTS = ROOT / "test-artifacts"
CLIENTS = 8
IDLE_SECONDS = 4.0
LOADED_SECONDS = 6.0
TIMEOUT = 1.0


def _load(url: str, query: str, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, CLIENT, url, query, str(CLIENTS), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _results(process: subprocess.Popen[str]) -> list[tuple[int, float]]:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    return [(status, seconds) for status, seconds in json.loads(out)]


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


def _cpu_seconds(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def test_lookups_hold_up_while_eight_clients_send_runaways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_with(tmp_path / "store", ntriples(30_000))
    monkeypatch.setenv("MEENT_QUERY_TIMEOUT", str(TIMEOUT))
    monkeypatch.setenv("MEENT_SYNC_ON_START", "false")
    server = MeentServer(store, tmp_path / "serve.log")
    try:
        server.wait_ready(time.monotonic() + 60)
        _results(_load(server.url, LOOKUP, 1.0))  # warm: workers up, pages cached

        idle = _results(_load(server.url, LOOKUP, IDLE_SECONDS))
        runaways = _load(server.url, RUNAWAY, LOADED_SECONDS + 1.0)
        time.sleep(0.5)  # every runaway client has one running
        loaded = _results(_load(server.url, LOOKUP, LOADED_SECONDS))
        stopped = _results(runaways)
        time.sleep(TIMEOUT + 0.5)  # the last runaways reach their timeout
        cpu_before = _cpu_seconds(server.process.pid)
        time.sleep(1.0)
        cpu_after_stop = _cpu_seconds(server.process.pid) - cpu_before
        check = subprocess.run(
            [sys.executable, CLIENT, server.url, f"ASK {{ <{EX}s/7> ?p ?o }}", "1", "0.2"],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.stop()

    idle_latencies = [seconds for _, seconds in idle]
    loaded_latencies = [seconds for _, seconds in loaded]
    figures = {
        "lookup_clients": CLIENTS,
        "runaway_clients": CLIENTS,
        "idle_lookups": len(idle),
        "idle_p50_ms": statistics.median(idle_latencies) * 1000,
        "idle_p99_ms": _p99(idle_latencies) * 1000,
        "loaded_lookups": len(loaded),
        "loaded_p50_ms": statistics.median(loaded_latencies) * 1000,
        "loaded_p99_ms": _p99(loaded_latencies) * 1000,
        "p99_ratio": _p99(loaded_latencies) / _p99(idle_latencies),
        "runaways_stopped": len(stopped),
        "server_cpu_seconds_in_the_second_after": cpu_after_stop,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "query-abuse.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\n" + json.dumps(figures, indent=2))

    assert [status for status, _ in idle + loaded if status != 200] == []
    assert {status for status, _ in stopped} == {503}
    assert len(stopped) >= CLIENTS * LOADED_SECONDS / (TIMEOUT + 0.5)  # each ran to its end
    assert all(TIMEOUT * 0.9 < seconds < TIMEOUT + 1.0 for _, seconds in stopped)
    assert len(loaded) >= 100
    assert figures["p99_ratio"] <= 3.0, figures
    assert cpu_after_stop < 0.3, "the stopped queries' work must not go on"
    assert json.loads(check.stdout)[0][0] == 200  # still answering afterwards
