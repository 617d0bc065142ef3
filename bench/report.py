"""``bench/RESULTS.md`` from a run's results: the machine, the command, absolute figures, ratios
to the reference servers, and each target of issue 7 marked met or missed."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime
from typing import Any

MEENT, OXIGRAPH, RDFLIB = "Meent", "oxigraph serve", "rdflib-endpoint"
MB = 1_000_000


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} ×"


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**missed**")


def _median_ms(values: list[float]) -> float | None:
    return statistics.median(values) * 1000 if values else None


def targets(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, target, measured, verdict) for each target of issue 7."""
    rows: list[tuple[str, str, str, str]] = []
    mix = r["mix"]
    m, o = mix[MEENT], mix[OXIGRAPH]
    tp = _ratio(m["throughput"], o["throughput"])
    rows.append(
        ("mix throughput vs oxigraph serve", "≥ 0.95 ×", _x(tp), _verdict(tp and tp >= 0.95))
    )
    p99 = _ratio(m["p99_ms"], o["p99_ms"])
    rows.append(("mix p99 vs oxigraph serve", "≤ 1.1 ×", _x(p99), _verdict(p99 and p99 <= 1.1)))
    if RDFLIB in mix:
        rd = _ratio(m["throughput"], mix[RDFLIB]["throughput"])
        where = (
            ""
            if r["rdflib"]["triples"] == r["args"]["triples"]
            else (f" (rdflib-endpoint at {r['rdflib']['triples']:,} triples)")
        )
        rows.append((f"mix throughput vs rdflib-endpoint{where}", "≥ 20 ×", _x(rd),
                     _verdict(rd and rd >= 20)))  # fmt: skip
    else:
        rows.append(("mix throughput vs rdflib-endpoint", "≥ 20 ×", "not run", "–"))
    lookup = _ratio(
        r["per_query"][MEENT].get("lookup", {}).get("throughput"),
        r["per_query"][OXIGRAPH].get("lookup", {}).get("throughput"),
    )
    rows.append(("lookup: SELECT ?p ?o over /sparql vs oxigraph serve", "≥ 0.5 ×", _x(lookup),
                 _verdict(lookup and lookup >= 0.5)))  # fmt: skip
    describe = r["per_query"][OXIGRAPH].get("describe", {}).get("throughput")
    for label, measured in [
        ("DESCRIBE over /sparql", r["per_query"][MEENT].get("describe", {}).get("throughput")),
        *((f"{k}", v["throughput"]) for k, v in r["pages"].items()),
    ]:
        ratio = _ratio(measured, describe)
        rows.append((f"lookup: {label} vs oxigraph serve DESCRIBE", "≥ 0.5 ×", _x(ratio),
                     _verdict(ratio and ratio >= 0.5)))  # fmt: skip
    load = r.get("load_at_scale") or r["load"]
    bulk = _ratio(load["oxigraph_load_s"], load["meent_bulk_s"])
    rows.append((f"bulk load vs oxigraph load (at {load['triples']:,} triples; the target is "
                 "set at 10M)", "≥ 0.9 ×", _x(bulk), _verdict(bulk and bulk >= 0.9)))  # fmt: skip
    restart = r["restart"]["first_query_s"]
    rows.append(("restart on the loaded store, to the first answered query", "< 2 s",
                 f"{restart:.2f} s", _verdict(restart < 2)))  # fmt: skip
    c = r["contributions"]
    validate, submit = _median_ms(c["validate"]), _median_ms(c["submit"])
    fast = validate is not None and validate < 50
    rows.append(("validation of a ~50-triple contribution, p50", "< 50 ms",
                 f"{_num(validate)} ms", _verdict(fast)))  # fmt: skip
    rows.append(("whole POST /contributions, p50", "< 150 ms", f"{_num(submit)} ms",
                 _verdict(submit is not None and submit < 150)))  # fmt: skip
    p = r["pyshacl"]
    faster = _ratio(p["validate_s_at_size"] * 1000, validate)
    how = "measured" if p["scale"] == 1 else f"scaled from {p['measured_triples']:,} triples"
    rows.append((f"validation vs pySHACL over the whole graph ({how})", "≥ 500 ×", _x(faster),
                 _verdict(faster and faster >= 500)))  # fmt: skip
    s = r["stream"][MEENT]
    rows.append((f"memory growth streaming a {s['rows']:,}-row SELECT", "< 100 MB",
                 f"{s['growth'] / MB:,.0f} MB", _verdict(s["growth"] < 100 * MB)))  # fmt: skip
    early = s["ttfb_s"] < 0.5 * s["total_s"]
    rows.append(("first byte before the query has finished", "TTFB ≪ total",
                 f"{s['ttfb_s'] * 1000:,.0f} ms of {s['total_s'] * 1000:,.0f} ms",
                 _verdict(early)))  # fmt: skip
    peak = _ratio(r["peak_rss"][MEENT], r["peak_rss"][OXIGRAPH])
    rows.append(("peak server memory vs oxigraph serve", "≤ 1.3 ×", _x(peak),
                 _verdict(peak and peak <= 1.3)))  # fmt: skip
    return rows


