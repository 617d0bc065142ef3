"""The benchmark driver (issue 7): ``bench/run`` or ``python -m bench.run``.

On one machine, in one run: generate the data (``bench.generate``), load the same data into
Meent (``meent load``, a real ``meent serve``), ``oxigraph serve`` (loaded by ``oxigraph load``,
the bulk-load reference) and rdflib-endpoint; check that they answer every query of the mix
alike; drive each over HTTP with a fixed-concurrency client; measure what the issue's targets
are about; write ``bench/RESULTS.md``. Any error — a non-2xx answer, a transport failure, a
row count that differs from ``oxigraph serve``'s — is counted, and the run exits 1 if there was
one. See ``bench/README.md`` for what is measured and why.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from bench import client, contribution, mix, report, servers
from bench.client import Request, Stats
from bench.generate import parse_size, write
from bench.mix import SELECT_JSON, Catalogue, Query
from bench.servers import MemorySampler, Server
from service.store.loader import project_sources, read_triples

ROOT = Path(__file__).resolve().parent.parent
BASE_IRI = "https://w3id.org/meent/"
DATA_GRAPH = BASE_IRI + "graph/data/data"  # where `meent load data.nt` puts the file
#: Instances of each query whose answers are compared across the servers.
CHECKED_INSTANCES = 3
OXIGRAPH_PROBE = "/query?query=ASK%7B%7D"
RDFLIB_PROBE = "/?query=ASK%7B%7D"
REFERENCE = "oxigraph serve"
STREAM_QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
TSV = "text/tab-separated-values"


@dataclass
class Errors:
    """Every error of the run, by server; any one fails it."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, server: str, what: str) -> None:
        self.items.append((server, what))
        print(f"ERROR {server}: {what}", file=sys.stderr)

    def add_stats(self, server: str, what: str, stats: Stats) -> None:
        for sample in stats.error_samples:
            self.items.append((server, f"{what}: {sample}"))
        hidden = stats.errors - len(stats.error_samples)
        if hidden > 0:
            self.items.append((server, f"{what}: {hidden} more error(s)"))
        if stats.errors:
            print(f"ERROR {server}: {what}: {stats.errors} error(s)", file=sys.stderr)

    def __len__(self) -> int:
        return len(self.items)


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- requests ----------------------------------------------------------------------------------


def sparql(server: Server, text: str, accept: str) -> Request:
    """A SPARQL 1.1 Protocol query by POST, the query as the body (§2.1.3)."""
    headers = (("Content-Type", "application/sparql-query"), ("Accept", accept))
    return Request("POST", server.query_path, headers, text.encode("utf-8"))


def count_answer(body: bytes, accept: str) -> int:
    """Solutions of a SPARQL JSON result (1/0 for ASK), or triples of an N-Triples graph."""
    if accept == SELECT_JSON:
        document = json.loads(body)
        if "boolean" in document:
            return int(document["boolean"])
        return len(document["results"]["bindings"])
    return sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))


# --- phases ------------------------------------------------------------------------------------


