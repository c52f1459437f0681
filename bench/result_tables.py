"""Markdown for each benchmark's result file: bench/results/<name>.md and the README's
summary rows are made here from the JSON, never typed by hand (bench/report.py).

Each renderer takes the result (the JSON as written) and returns Markdown; ``headline``
gives the few figures the README shows, with the peer measured in the same run.
"""

from __future__ import annotations

import math

from stamp import command_line, missing

# How to make each result file again, for a file that carries no stamp yet.
COMMANDS = {
    "build": "python bench/bench_build.py",
    "fixed_cost": "python bench/bench_fixed_cost.py --store var/store",
    "harvest": "python bench/bench_harvest.py",
    "history": "python bench/bench_history.py --runs 3",
    "incremental": "python bench/bench_incremental.py --runs 3",
    "incremental-100x": "python bench/bench_incremental.py --copies 100 --runs 2 --no-peer",
    "load": "python tests/test_load.py",
    "pages": "python bench/bench_pages.py --sources ../shared",
    "scale": "python bench/bench_scale.py --fresh --scales 1,10,100",
    "sparql": "python bench/bench_sparql.py --store var/store",
    "validation": "python bench/bench_validation.py",
}


def stamp_line(name: str, result: dict) -> str:
    """Where the figures below come from; or that the file cannot say."""
    lack = missing(result)
    if lack:
        return (f"**No stamp** ({', '.join(lack)} missing): these figures cannot be traced "
                f"to a commit, date, machine and command. Re-run "
                f"`{COMMANDS.get(name, 'the benchmark')}` to replace them.")
    st = result["stamp"]
    m = st["machine"]
    dirty = " with uncommitted changes" if st["dirty"] else ""
    load = ", ".join(f"{x:g}" for x in st["load_average"])
    return (f"Measured at commit `{st['commit'][:12]}`{dirty} on {st['date']} on "
            f"{m['hostname']} ({m['cpus']} CPUs, {m['memory_mb']:,} MB, {m['uname']}; load "
            f"average {load}) by `{command_line(st)}`.")


def _f(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.{digits}f}"


# sparql ---------------------------------------------------------------------------------

