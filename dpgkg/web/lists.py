"""The lists: browse the DPGs with filters (`/dpgs`) and full-text search (`/search`).

Both are also tables for spreadsheets (`/dpgs.csv`, `/search.csv`, or `Accept: text/csv`:
every match, unpaged) and the search is JSON for API clients (`Accept:
application/json` or `?format=json`), paged with `page` and `per_page` and a total.
Pages link their neighbours with `Link: rel="prev"/"next"`; the CSV and JSON carry an
ETag and Last-Modified and answer conditional requests with 304. The views sit on the site's
blueprint (`site.dpgs`, `site.search`); the queries and tables are in `dpgkg.publish`.
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import urlencode

from flask import Response, redirect, render_template, request, url_for

from dpgkg.publish import browse, table
from dpgkg.publish.formats import PAGE_FORMATS
from dpgkg.publish.search import BROWSE_PAGE_SIZE as PAGE_SIZE
from dpgkg.publish.search import DEFAULT_PER_PAGE, MAX_PER_PAGE
from dpgkg.publish.search import search as run_search
from dpgkg.publish.stats import graph_stats
from dpgkg.rdf import sparql_prefixes
from dpgkg.web import common
from dpgkg.web.conditional import Validators
from dpgkg.web.links import local_url, page_number
from dpgkg.web.security import script_json
from dpgkg.web.site import SDG_BASE, _cached, _local, bp, dpgs_url, term_label

CSV_TYPE = table.CSV_MEDIA_TYPE
SAFE_VALUE = re.compile(r"^[A-Za-z0-9._+-]{1,80}$")


def _facets(st) -> dict:
    s = graph_stats(st)
    countries = st.select(sparql_prefixes() + """
        SELECT ?c (SAMPLE(?code) AS ?code) (SAMPLE(?l) AS ?label) WHERE {
          ?s a dpg:Solution . { ?s dpg:deploymentCountry ?c } UNION { ?s dpg:developmentCountry ?c }
          OPTIONAL { ?c dpg:iso3166Alpha2 ?code }
          OPTIONAL { ?c skos:prefLabel ?l FILTER(LANGMATCHES(LANG(?l), "en")) }
        } GROUP BY ?c""")
    return {
        "sdg": [(r["label"], f'{r["label"]}. {r.get("title", "")[:60]}') for r in s["dpgs_by_sdg"]],
        "type": [(_local(r["iri"]), r["label"]) for r in s["dpgs_by_type"]],
        "licence": sorted((_local(r["iri"]), r["label"]) for r in s["dpgs_by_licence"]),
        "country": sorted(((r["code"].value if "code" in r else _local(r["c"].value),
                            r["label"].value if "label" in r else _local(r["c"].value))
                           for r in countries), key=lambda x: x[1]),
        "stage": [(_local(r["iri"]), r["label"]) for r in s["by_stage"]],
    }


def _filter_patterns(args) -> tuple[list[str], dict]:
    """SPARQL patterns for the browse filters (values checked against a safe pattern)."""
    base = common.settings().base_iri
    chosen = {k: args.get(k, "").strip() for k in ("sdg", "type", "licence", "country", "stage")}
    chosen = {k: v for k, v in chosen.items() if v and SAFE_VALUE.match(v)}
    pats = []
    if chosen.get("stage") == "ArchivedStage":   # as the stage counts: by dpg:isArchived
        pats.append("?s dpg:isArchived true .")
    elif "stage" in chosen and chosen["stage"] != "all":
        pats.append(f"?s dpg:stage dpg:{chosen['stage']} . "
                    "FILTER NOT EXISTS { ?s dpg:isArchived true }")
    elif "stage" not in chosen:
        pats.append("?s a dpg:DigitalPublicGood .")
    if "sdg" in chosen:
        pats.append(f"?s dpg:relevantToSDG <{SDG_BASE}{chosen['sdg']}> .")
    if "type" in chosen:
        pats.append(f"?s dpg:solutionType dpg:{chosen['type']} .")
    if "licence" in chosen:
        pats.append(f"?s dct:license <http://spdx.org/licenses/{chosen['licence']}> .")
    if "country" in chosen:
        c = f"<{base}country/{chosen['country'].upper()}>"
        pats.append(f"{{ ?s dpg:deploymentCountry {c} }} UNION {{ ?s dpg:developmentCountry {c} }}")
    return pats, chosen


_FILTERED = {"site.dpgs", "site.dpgs_csv", "site.search", "site.search_csv",
             "pages.organisations", "pages.members", "resources.sdg"}


@bp.before_app_request
def drop_empty_parameters():
    """A filter form sends every field, chosen or not: `?type=&country=KE` is redirected
    to `?country=KE`, so each list has one URL per choice."""
    if request.endpoint in _FILTERED and request.method == "GET" and any(
            v == "" for v in request.args.values()):
        kept = [(k, v) for k, v in request.args.items(multi=True) if v != ""]
        return redirect(request.path + ("?" + urlencode(kept) if kept else ""), 302)
    return None


def _wants(offers: list[str], csv_suffix: bool) -> str:
    """The representation asked for: the `.csv` path, `?format=`, else `Accept` (HTML
    when nothing offered is acceptable: a page is always there for people)."""
    if csv_suffix:
        return CSV_TYPE
    by_name = {"csv": CSV_TYPE, "json": "application/json", "html": "text/html"}
    if request.args.get("format") in by_name and by_name[request.args["format"]] in offers:
        return by_name[request.args["format"]]
    return common.negotiate(request.headers.get("Accept", ""), offers) or "text/html"


def _csv_response(columns, rows, name: str) -> Response:
    resp = Response(table.to_csv(columns, rows), mimetype=CSV_TYPE)
    resp.mimetype_params.update({"charset": "utf-8", "header": "present"})
    resp.headers["Content-Disposition"] = f'inline; filename="{name}.csv"'
    resp.vary.add("Accept")
    return resp


def _vary(resp: Response) -> Response:
    resp.vary.add("Accept")
    return resp


def _url_with(path: str, **changes) -> str:
    """This request's URL on `path` with some parameters changed (None drops one)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    args += [(k, str(v)) for k, v in changes.items() if v is not None]
    return path + ("?" + urlencode(args) if args else "")