async def check_answers(
    targets: Sequence[Server],
    queries: Sequence[Query],
    errors: Errors,
    comparable: set[str],
    timeouts: dict[str, float],
) -> tuple[dict[str, dict[str, list[int | None]]], dict[str, set[str]]]:
    """Every server answers the first instances of every query; counts are compared with the
    reference (``oxigraph serve``) where the server holds the same data.

    A query the reference cannot answer within the timeout is *too slow at this size*: it is
    left out of the timing on every server (the report lists it). A query only rdflib-endpoint
    cannot answer in its time is left out of rdflib-endpoint's timing. Returns the counts and,
    per server, the queries left out."""
    counts: dict[str, dict[str, list[int | None]]] = {s.name: {} for s in targets}
    too_slow: dict[str, set[str]] = {s.name: set() for s in targets}
    ordered = sorted(targets, key=lambda s: s.name != REFERENCE)  # the reference first
    for query in queries:
        for server in ordered:
            if query.name in too_slow[REFERENCE]:
                too_slow[server.name].add(query.name)
                continue
            found: list[int | None] = []
            for text in query.instances[:CHECKED_INSTANCES]:
                limit = timeouts[server.name]
                began = time.perf_counter()
                try:
                    answer = await client.fetch(
                        "127.0.0.1",
                        server.port,
                        sparql(server, text, query.check_accept),
                        timeout=limit + 5,
                    )
                except TimeoutError:
                    answer = None
                # At the timeout a server answers 5xx or, when it had begun to stream, cuts the
                # body short (oxigraph serve): either way the query is too slow at this size.
                slow = answer is None or time.perf_counter() - began >= 0.9 * limit
                if slow:
                    say(f"{server.name}: {query.name} took over {limit:g} s: left out")
                    too_slow[server.name].add(query.name)
                    await wait_responsive(server, 10 * limit)
                    break
                assert answer is not None
                if answer.status != 200:
                    body = answer.body[:200]
                    errors.add(server.name, f"{query.name}: HTTP {answer.status} {body!r}")
                    found.append(None)
                    continue
                try:
                    found.append(count_answer(answer.body, query.check_accept))
                except (ValueError, KeyError) as error:
                    errors.add(server.name, f"{query.name}: unreadable answer: {error}")
                    found.append(None)
            counts[server.name][query.name] = found
    for query in queries:
        expected = counts[REFERENCE].get(query.name, [])
        for server in targets:
            if server.name == REFERENCE or server.name not in comparable:
                continue
            if server.name != "Meent" and not query.same_across_engines:
                continue  # another engine, a query whose answer is the engine's choice
            got = counts[server.name].get(query.name, [])
            for i, (a, b) in enumerate(zip(expected, got, strict=False)):
                if a is not None and b is not None and a != b:
                    errors.add(
                        server.name,
                        f"{query.name} (instance {i}): {b} rows/triples, {REFERENCE} gave {a}",
                    )
    return counts, too_slow


@dataclass
class Measured:
    """Throughput and latency of one query (or the mix, or a page) on one server."""

    stats: Stats
    single: bool = False  # measured by one request: it alone took over half the duration
    cold: Stats | None = None  # a repeated query's first pass over its instances

    @property
    def throughput(self) -> float:
        return self.stats.throughput

    def as_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "requests": s.ok,
            "errors": s.errors,
            "timeouts": s.timeouts,
            "seconds": s.elapsed,
            "throughput": s.throughput,
            "p50_ms": s.percentile(50) * 1000,
            "p99_ms": s.percentile(99) * 1000,
            "single": self.single,
            **(
                {"cold_throughput": self.cold.throughput, "cold_requests": self.cold.ok}
                if self.cold is not None
                else {}
            ),
        }


async def wait_responsive(server: Server, limit: float) -> None:
    """After a timeout a server may still be working on the abandoned request: one with a
    ``probe`` (``oxigraph serve``, rdflib-endpoint: neither can stop it) is restarted; Meent
    stops it itself, so wait until it answers a trivial query again."""
    if server.probe is not None:
        await asyncio.to_thread(server.restart, server.probe, server.restart_within)
        return
    with contextlib.suppress(TimeoutError, OSError):
        await client.fetch(
            "127.0.0.1", server.port, sparql(server, "ASK {}", SELECT_JSON), timeout=limit
        )


async def measure(
    server: Server,
    label: str,
    make: Any,
    *,
    duration: float,
    concurrency: int,
    timeout: float,
    errors: Errors,
    warm_pass: int | None = None,
) -> Measured:
    """Warm up with one request; if it alone takes over half the duration, that request is the
    measurement; otherwise warm up a little more and drive for ``duration``. With
    ``warm_pass`` (a repeated query's number of instances) the warm-up is one pass over them
    all, kept as the cold figure."""
    first = await client.drive(
        "127.0.0.1", server.port, make, concurrency=1, duration=0, max_requests=1, timeout=timeout
    )
    if first.timeouts:
        await wait_responsive(server, timeout * 10)
    if first.errors or first.timeouts or (first.latencies and first.latencies[0] > duration / 2):
        errors.add_stats(server.name, label, first)
        return Measured(first, single=True)
    warm = await client.drive(
        "127.0.0.1",
        server.port,
        make,
        concurrency=concurrency,
        duration=math.inf if warm_pass else min(1.0, duration / 4),
        max_requests=warm_pass,
        timeout=timeout,
    )
    if warm_pass:
        errors.add_stats(server.name, f"{label} (first pass)", warm)
    stats = await client.drive(
        "127.0.0.1",
        server.port,
        make,
        concurrency=concurrency,
        duration=duration,
        timeout=timeout,
    )
    if stats.timeouts:
        await wait_responsive(server, timeout * 10)
    errors.add_stats(server.name, label, stats)
    return Measured(stats, cold=warm if warm_pass else None)


