"""Benchmark: what a harvester meets over HTTP (issue 12).

Targets: a DPG's JSON-LD p50 <= 5 ms over HTTP on the 1x graph; the whole catalogue
harvested page by page by ckanext-dcat's parser <= 10 s. The server is `dpgkg serve`
(one worker) over a store built from ../shared. The JSON-LD is compacted by pyld once per
store version and resource and then kept, so two figures: the first request for each DPG
after a build (cold: describe + pyld) and every later one (warm: the target).
The catalogue is parsed by ckanext-dcat's RDFParser where it is installed (.ci/ckan.sh's
venv), else by rdflib following hydra:next (named in the result).

    python bench/bench_harvest.py [--store DIR] [--dpgs 40] [--rounds 5] [--page-size 50]

Writes bench/results/harvest.json (commit, date, machine, command) and prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report
from stamp import stamp

from dpgkg.config import Settings
from dpgkg.iris import site_root
from dpgkg.store import open_store
from tests.webserver import live_server

HYDRA_NEXT = "http://www.w3.org/ns/hydra/core#next"


def pct(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1] * 1000, 2)


def dpg_paths(settings: Settings, n: int) -> list[str]:
    store = open_store(settings.store)
    rows = store.select(
        "SELECT ?s { ?s a <https://w3id.org/dpgkg/ontology#DigitalPublicGood> } ORDER BY ?s"
    )
    iris = [r["s"].value for r in rows]
    step = max(1, len(iris) // n)
    return ["/id/" + i[len(settings.base_iri) :] for i in iris[::step][:n]]


def bench_jsonld(url: str, paths: list[str], rounds: int) -> dict:
    session = requests.Session()
    headers = {"Accept": "application/ld+json"}
    cold, warm = [], []
    for path in paths:
        t = time.perf_counter()
        resp = session.get(url + path, headers=headers, timeout=60)
        cold.append(time.perf_counter() - t)
        assert resp.status_code == 200, (path, resp.status_code)
    for _ in range(rounds):
        for path in paths:
            t = time.perf_counter()
            resp = session.get(url + path, headers=headers, timeout=60)
            warm.append(time.perf_counter() - t)
            assert resp.status_code == 200
    return {
        "dpgs": len(paths),
        "rounds": rounds,
        "cold_p50_ms": pct(cold, 50),
        "cold_p90_ms": pct(cold, 90),
        "warm_p50_ms": pct(warm, 50),
        "warm_p90_ms": pct(warm, 90),
    }


def harvest(url: str, page_size: int, public_root: str) -> dict:
    """Page through /catalog as a harvester does, parsing each page (the pages name the
    public site; the links are followed on the local server)."""
    try:
        from ckanext.dcat.processors import RDFParser

        parser_name = "ckanext-dcat RDFParser (euro_dcat_ap_3)"
    except ImportError:
        RDFParser = None
        parser_name = "rdflib (ckanext-dcat not installed here)"
    import rdflib

    session = requests.Session()
    next_url, pages, datasets = f"{url}/catalog?page_size={page_size}", 0, 0
    t = time.perf_counter()
    while next_url:
        next_url = next_url.replace(public_root, url + "/", 1)
        resp = session.get(next_url, headers={"Accept": "text/turtle"}, timeout=120)
        assert resp.status_code == 200, resp.text[:300]
        pages += 1
        if RDFParser is not None:
            parser = RDFParser(profiles=["euro_dcat_ap_3"])
            parser.parse(resp.text, _format="turtle")
            datasets += len(list(parser.datasets()))
            next_url = parser.next_page()
        else:
            g = rdflib.Graph().parse(data=resp.text, format="turtle")
            datasets += len(
                set(g.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/dcat#Dataset")))
            )
            nxt = list(g.objects(None, rdflib.URIRef(HYDRA_NEXT)))
            next_url = str(nxt[0]) if nxt else None
    return {
        "parser": parser_name,
        "page_size": page_size,
        "pages": pages,
        "datasets": datasets,
        "seconds": round(time.perf_counter() - t, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", help="a store built from ../shared (default: build one)")
    ap.add_argument("--dpgs", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--page-size", type=int, default=50)
    ap.add_argument("--results", default=str(RESULTS),
                    help="where harvest.json and .md go (a quick try: a temporary dir)")
    args = ap.parse_args()
    st = stamp()
    if args.store:
        settings = Settings(store=args.store)
    else:
        if not (SHARED / "registry").is_dir():
            sys.exit("../shared is not beside the repository")
        from dpgkg.build import build

        settings = Settings(store=tempfile.mkdtemp(prefix="bench-harvest-"), sources=str(SHARED))
        build(settings)
    paths = dpg_paths(settings, args.dpgs)
    with live_server(settings) as url:
        jsonld = bench_jsonld(url, paths, args.rounds)
        catalogue = harvest(url, args.page_size, site_root(settings.base_iri))
    result = {
        "stamp": st,
        "jsonld": jsonld,
        "catalogue_harvest": catalogue,
    }
    report.save("harvest", result, Path(args.results))
    print("| measurement | value | target |")
    print("| --- | --- | --- |")
    print(
        f"| DPG JSON-LD over HTTP, p50 ({jsonld['dpgs']} DPGs x {jsonld['rounds']}) | "
        f"{jsonld['warm_p50_ms']} ms (p90 {jsonld['warm_p90_ms']} ms) | <= 5 ms |"
    )
    print(
        f"| DPG JSON-LD, first request after a build, p50 | {jsonld['cold_p50_ms']} ms "
        f"(p90 {jsonld['cold_p90_ms']} ms) | |"
    )
    print(
        f"| whole catalogue, {catalogue['pages']} pages of {catalogue['page_size']}, "
        f"{catalogue['datasets']} datasets, {catalogue['parser']} | "
        f"{catalogue['seconds']} s | <= 10 s |"
    )


if __name__ == "__main__":
    main()