def _page_links(resp: Response, page: int, pages: int, path: str) -> Response:
    """`Link` rel="first"/"prev"/"next"/"last" to the neighbouring pages (absolute)."""
    rels = [("first", 1), ("last", pages)]
    if page > 1:
        rels.append(("prev", page - 1))
    if page < pages:
        rels.append(("next", page + 1))
    links = [f'<{common.public_url(_url_with(path, page=n if n > 1 else None))}>; rel="{rel}"'
             for rel, n in rels]
    resp.headers["Link"] = ", ".join(filter(None, [resp.headers.get("Link"), *links]))
    resp.vary.add("Accept")
    return resp


def _page_of(iri: str) -> str:
    url = local_url(iri)
    return common.public_url(url) if url.startswith("/") else url


# Browse ------------------------------------------------------------------------------

@bp.route("/dpgs")
def dpgs():
    return _dpgs(csv_suffix=False)


@bp.route("/dpgs.csv")
def dpgs_csv():
    return _dpgs(csv_suffix=True)


def _dpgs(csv_suffix: bool):
    pats, chosen = _filter_patterns(request.args)
    # the filters first: oxigraph joins in the order written, and they match fewer
    where = "\n".join(pats) + "\n?s a dpg:Solution ; schema:name ?n ."
    st = common.store()
    if _wants(["text/html", CSV_TYPE], csv_suffix) == CSV_TYPE:
        validators = Validators(CSV_TYPE)
        if (not_modified := validators.not_modified()) is not None:
            return _vary(not_modified)
        return validators.apply(_csv_response(
            table.SOLUTION_COLUMNS, table.solution_rows(st, where, _page_of, _cached(
                "solution-columns", table.solution_columns)), "dpgs"))
    page = page_number()
    found = browse.matching(st, pats)
    total_n = len(found)
    pages = max(1, math.ceil(total_n / PAGE_SIZE))
    if page > pages:
        common.abort(404, f"there are {pages} pages of {PAGE_SIZE}")
    items = [{"href": local_url(e.iri), "iri": e.iri, "name": e.name,
              "description": e.description,
              "type": term_label(e.type) if e.type else "",
              "stage": term_label(e.stage) if e.stage else ""}
             for e in found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]

    def page_url(n: int) -> str:
        return dpgs_url(**chosen, page=n if n > 1 else None)

    csv_url = _url_with(url_for("site.dpgs_csv"), page=None)
    html = render_template(
        "dpgs.html", title="Browse digital public goods", items=items, total=total_n,
        page=page, pages=pages, start=(page - 1) * PAGE_SIZE + 1, page_url=page_url,
        facets=_cached("facets", _facets), chosen=chosen, csv_url=csv_url,
        alternates=[(csv_url, CSV_TYPE, PAGE_FORMATS["csv"].label)],
        schema_json=script_json({
            "@context": "https://schema.org", "@type": "ItemList", "numberOfItems": total_n,
            "itemListElement": [{"@type": "ListItem", "position": (page - 1) * PAGE_SIZE + i + 1,
                                 "url": it["iri"], "name": it["name"]}
                                for i, it in enumerate(items)]}))
    return _page_links(Response(html, mimetype="text/html"), page, pages, request.path)