def _fresh(server: Server, query: Query, numbers: Iterator[int]) -> Callable[[int], Request]:
    """The request for instance i. A query that is not ``repeated`` ends with a comment of
    its own each time (the same for every server), so that each request is evaluated: Meent
    answers a repeated request from its response cache, and the research questions measure
    the engines."""
    if query.repeated:
        made = [sparql(server, text, query.accept) for text in query.instances]
        return lambda i: made[i]
    return lambda i: sparql(server, f"{query.instances[i]}\n# {next(numbers)}", query.accept)


def query_maker(server: Server, query: Query) -> Any:
    request = _fresh(server, query, itertools.count())

    def make(i: int) -> tuple[str, Request]:
        return query.name, request(i % len(query.instances))

    return make


def mix_maker(server: Server, queries: Sequence[Query], seed: int) -> Any:
    numbers = itertools.count()
    made = [_fresh(server, q, numbers) for q in queries]
    sequence = mix.mix_sequence(queries, seed)

    def make(i: int) -> tuple[str, Request]:
        index, instance = sequence[i % len(sequence)]
        return queries[index].name, made[index](instance)

    return make


async def page_measurements(
    meent: Server, catalogue: Catalogue, args: argparse.Namespace, errors: Errors
) -> dict[str, Measured]:
    """Meent's resource pages: /doc HTML and Turtle, a Turtle revalidation (If-None-Match →
    304, as a harvester repeats), and /id → 303."""
    iris = [iri for iri in mix.lookup_iris(catalogue, args.seed, "doc") if iri.startswith(mix.ID)]
    html = (("Accept", "text/html"), ("Accept-Language", "en"))
    turtle = (("Accept", "text/turtle"),)
    kinds: dict[str, list[Request]] = {
        "/doc HTML": [Request("GET", mix.doc_path(i), html) for i in iris],
        "/doc Turtle": [Request("GET", mix.doc_path(i), turtle) for i in iris],
        "/id → 303": [
            Request("GET", mix.doc_path(i).replace("/doc/", "/id/", 1), turtle, ok=frozenset({303}))
            for i in iris
        ],
    }
    # Revalidation: each distinct page's ETag, fetched once.
    etags: dict[str, str] = {}
    for iri in dict.fromkeys(iris[:400]):
        answer = await client.fetch(
            "127.0.0.1", meent.port, Request("GET", mix.doc_path(iri), turtle)
        )
        if answer.status != 200 or "etag" not in answer.headers:
            errors.add(meent.name, f"{mix.doc_path(iri)}: HTTP {answer.status}, no ETag")
            continue
        etags[iri] = answer.headers["etag"]
    kinds["/doc Turtle, If-None-Match → 304"] = [
        Request("GET", mix.doc_path(i), (*turtle, ("If-None-Match", etags[i])), ok=frozenset({304}))
        for i in iris
        if i in etags
    ]
    found = {}
    for label, requests in kinds.items():

        def make(i: int, requests: list[Request] = requests, label: str = label) -> tuple:
            return label, requests[i % len(requests)]

        say(f"Meent {label}")
        found[label] = await measure(
            meent,
            label,
            make,
            duration=args.duration,
            concurrency=args.concurrency,
            timeout=args.query_timeout,
            errors=errors,
            warm_pass=len(requests),
        )
    return found


async def stream(server: Server, sampler: MemorySampler, errors: Errors, timeout: float) -> dict:
    """Every triple as a TSV SELECT: rows, time to first byte, total, memory growth."""
    await asyncio.sleep(1.0)  # let the last phase's garbage settle
    idle = sampler.open_window(server.name)
    newlines = 0

    def on_chunk(data: bytes) -> None:
        nonlocal newlines
        newlines += data.count(b"\n")

    answer = await client.fetch(
        "127.0.0.1",
        server.port,
        sparql(server, STREAM_QUERY, TSV),
        keep_body=False,
        on_chunk=on_chunk,
        timeout=timeout,
    )
    peak = sampler.window_peak(server.name)
    if answer.status != 200:
        errors.add(server.name, f"streaming SELECT: HTTP {answer.status}")
    return {
        "rows": max(newlines - 1, 0),  # the header line
        "bytes": answer.size,
        "ttfb_s": answer.first_byte,
        "total_s": answer.total,
        "idle_rss": idle,
        "peak_rss": peak,
        "growth": peak - idle,
    }