def sparql(result: dict) -> str:
    p50, gm, rps = result["p50_ms"], result["geomean_p50_ms"], result["group_by_rps_8_clients"]
    names = list(p50)
    queries = list(next(iter(p50.values())))
    lines = ["| query | " + " | ".join(f"{n} p50 (ms)" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    lines += [f"| {q} | " + " | ".join(_f(p50[n][q]) for n in names) + " |" for q in queries]
    lines.append("| **geometric mean** | " + " | ".join(f"**{_f(gm[n])}**" for n in names)
                 + " |")
    lines.append("| group-by req/s, 8 clients | " + " | ".join(_f(rps[n], 0) for n in names)
                 + " |")
    page = result.get("dpg_jsonld_page_p50_ms")
    lines += ["", (f"Ratios in this run: Oxigraph server / dpgkg geometric mean "
                   f"{_f(result['ratio_vs_oxigraph_server'])} (target >= 1); rdflib-endpoint / "
                   f"dpgkg {_f(result['ratio_vs_rdflib_endpoint'], 1)} (target >= 10); group-by "
                   f"throughput dpgkg / Oxigraph server "
                   f"{_f(result['throughput_ratio_vs_oxigraph_server'])} (target >= 0.5); DPG "
                   f"JSON-LD page p50 {_f(page)} ms (target <= 5).")]
    lines += ["", _compared(result)]
    return "\n".join(lines) + "\n"


def _sparql_headline(result: dict) -> list[str]:
    gm, rps = result["geomean_p50_ms"], result["group_by_rps_8_clients"]
    peers = [n for n in gm if n != "dpgkg"]
    return [
        "query mix p50 (geometric mean, ms): dpgkg " + _f(gm["dpgkg"]) + "; "
        + "; ".join(f"{n} {_f(gm[n])}" for n in peers),
        "group-by req/s, 8 clients: dpgkg " + _f(rps["dpgkg"], 0) + "; "
        + "; ".join(f"{n} {_f(rps[n], 0)}" for n in peers),
    ]


def _run(sc, r: dict) -> str:
    st = r.get("stamp")
    when = f"{sc}x run {st['date'] if st else r.get('date', '?')}, {r.get('rounds', '?')} rounds"
    if not st or missing(r):
        return when + " (no stamp)"
    return f"{when}, commit `{st['commit'][:12]}`{' (dirty)' if st['dirty'] else ''}, " \
        f"`{command_line(st)}`"


def _compared(result: dict) -> str:
    if result.get("answers_compared"):
        return ("Every server's answer to every query of the mix was compared to dpgkg's "
                "before timing (bench/answers.py) and found the same.")
    return ("The servers' answers were **not** compared before timing in this run: the "
            "peers' timings may be of other work (before bench/answers.py).")


# scale ----------------------------------------------------------------------------------

def _server_memory(s: dict) -> tuple[str, str]:
    if "peak_pss_mb" in s:
        return f"{s['peak_pss_mb']}", "PSS"
    return f"{s.get('peak_rss_mb', '–')} (RSS)", "RSS"


def scale(result: dict) -> str:
    rows = result["scales"]
    lines = [
        "Per scale: " + "; ".join(_run(s, r) for s, r in rows.items()) + ".",
        "",
        ("Build: `dpgkg build` with "
         "validation and dumps, wall time and peak RSS of the build process. Query mix: "
         "the example queries + ASK, group-by, describe, text filter "
         "(`bench_sparql.query_mix`), interleaved rounds, geometric mean over the queries of "
         "each query's p50 / p95; group-by req/s with 8 clients. dpgkg rows go through "
         "`dpgkg serve`; server memory is the peak proportional set size (PSS, from "
         "`/proc/PID/smaps_rollup`) of the whole server process tree (rows marked RSS are "
         "from runs before PSS was measured: resident pages shared between processes "
         "counted once per process). The Oxigraph server and rdflib-endpoint are queried "
         "directly on the same dataset."),
        "",
        ("| scale | server | triples | build (s) | build peak RSS (MB) | mix p50 gm (ms) "
         "| mix p95 gm (ms) | group-by req/s | server peak memory (MB) | errors |"),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for sc, r in rows.items():
        for name, s in r["servers"].items():
            b = r["builds"].get(name.removeprefix("dpgkg-"))
            ok = b and "wall_s" in b
            lines.append(
                f"| {sc}x | {name} | {b['triples'] if ok else r.get('triples', '–')} | "
                f"{_f(b['wall_s'], 1) if ok else '–'} | {b['peak_rss_mb'] if ok else '–'} | "
                f"{_f(s['geomean_p50_ms'])} | {_f(s['geomean_p95_ms'])} | "
                f"{_f(s['group_by_rps'], 1)} | {_server_memory(s)[0]} | {s['errors']} |")
    lines += [""] + [f"{sc}x: {_compared(r)}" for sc, r in rows.items()]
    t = result.get("targets")
    if t:
        ok = {True: "met", False: "**missed**"}
        mem = t.get("server_peak_pss_mb", t.get("server_peak_rss_mb"))
        kind = "PSS" if "server_peak_pss_mb" in t else "RSS"
        mem_ok = t.get("server_pss_ok", t.get("server_rss_ok"))
        lines += [
            "",
            f"Targets at {t['at_scale']}x on the embedded store"
            + (" (the issue sets them at 100x):" if t["at_scale"] != 100 else ":"),
            "",
            (f"- build <= 600 s: {t['build_s']:.0f} s, {ok[t['build_ok']]} (the new graph "
             f"served after {t['served_after_s']:.0f} s, of which validation "
             f"{t['validate_s']:.0f} s; then the dumps {t['dumps_s']:.0f} s)"),
            (f"- mix p50 (geometric mean) growth from 1x <= 20x: {t['p50_growth_from_1x']}x, "
             f"{ok[t['p50_growth_ok']]}"),
            (f"- no slower than the Oxigraph server on the same dataset: "
             f"{t['p50_vs_oxigraph_server']}x its p50, {ok[t['p50_vs_oxigraph_ok']]}"),
            (f"- server peak memory ({kind}) <= {t.get('server_pss_target_mb', 4096)} MB: "
             f"{mem} MB, {ok.get(mem_ok, 'no target at this scale')}"),
        ]
    every = {k for r in rows.values() for k in r["builds"]}
    for sc, r in rows.items():
        missing_ = sorted(every - set(r["builds"]))
        if missing_:
            lines += ["", f"Not run at {sc}x: " + ", ".join(missing_) + "."]
        for k, b in r["builds"].items():
            if "failed" in b:
                why = next((x for x in b["failed"] if "failed" in x), b["failed"][-1])
                lines += ["", f"The {k} build failed at {sc}x: {why}"]
    skipped = [s for s, r in rows.items() if "rdflib-endpoint" not in r["servers"]]
    if skipped:
        lines += ["", "rdflib-endpoint is left out at " + ", ".join(f"{s}x" for s in skipped)
                  + ": loading and querying that many triples in rdflib takes hours."]
    return "\n".join(lines) + "\n"


def _scale_headline(result: dict) -> list[str]:
    out = []
    for sc, r in result["scales"].items():
        srv = r["servers"]
        ours = srv.get("dpgkg-embedded")
        if not ours:
            continue
        b = r["builds"].get("embedded", {})
        mem, kind = _server_memory(ours)
        peer = srv.get("oxigraph-server")
        line = (f"{sc}x: build {_f(b.get('wall_s'), 0)} s; mix p50 {_f(ours['geomean_p50_ms'])} "
                f"ms; server {kind} {mem.split()[0]} MB")
        if peer:
            pmem = _server_memory(peer)[0].split()[0]
            line += (f" (Oxigraph server: mix p50 {_f(peer['geomean_p50_ms'])} ms, "
                     f"{kind} {pmem} MB)")
        out.append(line)
    return out


# build, validation, pages, harvest, history, load ----------------------------------------

def _peer_reason(r: dict) -> str:
    if "peer_owlrl" in r:  # owlrl's OWL 2 RL, the same inferred triples (compared)
        return _f(r["peer_owlrl"]["owlrl_reason_s"], 1)
    if "owlrl_rdfs_closure_s" in r:  # before the answers were compared: another closure
        return _f(r["owlrl_rdfs_closure_s"], 1) + " (RDFS closure, not compared)"
    return "–"


def build(result: dict) -> str:
    rows = result.get("rows", result)
    lines = ["| graph | triples | build wall (s) | peak RSS (MB) | reason (s) | owlrl (s) |",
             "|---|---|---|---|---|---|"]
    for k, r in rows.items():
        if not isinstance(r, dict) or "wall_s_median" not in r:
            continue
        lines.append(f"| {k} | {r['triples']} | {_f(r['wall_s_median'])} | "
                     f"{_f(r['peak_rss_mb'], 0)} | {_f(r['steps_s']['reason'])} | "
                     f"{_peer_reason(r)} |")
    if any(isinstance(r, dict) and "peer_owlrl" in r for r in rows.values()):
        lines += ["", ("owlrl: `dpgkg build --reasoner owlrl` on the same sources, its reason "
                  "step; the triples it inferred were compared to the fast reasoner's and "
                  "found the same.")]
    return "\n".join(lines) + "\n"


def _build_headline(result: dict) -> list[str]:
    rows = result.get("rows", result)
    out = [f"{k}: {_f(r['wall_s_median'], 1)} s, peak RSS {_f(r['peak_rss_mb'], 0)} MB"
           for k, r in rows.items() if isinstance(r, dict) and "full" in k]
    core = rows.get("1x core", {})
    if "peer_owlrl" in core:
        out.append(f"inference {_f(core['steps_s']['reason'])} s (owlrl, same run, same "
                   f"inferred triples: {_f(core['peer_owlrl']['owlrl_reason_s'], 1)} s)")
    return out


def validation(result: dict) -> str:
    s, r2, r1 = result["single"], result["registry_2_workers"], result["registry_1_worker"]
    lines = ["| measurement | value | target |", "| --- | --- | --- |",
             (f"| one screened record, p50 ({s['records']} records x {s['runs']}) | "
             f"{s['p50_ms']} ms (p90 {s['p90_ms']} ms) | <= 100 ms |"),
             f"| shapes + reference data load, once | {s['load_s']} s | |",
             (f"| whole registry ({r2['records']} records), 2 workers | {r2['median_s']} s "
             f"(min {r2['min_s']} s) | <= 10 s |"),
             f"| whole registry, 1 worker | {r1['median_s']} s | |"]
    p = result.get("peer_pyshacl_validate")
    if p:
        where = (" in its own process, unpatched, answers compared"
                 if p.get("own_process") else "")
        lines.append(f"| peer: pyshacl.validate per record, no cache ({p['records']} records"
                     f"{where}) | {p['p50_ms']} ms p50 | |")
    return "\n".join(lines) + "\n"


def _validation_headline(result: dict) -> list[str]:
    s, r2 = result["single"], result["registry_2_workers"]
    p = result.get("peer_pyshacl_validate")
    out = [f"one record p50 {s['p50_ms']} ms" + (f" (plain pyshacl.validate: {p['p50_ms']} ms)"
                                                  if p else "")]
    out.append(f"whole registry ({r2['records']} records, 2 workers) {r2['median_s']} s")
    return out


def pages(result: dict) -> str:
    if "cold_p50_ms" not in result["pages"][0]:  # one path per kind, repeated (older runs)
        lines = ["| page | path | status | p50 ms | p95 ms |", "|---|---|---|---|---|"]
        lines += [f"| {r['kind']} | `{r['path']}` | {r['status']} | {r['p50_ms']} | "
                  f"{r['p95_ms']} |" for r in result["pages"]]
        return "\n".join(lines) + "\n"
    t = result["target_p50_ms"]
    lines = [f"{result['scale']}; {result['method']}.", "",
             (f"| page | first path | paths | first request p50 ms | p95 ms | again p50 ms | "
              f"p95 ms | p50 <= {t:g} ms |"), "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['kind']} | `{r['path']}` | {r['paths']} | {r['cold_p50_ms']} | "
              f"{r['cold_p95_ms']} | {r['warm_p50_ms']} | {r['warm_p95_ms']} | "
              f"{'yes' if r['meets_target'] else '**no**'} |" for r in result["pages"]]
    return "\n".join(lines) + "\n"


def _pages_headline(result: dict) -> list[str]:
    rows = result["pages"]
    worst = max(rows, key=lambda r: max(r["p50_ms"], r.get("warm_p50_ms", 0)))
    if "cold_p50_ms" not in worst:
        return [(f"slowest page p50 {worst['p50_ms']} ms ({worst['kind']}) of "
                 f"{len(rows)} page kinds; no peer")]
    met = sum(r["meets_target"] for r in rows)
    return [(f"{result['scale']}: slowest page p50 {worst['cold_p50_ms']} ms first request, "
             f"{worst['warm_p50_ms']} ms again ({worst['kind']}); {met} of {len(rows)} page "
             f"kinds within {result['target_p50_ms']:g} ms; no peer")]


def harvest(result: dict) -> str:
    j, c = result["jsonld"], result["catalogue_harvest"]
    return "\n".join([
        "| measurement | value |", "| --- | --- |",
        (f"| DPG JSON-LD over HTTP, p50 ({j['dpgs']} DPGs x {j['rounds']}) | "
        f"{j['warm_p50_ms']} ms (p90 {j['warm_p90_ms']} ms) |"),
        f"| DPG JSON-LD, first request after a build, p50 | {j['cold_p50_ms']} ms |",
        (f"| whole catalogue, {c['pages']} pages of {c['page_size']}, {c['datasets']} datasets, "
        f"{c['parser']} | {c['seconds']} s |")]) + "\n"


def _harvest_headline(result: dict) -> list[str]:
    j, c = result["jsonld"], result["catalogue_harvest"]
    return [(f"DPG JSON-LD p50 {j['warm_p50_ms']} ms; whole catalogue harvested in "
            f"{c['seconds']} s; no peer")]


def history(result: dict) -> str:
    w, n = result["whole_history_seconds"], result["one_new_commit_seconds"]
    return "\n".join([
        "| measurement | median (s) | target (s) | commits read |", "|---|---|---|---|",
        f"| whole history | {w['median']} | {w['target']} | {w['commits_read']} |",
        f"| after one new commit | {n['median']} | {n['target']} | {n['commits_read']} |"]) + "\n"


def _history_headline(result: dict) -> list[str]:
    return [(f"whole history {result['whole_history_seconds']['median']} s, one new commit "
            f"{result['one_new_commit_seconds']['median']} s; no peer")]


def load(result: dict) -> str:
    phases = [k for k in ("without_runaway", "with_runaway", "with_abusive") if k in result]
    lines = ["| phase | requests | req/s | errors | p50 ms | p95 ms | p99 ms |",
             "|---|---|---|---|---|---|---|"]
    for k in phases:
        r = result[k]
        lines.append(f"| {k.replace('_', ' ')} | {r['requests']} | {r['requests_per_s']} | "
                     f"{r['errors']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |")
    lines += ["", f"p95 with the runaway / without: {result['p95_ratio']}"]
    return "\n".join(lines) + "\n"


def _load_headline(result: dict) -> list[str]:
    a, b = result["without_runaway"], result["with_runaway"]
    return [(f"p95 {a['p95_ms']} ms without a runaway query, {b['p95_ms']} ms with one (same "
            f"run); errors {a['errors'] + b['errors']}")]


def incremental(result: dict) -> str:
    targets = result["targets_s"]
    lines = [("| build | wall (s) | own timer (s) | validated / reused | store written as | "
             "target (s) |"), "|---|---|---|---|---|---|"]

    def line(label: str, r: dict | None, target) -> str:
        if r is None:
            return f"| {label} | not run (`--no-peer`) | | | | |"
        cache = r.get("validation_cache") or {}
        delta = r.get("store_delta")
        written = (f"difference (-{delta['removed']} +{delta['added']} quads)" if delta
                   else "whole")
        return (f"| {label} | {_f(r['wall_s'])} | {_f(r['build_s'])} | "
                f"{cache.get('validated', '–')} / {cache.get('reused', '–')} | {written} | "
                f"{target if target is not None else '–'} |")

    def target(key: str) -> str | None:
        return f"<= {targets[key]:g}" if targets.get(key) is not None else None

    lines.append(line("full (`--full`, empty store)", result["full"], target("full")))
    for r in result["incremental"]:
        lines.append(line(f"one record changed ({r['changed']})", r, target("one_record")))
    # results before the peer started from a copy of the store say nothing of it
    peer = result.get("peer", "full build of the changed sources, fresh store")
    lines.append(line(f"peer: {peer}", result["full_from_scratch_after_changes"], None))
    same = result["dumps_identical_to_full_build"]
    lines += ["", "Dumps of the last incremental build against the peer's, byte for byte "
              "(version id and build time replaced): " + (", ".join(
                  f"{k} {'identical' if v else 'DIFFERENT'}" for k, v in same.items())
                  if same is not None else "not compared (no peer)") + ".",
              f"Load average after the run: {', '.join(map(str, result['load_average_after']))}."]
    return "\n".join(lines) + "\n"


def _incremental_headline(result: dict) -> list[str]:
    same = result["dumps_identical_to_full_build"]
    compared = ("no peer build" if same is None else
                f"dumps {'identical to' if all(same.values()) else 'DIFFER from'} a full "
                "build's (same run)")
    copies = result.get("copies", 1)
    return [(f"{f'{copies}x: ' if copies > 1 else ''}one changed record, rebuild and swap: "
             f"{_f(result['incremental_median_wall_s'])} s (median); full build "
             f"{_f(result['full']['wall_s'], 1)} s; {compared}")]


def fixed_cost(result: dict) -> str:
    lines = ["| layer | p50 (ms) |", "|---|---|"]
    lines += [f"| {k} | {_f(v, 3)} |" for k, v in result["p50_ms"].items()]
    lines += ["", (f"dpgkg's `ASK {{}}` / the Oxigraph server's: "
                   f"{result['ratio_vs_oxigraph_server']} (target <= {result['target_ratio']}); "
                   "both answers compared before timing."),
              f"Load average after the run: {', '.join(map(str, result['load_average_after']))}."]
    return "\n".join(lines) + "\n"


def _fixed_cost_headline(result: dict) -> list[str]:
    p = result["p50_ms"]
    return [(f"`ASK {{}}` p50 {_f(p['dpgkg: ASK {}'], 2)} ms, the Oxigraph server "
             f"{_f(p['oxigraph-server: ASK {}'], 2)} ms; Granian ASGI alone "
             f"{_f(p['Granian ASGI, answered at once'], 2)} ms (same run)")]


RENDER = {"build": build, "fixed_cost": fixed_cost, "harvest": harvest, "history": history, "load": load,
          "pages": pages, "pages-10x": pages, "pages-100x": pages, "scale": scale,
          "sparql": sparql, "validation": validation, "incremental": incremental,
          "incremental-100x": incremental}
HEADLINE = {"build": _build_headline, "fixed_cost": _fixed_cost_headline, "harvest": _harvest_headline,
            "history": _history_headline, "load": _load_headline, "pages": _pages_headline,
            "pages-10x": _pages_headline, "pages-100x": _pages_headline,
            "scale": _scale_headline, "sparql": _sparql_headline,
            "validation": _validation_headline, "incremental": _incremental_headline,
            "incremental-100x": _incremental_headline}


TITLES = {"build": "Full build", "fixed_cost": "The fixed cost of a cheap request", "harvest": "Harvesting dpgkg (JSON-LD, the catalogue)",
          "history": "The registry's history", "load": "Load: 16 clients, with and without a "
          "runaway query", "pages": "Server time of the site's pages",
          "pages-10x": "Server time of the site's pages at 10x",
          "pages-100x": "Server time of the site's pages at 100x", "scale": "dpgkg at scale",
          "sparql": "The SPARQL endpoint and its peers", "validation": "Validation",
          "incremental": "Incremental build: one changed record",
          "incremental-100x": "Incremental build at 100x: one changed record"}


def markdown(name: str, result: dict) -> str:
    """bench/results/<name>.md: a title, the stamp line, then the table."""
    body = RENDER[name](result) if name in RENDER else ""
    return (f"<!-- generated by bench/report.py from {name}.json: do not edit -->\n\n"
            f"# {TITLES.get(name, name)}\n\n{stamp_line(name, result)}\n\n{body}")