def mix_resolution(mix: dict[str, dict[str, Any]], server: str) -> tuple[float, float] | None:
    """The range Meent ÷ ``server`` would span had ``server`` answered one request more or one
    fewer in the mix: how finely the mix's count of that server's answers can tell a ratio."""
    answered, seconds = mix[server]["requests"], mix[server]["seconds"]
    if answered < 2 or not seconds:
        return None
    ours = mix[MEENT]["throughput"]
    return ours / ((answered + 1) / seconds), ours / ((answered - 1) / seconds)


def mix_cost(r: dict[str, Any], server: str) -> tuple[float, list[str]] | None:
    """Seconds of ``server``'s time per request of the mix, estimated from its per-query
    throughputs weighted as the mix ran on Meent, and the questions it left out, which count
    as the timeout (a lower bound: they took longer). Unlike the mix itself, this leaves out
    what a server does with requests its clients gave up on."""
    weights = {label: found["n"] for label, found in r["mix_by_query"].get(MEENT, {}).items()}
    measured = r["per_query"].get(server)
    if not weights or measured is None:
        return None
    timeout = r["args"]["rdflib_timeout" if server == RDFLIB else "query_timeout"]
    seconds, left_out = 0.0, []
    for label, n in weights.items():
        throughput = measured.get(label, {}).get("throughput") or 0.0
        if throughput > 0:
            seconds += n / throughput
        else:
            seconds += n * timeout
            left_out.append(label)
    return seconds / sum(weights.values()), left_out


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _by_phase(by_phase: dict[str, dict[str, int]], servers: list[str]) -> list[str]:
    """The peak of each server in each phase (a research question at the run's concurrency,
    the mix, the pages, the stream, the contributions), in the order they ran."""
    if not by_phase:
        return []
    phases = list(dict.fromkeys(phase for name in servers for phase in by_phase.get(name, {})))
    rows = []
    for phase in phases:
        found = [by_phase.get(name, {}).get(phase) for name in servers]
        rows.append([phase, *(f"{v / MB:,.0f} MB" if v else "—" for v in found)])
    return [
        "",
        "### Peak by phase",
        "",
        "Each server's peak while each phase ran (— where the server had no part in it).",
        "",
        _table(["phase", *servers], rows),
    ]