async def contributions(
    meent: Server, token: str, args: argparse.Namespace, errors: Errors
) -> dict[str, Any]:
    """POST /contributions/validate and the whole POST /contributions, one at a time."""
    documents = contribution.contributions(args.triples, args.seed, 2 * args.contributions)
    triples = [len(d.splitlines()) for d in documents]
    timings: dict[str, list[float]] = {"validate": [], "submit": []}
    headers = (("Content-Type", "application/n-triples"), ("Accept", "application/json"))
    auth = (*headers, ("Authorization", f"Bearer {token}"))
    plan = [("validate", "/contributions/validate", headers, d, {200}) for d in documents[::2]]
    plan += [("submit", "/contributions", auth, d, {201}) for d in documents[1::2]]
    # One warm-up validation: the intake parses the shapes on first use.
    await client.fetch(
        "127.0.0.1", meent.port, Request("POST", plan[0][1], headers, documents[0].encode())
    )
    for kind, path, head, document, ok in plan:
        answer = await client.fetch(
            "127.0.0.1", meent.port, Request("POST", path, head, document.encode())
        )
        if answer.status not in ok:
            errors.add(meent.name, f"{path}: HTTP {answer.status} {answer.body[:300]!r}")
            continue
        timings[kind].append(answer.total)
    return {
        "triples_min": min(triples),
        "triples_max": max(triples),
        "validate": timings["validate"],
        "submit": timings["submit"],
    }


