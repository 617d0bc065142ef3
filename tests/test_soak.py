"""A bounded soak (issue 8, load): 32 clients send a mix of reads and contributions to a real
``meent serve`` on 127.0.0.1 for a minute. Zero errors; memory flat; every contribution
answered 201 is there afterwards. The figures go to test-artifacts/soak.json (cited in
bench/RESULTS.md and docs/reliability.md).

MEENT_SOAK_SECONDS shortens or lengthens the run (default 60)."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
from servers import MeentServer, create_token

ROOT = Path(__file__).resolve().parents[1]
CLIENT = str(Path(__file__).with_name("soakclient.py"))
ARTIFACTS = ROOT / "test-artifacts"
CLIENTS = 32
SECONDS = float(os.environ.get("MEENT_SOAK_SECONDS", "60"))
#: Resident memory the server (with its query workers) may gain between the first and the
#: last quarter of the run. The answers it keeps (the response cache, 64 MB at most) and
#: the store's own caches fill in the first minutes; a leak of a few kilobytes a request
#: would pass this many megabytes within the run.
FLAT_MB = 60


def _pss(pid: int) -> int:
    """The proportional set size of the server and its query processes: what they use of
    memory, with the pages forked workers share with their zygote counted once in all (a
    sum of resident sizes would count them once per worker, and grow with the pool)."""
    root = psutil.Process(pid)
    total = 0
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_full_info().pss
    return total


def test_a_minute_of_mixed_load(tmp_path: Path) -> None:
    store = tmp_path / "store"
    token = create_token(store, "soak")
    server = MeentServer(store, tmp_path / "serve.log")
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    try:
        server.wait_ready(time.monotonic() + 120)

        def sample() -> None:
            began = time.monotonic()
            while not stop.wait(0.5):
                samples.append((time.monotonic() - began, _pss(server.process.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        done = subprocess.run(
            [sys.executable, CLIENT, server.url, token, str(CLIENTS), str(SECONDS)],
            capture_output=True,
            text=True,
            timeout=SECONDS + 120,
        )
        stop.set()
        sampler.join()
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            stored, page = 0, "/contributions"
            while page:
                body = client.get(page).json()
                stored += len(body["items"])
                page = body["next"]
    finally:
        stop.set()
        server.stop()

    kinds: dict[str, list[list]] = report["kinds"]
    expected = {name: set(statuses) for name, statuses in report["expected"].items()}
    errors = {
        name: sorted({status for status, _ in results if status not in expected[name]})
        for name, results in kinds.items()
    }
    latencies = [seconds for results in kinds.values() for _, seconds in results]
    quarter = len(samples) // 4
    first = statistics.median(pss for _, pss in samples[:quarter])
    last = statistics.median(pss for _, pss in samples[-quarter:])
    figures = {
        "clients": CLIENTS,
        "seconds": SECONDS,
        "requests": len(latencies),
        "per_second": len(latencies) / SECONDS,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000,
        "per_kind": {
            name: {
                "requests": len(results),
                "p50_ms": statistics.median(s for _, s in results) * 1000,
                "p99_ms": statistics.quantiles([s for _, s in results], n=100)[98] * 1000,
            }
            for name, results in kinds.items()
            if len(results) >= 2
        },
        "contributions_stored": stored,
        "pss_first_quarter_mb": first / 2**20,
        "pss_last_quarter_mb": last / 2**20,
        "pss_peak_mb": max(pss for _, pss in samples) / 2**20,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "soak.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\n" + json.dumps(figures, indent=2))

    assert all(not statuses for statuses in errors.values()), errors
    assert all(len(results) > 0 for results in kinds.values()), "every kind was sent"
    assert stored == len(kinds["contribute"]), "every 201 is there, nothing else"
    assert len(samples) >= SECONDS, "memory was sampled throughout"
    assert (last - first) / 2**20 < FLAT_MB, figures