def markdown(r: dict[str, Any]) -> str:
    a = r["args"]
    servers = list(r["mix"])
    out = [
        "# Meent benchmark results (issue 7)",
        "",
        f"Run on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, "
        f"{r['generated']['triples']:,} generated triples (seed {a['seed']}) plus the project's "
        f"{r['project_quads']:,} curated quads, in every server. Concurrency {a['concurrency']}, "
        f"{a['duration']:g} s per query, the mix for {a['duration'] * a['mix_factor']:g} s.",
        "",
    ]
    if a.get("note"):
        out += [f"**Note.** {a['note']}", ""]
    out += ["```sh", r["command"], "```", "", "## Machine", ""]
    out.append(_table(["", ""], [[k, str(v)] for k, v in r["machine"].items()]))
    out += ["", "## Targets", ""]
    out.append(_table(["what", "target", "measured", ""], [list(t) for t in targets(r)]))
    errors = r["errors"]
    out += ["", f"**Errors: {len(errors)}.**", ""]
    for e in errors[:40]:
        out.append(f"- {e['server']}: {e['what']}")

    out += ["", "## The mix", ""]
    rows = []
    for name in servers:
        m = r["mix"][name]
        rows.append([name, _num(m["throughput"], 3 if m["throughput"] < 1 else 1),
                     _num(m["p50_ms"], 2), _num(m["p99_ms"], 2),
                     str(m["requests"]), str(m["errors"]), str(m["timeouts"]),
                     _x(_ratio(r["mix"][MEENT]["throughput"], m["throughput"]))])  # fmt: skip
    out.append(_table(["server", "req/s", "p50 ms", "p99 ms", "requests", "errors", "timeouts",
                       "Meent ÷ this"], rows))  # fmt: skip
    spans = [
        f"{name}: {span[0]:.3g}–{span[1]:.3g} ×"
        for name in servers
        if name != MEENT and (span := mix_resolution(r["mix"], name)) is not None
    ]
    if spans:
        out += [
            "",
            "A ratio is only as fine as the count of answers under it. Meent ÷ this, had the "
            f"server answered one request more or one fewer: {'; '.join(spans)}.",
        ]

    ours = mix_cost(r, MEENT)
    if ours is not None and ours[0] > 0:
        costs = []
        for name in servers:
            found = mix_cost(r, name)
            if found is None:
                continue
            seconds, left_out = found
            at_least = "≥ " if left_out else ""
            costs.append(
                f"{name} {at_least}{seconds * 1000:,.0f} ms"
                + ("" if name == MEENT else f" ({at_least}{seconds / ours[0]:.3g} ×)")
                + (
                    f", counting {len(left_out)} left-out questions at the timeout"
                    if left_out
                    else ""
                )
            )
        out += [
            "",
            "Server time per request of the mix, estimated from the per-query table below, "
            "weighted as the mix ran on Meent (Meent ÷ this in brackets): "
            + "; ".join(costs)
            + ". A question measured by one request counts that request's time, though a "
            "server with two cores may run two at once. Unlike the mix, this estimate leaves "
            "out what a server does with requests its clients gave up on.",
        ]

    out += ["", "## Per query", ""]
    out.append(
        "Throughput in requests/s and latency in ms at the fixed concurrency; *rows* is the "
        "number of solutions (or triples) of the first instance, the same on every server that "
        "holds the same data. A value marked ¹ was measured by one request at concurrency 1: "
        "that request alone took over half the duration."
    )
    out.append("")
    head = ["query", "rows"]
    for name in servers:
        head += [f"{name} req/s", "p50", "p99"]
    head += ["Meent ÷ oxigraph"] + (["Meent ÷ rdflib"] if RDFLIB in servers else [])
    rows = []
    for q in r["per_query"][MEENT]:
        counts = r["counts"][OXIGRAPH].get(q, [None])
        row = [f"`{q}`", _num(counts[0], 0) if counts else "–"]
        for name in servers:
            m = r["per_query"][name].get(q)
            if m is None:
                row += ["left out", "–", "–"]
                continue
            mark = "¹" if m["single"] else ""
            row += [_num(m["throughput"]) + mark, _num(m["p50_ms"]), _num(m["p99_ms"])]
        meent = r["per_query"][MEENT][q]["throughput"]
        row.append(_x(_ratio(meent, r["per_query"][OXIGRAPH][q]["throughput"])))
        if RDFLIB in servers:
            other = r["per_query"][RDFLIB].get(q)
            row.append(_x(_ratio(meent, other and other["throughput"])))
        rows.append(row)
    out.append(_table(head, rows))
    left_out = r.get("too_slow", {})
    if any(left_out.values()):
        out += ["", f"Left out (no answer within {a['query_timeout']:g} s on oxigraph serve, "
                f"or {a['rdflib_timeout']:g} s on rdflib-endpoint, at this size; not in the "
                "mix either when the reference could not answer):", ""]  # fmt: skip
        for name, found in left_out.items():
            if found:
                out.append(f"- {name}: " + ", ".join(f"`{q}`" for q in found))

    out += ["", "## Resource pages (Meent) against DESCRIBE (oxigraph serve)", ""]
    describe = r["per_query"][OXIGRAPH].get("describe")
    rows = []
    for label, m in r["pages"].items():
        rows.append([label, _num(m["throughput"]), _num(m["p50_ms"], 2), _num(m["p99_ms"], 2),
                     _x(_ratio(m["throughput"], describe and describe["throughput"]))])  # fmt: skip
    if describe:
        rows.append(["oxigraph serve DESCRIBE (reference)", _num(describe["throughput"]),
                     _num(describe["p50_ms"], 2), _num(describe["p99_ms"], 2),
                     "1.00 ×"])  # fmt: skip
    out.append(_table(["request", "req/s", "p50 ms", "p99 ms", "÷ oxigraph DESCRIBE"], rows))

    out += ["", "## Repeated requests: the first pass and after", ""]
    out.append(
        "Lookups, DESCRIBE and pages are asked for again and again, as harvesters and browsers "
        "do: each is measured after one pass over its 2,000 requests (skewed: popular resources "
        "come back often). The first pass is the *cold* figure; Meent answers repeats from its "
        "response cache, keyed to the graph's version. The research questions above are sent "
        "with a comment of their own each time, so every one of those is evaluated."
    )
    out.append("")
    rows = []
    for name in servers:
        for q in ("lookup", "describe"):
            m = r["per_query"][name].get(q)
            if m and "cold_throughput" in m:
                rows.append([name, f"`{q}`", _num(m["cold_throughput"]), _num(m["throughput"])])
    for label, m in r["pages"].items():
        if "cold_throughput" in m:
            rows.append([MEENT, label, _num(m["cold_throughput"]), _num(m["throughput"])])
    out.append(_table(["server", "request", "first pass req/s", "repeated req/s"], rows))

    load = r["load"]
    n = load["triples"]
    out += ["", "## Loading and restart", ""]
    rows = [
        ["`meent load data.nt` (bulk)", f"{load['meent_bulk_s']:.1f} s",
         f"{n / load['meent_bulk_s']:,.0f}"],
        ["`oxigraph load --file data.nt` (reference)", f"{load['oxigraph_load_s']:.1f} s",
         f"{n / load['oxigraph_load_s']:,.0f}"],
        ["`meent load` (sync of the project, once)", f"{load['meent_sync_s']:.1f} s", "–"],
    ]  # fmt: skip
    if "load_at_scale" in r:
        big = r["load_at_scale"]
        m = big["triples"]
        rows += [
            [f"`meent load` at {m:,} triples (bulk)", f"{big['meent_bulk_s']:.1f} s",
             f"{m / big['meent_bulk_s']:,.0f}"],
            [f"`oxigraph load` at {m:,} triples (reference)", f"{big['oxigraph_load_s']:.1f} s",
             f"{m / big['oxigraph_load_s']:,.0f}"],
        ]  # fmt: skip
    if r["rdflib"].get("ran"):
        rd = r["rdflib"]
        rows.append([f"rdflib-endpoint parse ({rd['triples']:,} triples) until it listens",
                     f"{rd['load_s']:.1f} s", f"{rd['triples'] / rd['load_s']:,.0f}"])  # fmt: skip
    out.append(_table(["step", "time", "triples/s"], rows))
    rs = r["restart"]
    out += [
        "",
        f"Meent's first start on the loaded store took {rs['first_start_s']:.2f} s to listen. "
        f"Restarted (nothing changed), it listened after {rs['listening_s']:.2f} s and answered "
        f"its first SPARQL query after {rs['first_query_s']:.2f} s.",
    ]

    out += ["", "## Streaming every triple as a SELECT (TSV)", ""]
    rows = []
    for name, s in r["stream"].items():
        rows.append([name, f"{s['rows']:,}", f"{s['bytes'] / MB:,.0f} MB",
                     f"{s['ttfb_s'] * 1000:,.0f} ms", f"{s['total_s']:.2f} s",
                     f"{s['idle_rss'] / MB:,.0f} MB", f"{s['peak_rss'] / MB:,.0f} MB",
                     f"{s['growth'] / MB:,.0f} MB"])  # fmt: skip
    out.append(_table(["server", "rows", "bytes", "first byte", "total", "idle PSS",
                       "peak PSS", "growth"], rows))  # fmt: skip

    c, p = r["contributions"], r["pyshacl"]
    out += ["", "## Contributions", ""]
    rows = [
        [f"POST /contributions/validate ({c['triples_min']}–{c['triples_max']} triples)",
         str(len(c["validate"])), _num(_median_ms(c["validate"])),
         _num(max(c["validate"]) * 1000 if c["validate"] else None)],
        ["POST /contributions (parse, validate, store, provenance)", str(len(c["submit"])),
         _num(_median_ms(c["submit"])), _num(max(c["submit"]) * 1000 if c["submit"] else None)],
    ]  # fmt: skip
    out.append(_table(["request", "n", "p50 ms", "max ms"], rows))
    how = (
        "measured at the run's size"
        if p["scale"] == 1
        else f"measured at {p['measured_triples']:,} triples and scaled ×{p['scale']:.1f} "
        "linearly to the run's size (pySHACL is at least linear in the graph, so the real "
        "figure is no smaller)"
    )
    out += [
        "",
        f"pySHACL over the whole graph ({how}): parse {p['parse_s']:.1f} s, validate "
        f"{p['validate_s']:.1f} s at {p['measured_triples']:,} triples → validate "
        f"{p['validate_s_at_size']:.1f} s at the run's size; conforms: {p['conforms']}.",
    ]

    out += ["", "## Memory (PSS of each server and its child processes)", ""]
    rows = []
    for name in servers:
        peak = r["peak_rss"].get(name, 0)
        rows.append([name, f"{r['idle_rss'].get(name, 0) / MB:,.0f} MB", f"{peak / MB:,.0f} MB",
                     _x(_ratio(peak, r["peak_rss"][OXIGRAPH]))])  # fmt: skip
    out.append(_table(["server", "after loading", "peak", "÷ oxigraph serve"], rows))
    out += [
        "",
        "Meent's figure includes its zygote and query worker processes (each worker opens the "
        "store read-only). Proportional set size counts the pages they share (forked from "
        "one zygote) once in all; a sum of resident sizes would count them once per process.",
    ]
    out += _by_phase(r.get("peak_by_phase", {}), servers)
    rd = r["rdflib"]
    out += ["", "## rdflib-endpoint", ""]
    if rd.get("ran"):
        out.append(
            f"rdflib-endpoint was given {rd['triples']:,} generated triples plus the project's "
            f"quads and {rd['timeout_s']:g} s per request; a request past that counts as a "
            "timeout (not an error). It cannot stop a request its client gave up on, so after "
            "one it is restarted (its data parsed again) before the next query, except within "
            "the mix, where it goes on as a server would."
        )
    else:
        out.append(f"Not run: {rd.get('why_not')}.")
    return "\n".join(out) + "\n"