def whole_graph_pyshacl(args: argparse.Namespace, work: Path, data: Path) -> dict[str, Any]:
    """pySHACL over the whole graph, at ``--pyshacl-triples`` (then scaled to the run's size
    linearly, which flatters pySHACL if it grows faster than linearly)."""
    size = min(args.pyshacl_triples, args.triples)
    source = data
    if size != args.triples:
        source = work / f"pyshacl-{size}.nt"
        with source.open("w", encoding="utf-8") as out:
            write(size, args.seed, out)
    done = subprocess.run(
        [sys.executable, "-m", "bench.whole_graph", str(source)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    scale = args.triples / result["triples"]
    result["measured_triples"] = result["triples"]
    result["scale"] = scale
    result["validate_s_at_size"] = result["validate_s"] * scale
    result["parse_s_at_size"] = result["parse_s"] * scale
    return result


def project_quads(path: Path) -> int:
    """The project's graphs exactly as Meent's sync writes them (``service.store.loader``), as
    N-Quads, so that the reference servers hold what Meent holds."""
    quads = []
    for source in project_sources(ROOT, BASE_IRI):
        graph = ox.NamedNode(source.graph_iri)
        quads += [
            ox.Quad(t.subject, t.predicate, t.object, graph)
            for t in read_triples(source.files, BASE_IRI)
        ]
    ox.serialize(quads, output=str(path), format=ox.RdfFormat.N_QUADS)
    return len(quads)


def as_nquads(source: Path, target: Path, graph: str) -> Path:
    """The N-Triples file as N-Quads in ``graph``: where Meent and oxigraph hold it. (Loaded
    into rdflib-endpoint's default graph, the triples would not be in its union.)"""
    suffix = f" <{graph}> .\n"
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        out.writelines(line.rstrip()[:-1].rstrip() + suffix for line in lines if line.strip())
    return target


def create_token(store: Path, args: argparse.Namespace) -> str:
    done = subprocess.run(
        servers.meent_command("token", "create", "--name", "benchmark", "--role", "contributor"),
        cwd=ROOT,
        env=servers.meent_env(store, args.query_timeout),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def machine() -> dict[str, str]:
    import psutil

    def version(package: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as of

        try:
            return of(package)
        except PackageNotFoundError:
            return "not installed"

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    oxigraph = subprocess.run(
        [servers.oxigraph_binary(), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": str(psutil.cpu_count(logical=True)),
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "pyoxigraph": version("pyoxigraph"),
        "oxigraph": oxigraph or version("oxigraph"),
        "rdflib": version("rdflib"),
        "rdflib-endpoint": version("rdflib-endpoint"),
        "pyshacl": version("pyshacl"),
        "uvicorn": version("uvicorn"),
        "load": ", ".join(f"{x:.2f}" for x in psutil.getloadavg()),
    }


# --- the run -----------------------------------------------------------------------------------


def rdflib_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("rdflib_endpoint") is not None


def bulk_load_at(triples: int, seed: int, work: Path, log: Path) -> dict[str, Any]:
    """The bulk-load comparison at another size (the target is set at 10M): the same
    generated file into a fresh Meent store and a fresh ``oxigraph load`` store, one after
    the other, both deleted afterwards."""
    say(f"bulk load at {triples:,} triples: generating")
    data = work / f"load-{triples}.nt"
    with data.open("w", encoding="utf-8") as out:
        generated = write(triples, seed, out)
    store, location = work / f"load-{triples}-meent", work / f"load-{triples}-oxigraph"
    try:
        say("bulk load: meent load")
        env = servers.meent_env(store, 30)
        meent_s = servers.run_timed(servers.meent_command("load", str(data)), env=env, log=log)
        say("bulk load: oxigraph load")
        oxigraph_s = servers.run_timed(
            [servers.oxigraph_binary(), "load", "--location", str(location), "--file", str(data),
             "--graph", DATA_GRAPH],
            log=log,
        )  # fmt: skip
    finally:  # the file, both stores and Meent's state database beside its store
        for path in work.glob(f"load-{triples}*"):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(True)
    return {"triples": generated, "meent_bulk_s": meent_s, "oxigraph_load_s": oxigraph_s}


async def run(args: argparse.Namespace) -> int:
    errors = Errors()
    work = Path(args.workdir).resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    log = work / "servers.log"
    results: dict[str, Any] = {"command": args.command, "machine": machine(), "args": vars(args)}
    results["args"] = {k: v for k, v in vars(args).items() if k != "command"}

    say(f"generating {args.triples:,} triples (seed {args.seed})")
    data = work / "data.nt"
    began = time.perf_counter()
    with data.open("w", encoding="utf-8") as out:
        generated = write(args.triples, args.seed, out)
    results["generated"] = {"triples": generated, "seconds": time.perf_counter() - began}
    project = work / "project.nq"
    results["project_quads"] = project_quads(project)
    catalogue = Catalogue.from_file(data)
    queries = mix.build(catalogue, args.seed)
    if args.queries:
        queries = [q for q in queries if any(part in q.name for part in args.queries)]
    if args.bad_query:  # a query no server can answer: proves that errors fail the run
        queries.append(Query("deliberately-invalid", "select", ("SELECT WHERE {",), 1, "bench"))

    # Loading.
    store = work / "meent-store"
    env = servers.meent_env(store, args.query_timeout)
    say("Meent: meent load (sync the project), then meent load data.nt (bulk)")
    sync_s = servers.run_timed(servers.meent_command("load"), env=env, log=log)
    meent_load_s = servers.run_timed(servers.meent_command("load", str(data)), env=env, log=log)
    say("oxigraph load")
    location = work / "oxigraph-store"
    oxigraph_load_s = servers.run_timed(
        [servers.oxigraph_binary(), "load", "--location", str(location), "--file", str(data),
         "--graph", DATA_GRAPH],
        log=log,
    )  # fmt: skip
    servers.run_timed(
        [servers.oxigraph_binary(), "load", "--location", str(location), "--file", str(project)],
        log=log,
    )
    results["load"] = {
        "triples": generated,
        "meent_sync_s": sync_s,
        "meent_bulk_s": meent_load_s,
        "oxigraph_load_s": oxigraph_load_s,
    }
    if args.load_triples and args.load_triples != args.triples:
        results["load_at_scale"] = bulk_load_at(args.load_triples, args.seed, work, log)
    token = create_token(store, args)

    running: list[Server] = []
    with MemorySampler() as sampler:
        try:
            meent = servers.start_meent(store, args.query_timeout, log)
            running.append(meent)
            first_start = meent.wait_ready("/contributions", 120)
            # Restart on the already-loaded store, nothing changed: until it listens, and
            # until it answers a query (its query workers start on the first one).
            meent.stop()
            running.remove(meent)
            meent = servers.start_meent(store, args.query_timeout, log)
            running.append(meent)
            listening = meent.wait_ready("/contributions", 120, interval=0.01)
            answered = meent.wait_ready(
                "/sparql?query=" + "ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D", 120, interval=0.01
            )
            results["restart"] = {"first_start_s": first_start, "listening_s": listening,
                                  "first_query_s": answered}  # fmt: skip
            sampler.watch(meent.name, meent.process.pid)

            oxigraph = servers.start_oxigraph(location, log)
            running.append(oxigraph)
            oxigraph.wait_ready(OXIGRAPH_PROBE, 60)
            sampler.watch(oxigraph.name, oxigraph.process.pid)
            oxigraph.probe = OXIGRAPH_PROBE  # restarted after a client timeout
            oxigraph.on_restart = lambda s: sampler.watch(s.name, s.process.pid)

            targets = [meent, oxigraph]
            comparable = {meent.name}
            rdflib_info: dict[str, Any] = {"ran": False}
            if args.rdflib and not rdflib_available():
                rdflib_info["why_not"] = (
                    "rdflib-endpoint is not installed (pip install -e '.[bench]')"
                )
                say("rdflib-endpoint is not installed: measuring Meent and oxigraph serve only")
            elif args.rdflib:
                rdflib_triples = min(args.rdflib_triples or args.triples, args.triples)
                source = data
                if rdflib_triples != args.triples:
                    source = work / f"rdflib-{rdflib_triples}.nt"
                    with source.open("w", encoding="utf-8") as out:
                        write(rdflib_triples, args.seed, out)
                files = [as_nquads(source, work / "rdflib-data.nq", DATA_GRAPH), project]
                say(f"rdflib-endpoint: parsing {rdflib_triples:,} triples")
                rdflib = servers.start_rdflib(files, log)
                running.append(rdflib)
                sampler.watch(rdflib.name, rdflib.process.pid)
                load_s = rdflib.wait_ready(RDFLIB_PROBE, args.rdflib_load_timeout, 0.2)
                rdflib.probe = RDFLIB_PROBE  # restarted after a client timeout
                rdflib.restart_within = args.rdflib_load_timeout
                rdflib.on_restart = lambda s: sampler.watch(s.name, s.process.pid)
                rdflib_info = {"ran": True, "triples": rdflib_triples, "load_s": load_s,
                               "timeout_s": args.rdflib_timeout}  # fmt: skip
                targets.append(rdflib)
                if rdflib_triples == args.triples:
                    comparable.add(rdflib.name)
            else:
                rdflib_info["why_not"] = "--no-rdflib"
            results["rdflib"] = rdflib_info
            for server in targets:
                results.setdefault("idle_rss", {})[server.name] = sampler.sample(server.name)

            say("checking that the servers answer alike")
            timeouts = {s.name: args.query_timeout for s in targets}
            timeouts["rdflib-endpoint"] = args.rdflib_timeout

            results["counts"], too_slow = await check_answers(
                targets, queries, errors, comparable, timeouts
            )
            results["too_slow"] = {name: sorted(found) for name, found in too_slow.items()}
            mixed = [q for q in queries if q.name not in too_slow[REFERENCE]]

            if args.check_only:
                say(f"answers checked: {len(errors)} error(s)")
                return 1 if errors else 0

            per_query: dict[str, dict[str, Measured]] = {}
            mixes: dict[str, Measured] = {}
            # Each server's peak memory in each phase: where a peak happens says what made it.
            by_phase: dict[str, dict[str, int]] = {s.name: {} for s in targets}
            for server in targets:
                timeout = (
                    args.rdflib_timeout if server.name == "rdflib-endpoint" else args.query_timeout
                )
                per_query[server.name] = {}
                for query in queries:
                    if query.name in too_slow[server.name]:
                        continue
                    say(f"{server.name}: {query.name}")
                    sampler.open_window(server.name)
                    per_query[server.name][query.name] = await measure(
                        server,
                        query.name,
                        query_maker(server, query),
                        duration=args.duration,
                        concurrency=args.concurrency,
                        timeout=timeout,
                        errors=errors,
                        warm_pass=len(query.instances) if query.repeated else None,
                    )
                    by_phase[server.name][query.name] = sampler.window_peak(server.name)
                say(f"{server.name}: the mix")
                sampler.open_window(server.name)
                stats = await client.drive(
                    "127.0.0.1",
                    server.port,
                    mix_maker(server, mixed, args.seed),
                    concurrency=args.concurrency,
                    duration=args.duration * args.mix_factor,
                    timeout=timeout,
                )
                if stats.timeouts:
                    await wait_responsive(server, timeout * 10)
                by_phase[server.name]["the mix"] = sampler.window_peak(server.name)
                errors.add_stats(server.name, "mix", stats)
                mixes[server.name] = Measured(stats)
            results["per_query"] = {
                s: {q: m.as_dict() for q, m in found.items()} for s, found in per_query.items()
            }
            results["mix"] = {s: m.as_dict() for s, m in mixes.items()}
            results["mix_by_query"] = {
                s: {
                    label: {"n": len(v), "p50_ms": client.percentile(v, 50) * 1000}
                    for label, v in m.stats.by_label.items()
                }
                for s, m in mixes.items()
            }

            say("Meent: resource pages")
            sampler.open_window(meent.name)
            pages = await page_measurements(meent, catalogue, args, errors)
            by_phase[meent.name]["resource pages"] = sampler.window_peak(meent.name)
            results["pages"] = {label: m.as_dict() for label, m in pages.items()}

            say("streaming every triple as a SELECT")
            results["stream"] = {}
            for target in (meent, oxigraph):
                try:
                    found = await stream(target, sampler, errors, args.query_timeout)
                except OSError as error:  # the server died (oxigraph serve has, out of memory)
                    errors.add(target.name, f"streaming SELECT: no answer ({error})")
                    continue
                results["stream"][target.name] = found
                by_phase[target.name]["streaming SELECT"] = found["peak_rss"]
            rows = {name: found["rows"] for name, found in results["stream"].items()}
            if len(rows) == 2 and rows[meent.name] != rows[oxigraph.name]:
                errors.add(meent.name, "streaming SELECT: row count differs from oxigraph serve")

            say("Meent: contributions")
            sampler.open_window(meent.name)
            results["contributions"] = await contributions(meent, token, args, errors)
            by_phase[meent.name]["contributions"] = sampler.window_peak(meent.name)
            results["peak_by_phase"] = by_phase
            results["peak_rss"] = {s.name: sampler.peak.get(s.name, 0) for s in targets}
        finally:
            for server in running:
                server.stop()

    say(f"pySHACL over the whole graph (at {min(args.pyshacl_triples, args.triples):,} triples)")
    results["pyshacl"] = whole_graph_pyshacl(args, work, data)
    results["errors"] = [{"server": s, "what": w} for s, w in errors.items]
    (work / "results.json").write_text(json.dumps(results, indent=2, default=str))
    out = Path(args.out)
    out.write_text(report.markdown(results), encoding="utf-8")
    say(f"wrote {out} ({len(errors)} error(s))")
    if not args.keep:
        for name in ("data.nt", "meent-store", "oxigraph-store"):
            path = work / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    return 1 if errors else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="Benchmark Meent against oxigraph serve and rdflib-endpoint (issue 7).",
    )
    parser.add_argument("--triples", type=parse_size, default=parse_size("1M"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per query")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--mix-factor", type=float, default=4.0, help="the mix runs this × duration"
    )
    parser.add_argument(
        "--query-timeout",
        type=float,
        default=30.0,
        help="seconds Meent and oxigraph serve give a query (both stop it)",
    )
    parser.add_argument("--no-rdflib", dest="rdflib", action="store_false")
    parser.add_argument(
        "--rdflib-triples",
        type=parse_size,
        default=None,
        help="give rdflib-endpoint a smaller graph (default: the same)",
    )
    parser.add_argument(
        "--rdflib-timeout",
        type=float,
        default=30.0,
        help="seconds rdflib-endpoint gets per request",
    )
    parser.add_argument("--rdflib-load-timeout", type=float, default=1800.0)
    parser.add_argument(
        "--load-triples",
        type=parse_size,
        default=None,
        help="also compare bulk loading at this size (e.g. 10M), apart from the rest",
    )
    parser.add_argument(
        "--pyshacl-triples",
        type=parse_size,
        default=parse_size("100k"),
        help="run pySHACL over a graph this big and scale up linearly",
    )
    parser.add_argument("--contributions", type=int, default=20)
    parser.add_argument("--queries", nargs="*", help="only queries whose name contains one")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "work"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--keep", action="store_true", help="keep the data and the stores")
    parser.add_argument("--note", default="", help="a remark for RESULTS.md")
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="only load and compare the answers; no timing, no report",
    )
    parser.add_argument("--bad-query", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)  # fmt: skip
    args.command = shlex.join(["bench/run", *(sys.argv[1:] if argv is None else argv)])
    # Stopped from outside, the driver still stops the servers it started (``finally``).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