# Search ------------------------------------------------------------------------------

def _count(name: str, default: int, most: int | None = None) -> int:
    """A whole-number parameter from 1 (to `most`), else a 400 saying what is allowed."""
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        common.abort(400, f"{name} must be a whole number from 1, not {raw!r}")
    if most is not None and int(raw) > most:
        common.abort(400, f"{name} is at most {most}")
    return int(raw)


@bp.route("/search")
def search():
    return _search(csv_suffix=False)


@bp.route("/search.csv")
def search_csv():
    return _search(csv_suffix=True)


def _search(csv_suffix: bool):
    q = request.args.get("q", "").strip()
    page = _count("page", 1)
    per_page = _count("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    wants = _wants(["text/html", "application/json", CSV_TYPE], csv_suffix)
    hits = run_search(common.store(), q, limit=None) if q else []
    validators = Validators(wants)
    if wants == CSV_TYPE:
        if (not_modified := validators.not_modified()) is not None:
            return _vary(not_modified)
        return validators.apply(_csv_response(table.SEARCH_COLUMNS, (
            {"name": h.name, "iri": h.iri, "page": _page_of(h.iri), "kind": h.kind,
             "description": h.description} for h in hits), "search"))
    pages = max(1, math.ceil(len(hits) / per_page))
    if page > pages:
        common.abort(404, f"there are {pages} pages of {per_page} results")
    start = (page - 1) * per_page
    shown = hits[start: start + per_page]
    path = url_for("site.search")
    if wants == "application/json":
        if (not_modified := validators.not_modified()) is not None:  # after the 404
            return _vary(not_modified)
        body = {"q": q, "total": len(hits), "page": page, "per_page": per_page, "pages": pages,
                "results": [{"name": h.name, "iri": h.iri, "url": local_url(h.iri),
                             "page": _page_of(h.iri), "kind": h.kind,
                             "description": h.description} for h in shown]}
        resp = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
        return validators.apply(_page_links(resp, page, pages, path))
    results = [{"href": local_url(h.iri), "kind": h.kind, "name": h.name,
                "description": h.description} for h in shown]
    csv_url = _url_with(url_for("site.search_csv"), page=None, per_page=None, format=None)
    json_url = _url_with(path, format="json")
    html = render_template(
        "search.html", title=f"Search: {q}" if q else "Search", q=q, results=results,
        total=len(hits), page=page, pages=pages, start=start + 1,
        page_url=lambda n: _url_with(path, page=n if n > 1 else None),
        csv_url=csv_url, json_url=json_url,
        alternates=[(csv_url, CSV_TYPE, PAGE_FORMATS["csv"].label),
                    (json_url, "application/json", PAGE_FORMATS["json"].label)]
        if q else [],
        schema_json=script_json({"@context": "https://schema.org",
                                 "@type": "SearchResultsPage",
                                 "name": f"Search results for {q}"}))
    return _page_links(Response(html, mimetype="text/html"), page, pages, path)
