"""The human site: home with counts and charts, browse, search, resource pages, query page.

Every page embeds schema.org JSON-LD; every asset is served by the app (no CDN).
Pages are built from a handful of queries per request; what changes only with a
build (stats, facets, term labels) is cached per store version.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup, escape

from dpgkg.publish import resources as R
from dpgkg.publish.catalogue.vocab import CATALOGUE_LICENCE, PUBLISHER_NAME
from dpgkg.publish.dumps import dumps_root, read_dumps
from dpgkg.publish.examples import EXAMPLES
from dpgkg.publish.stats import graph_stats
from dpgkg.rdf import DCT, DPG, ONTOLOGY_IRI, PREFIXES, RDF, RDFS, SCHEMA, SKOS, sparql_prefixes
from dpgkg.web import common
from dpgkg.web.links import local_url
from dpgkg.web.schema_org import display_name, home_dataset, schema_org
from dpgkg.web.security import script_json

bp = Blueprint("site", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")

SDG_BASE = R.SDG_BASE
ONTOLOGY_NS = str(DPG)

# What a link reads as when followed backwards (object page listing its subjects).
INVERSE_LABELS = {
    DPG.ownedBy.value: "Owns", DPG.maintainedBy.value: "Maintains",
    DPG.fundedBy.value: "Funds", DPG.implementedBy.value: "Implements",
    DPG.hasOrganisation.value: "Involved in",
    DPG.relevantToSDG.value: "Solutions relevant to this goal",
    DPG.deploymentCountry.value: "Solutions deployed here",
    DPG.developmentCountry.value: "Solutions developed here",
    DPG.sector.value: "Solutions in this sector",
    DCT.license.value: "Solutions under this licence",
    DPG.headquarters.value: "Headquarters of",
    "http://www.w3.org/ns/org#member": "Memberships",
    "http://www.w3.org/ns/org#organization": "Memberships of this organisation",
    DPG.answersRecommendation.value: "Answered by",
    DPG.contributesToRoadmapArea.value: "Contributed to by",
    DPG.followsUp.value: "Followed up by", DPG.followedUpBy.value: "Follows up",
    DPG.successor.value: "Successor of", DPG.predecessor.value: "Predecessor of",
    DPG.stage.value: "Solutions at this stage", DPG.solutionType.value: "Solutions of this type",
    DPG.memberType.value: "Members of this type",
    "http://www.w3.org/2004/02/skos/core#broader": "Narrower",
    "http://www.w3.org/2004/02/skos/core#inScheme": "Concepts",
    DPG.describes.value: "Described by (record graph)",
    "http://www.w3.org/ns/prov#wasDerivedFrom": "Derived from it",
}
# Incoming links that are the inverse of a materialised property already shown.
_SKIP_INCOMING = {DPG.owns.value, DPG.maintains.value, DPG.funds.value, DPG.implements.value,
                  "http://www.w3.org/ns/org#hasMembership", DPG.followedUpBy.value,
                  "http://metadata.un.org/sdg/ontology#hasTarget"}
_HIDDEN = {RDF.type.value}

_cache: dict[tuple[int, str, str], object] = {}
_cache_lock = threading.Lock()


def _cached(name: str, compute):
    """`compute(store)` once per store version."""
    st = common.store()
    key = (id(st), st.version(), name)
    if key not in _cache:
        with _cache_lock:
            if key not in _cache:
                for k in [k for k in _cache if k[0] == id(st) and k[2] == name]:
                    del _cache[k]
                _cache[key] = compute(st)
    return _cache[key]


# Links and labels ------------------------------------------------------------

bp.add_app_template_global(local_url)


def compact(iri: str) -> str:
    for p, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{p}:{iri[len(ns):]}"
    return iri


def humanise(iri: str) -> str:
    """'dpg:relevantToSDG' -> 'relevant to SDG' when the ontology gives no label."""
    local = re.split(r"[#/]", iri)[-1]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", local)
    return re.sub(r"\b([A-Z])(?=[a-z])", lambda m: m.group(1).lower(), words).strip() or iri


def _term_labels(st) -> dict[str, str]:
    rows = st.select(f"""SELECT ?t ?l WHERE {{ GRAPH <{ONTOLOGY_IRI}> {{
        ?t <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER(LANG(?l) IN ("", "en")) }} }}""")
    return {r["t"].value: r["l"].value for r in rows}


def term_label(iri: str) -> str:
    return _cached("term-labels", _term_labels).get(iri) or humanise(iri)


def _value(d: R.Description | None, term, labels: dict | None = None) -> dict:
    if isinstance(term, ox.NamedNode):
        text = (d.label(term.value) if d else None) or (labels or {}).get(term.value)
        if not text and d and term.value.startswith(d.iri + "#"):
            text = term.value[len(d.iri):]
        if not text and term.value.startswith(ONTOLOGY_NS):
            text = term_label(term.value)
        return {"text": text or compact(term.value), "href": local_url(term.value),
                "iri": term.value}
    if isinstance(term, ox.Literal):
        extra = term.language or ("" if term.datatype.value.endswith("#string")
                                  else compact(term.datatype.value))
        return {"text": term.value, "href": None, "note": extra,
                "link": term.value if re.match(r"^https?://\S+$", term.value) else None}
    return {"text": str(term), "href": None}


@bp.app_template_global("value")
def value_html(v: dict) -> Markup:
    """One value of a property: a link to its page, a web address, or text (with its
    language or datatype). In Python, not a template macro: the raw view of a DPG writes
    hundreds of them, and a macro call costs ten times as much."""
    if v.get("href"):
        title = f' title="{escape(v["iri"])}"' if v.get("iri") else ""
        out = f'<a href="{escape(v["href"])}"{title}>{escape(v["text"])}</a>'
    elif v.get("link"):
        out = f'<a href="{escape(v["link"])}" rel="nofollow">{escape(v["text"])}</a>'
    else:
        out = str(escape(v["text"]))
    if v.get("note"):
        out += f' <small class="note">{escape(v["note"])}</small>'
    return Markup(out)


@bp.app_template_global()
def props_table(props: list[dict], cls: str = "props") -> Markup:
    """A table of properties (rows of `_group`), each value by `value_html`."""
    rows = []
    for p in props:
        values = p["values"]
        cell = (value_html(values[0]) if len(values) == 1 else
                "<ul>" + "".join(f"<li>{value_html(v)}</li>" for v in values) + "</ul>")
        rows.append(f'<tr><th scope="row"><a href="{escape(p["href"])}" '
                    f'title="{escape(p["iri"])}">{escape(p["label"])}</a></th>\n'
                    f"<td>{cell}</td></tr>")
    return Markup(f'<table class="{escape(cls)}">\n' + "\n".join(rows) + "\n</table>")


def _group(d: R.Description, subject: str) -> list[dict]:
    props = d.index.get(subject, {})
    rows = []
    for p, values in props.items():
        if p in _HIDDEN:
            continue
        rows.append({"iri": p, "label": term_label(p), "href": local_url(p),
                     "values": sorted((_value(d, v) for v in values), key=lambda v: v["text"])})
    rows.sort(key=lambda r: (r["iri"] not in _FIRST, _FIRST.get(r["iri"], 0), r["label"]))
    return rows


_FIRST = {p.value: i for i, p in enumerate([
    SCHEMA.name, SCHEMA.alternateName, SCHEMA.description, SCHEMA.url, DPG.stage,
    DPG.solutionType, DCT.license, DPG.relevantToSDG, DPG.ownedBy, DPG.maintainedBy,
    DPG.fundedBy, DPG.implementedBy, SCHEMA.codeRepository, DPG.sector])}


_INCOMING_LABELS = (SCHEMA.name.value, SKOS.prefLabel.value, RDFS.label.value)


def _incoming(iri: str) -> list[dict]:
    """What links to `iri`, grouped by property; the labels from the table of every
    resource's labels kept per store version (joining them in the query, grouped, cost
    20 ms for a country at 10x)."""
    st = common.store()
    rows = st.select(f"""SELECT DISTINCT ?s ?p WHERE {{
          ?s ?p <{iri}> . FILTER(isIRI(?s) && !CONTAINS(STR(?s), "#")) }} LIMIT 5000""")
    labels = R.labels(st)
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        p = r["p"].value
        if p in _SKIP_INCOMING:
            continue
        s = r["s"].value
        found = {t.predicate.value: t.object.value for t in reversed(labels.get(s, ()))}
        label = next((found[k] for k in _INCOMING_LABELS if k in found), None)
        groups[p].append({"text": label or compact(s), "href": local_url(s), "iri": s})
    out = []
    for p, items in groups.items():
        label = INVERSE_LABELS.get(p) or f"is {term_label(p)} of"
        out.append({"iri": p, "label": label, "values": sorted(items, key=lambda v: v["text"])})
    return sorted(out, key=lambda g: (-len(g["values"]), g["label"]))


def _as_known(day, precision) -> str:
    """A membership date as precisely as known: "2019" for 2019-01-01 known by its year."""
    if day is None:
        return ""
    cut = {"year": 4, "month": 7}.get(precision.value if precision is not None else "", 10)
    return day.value[:cut]


def _memberships(iri: str, role: str) -> list[dict]:
    """Membership history of a member (role 'member') or the members of an organisation."""
    rows = common.store().select(sparql_prefixes() + f"""
        SELECT DISTINCT ?m ?other ?name ?joined ?left ?current ?basis WHERE {{
          ?m a org:Membership ; org:{role} <{iri}> ;
             org:{"organization" if role == "member" else "member"} ?other .
          OPTIONAL {{ ?other schema:name ?name }}
          OPTIONAL {{ ?m dpg:joined ?joined OPTIONAL {{ ?m dpg:joinedPrecision ?jp }} }}
          OPTIONAL {{ ?m dpg:left ?left OPTIONAL {{ ?m dpg:leftPrecision ?lp }} }}
          OPTIONAL {{ ?m dpg:isCurrent ?current }} OPTIONAL {{ ?m dpg:joinedBasis ?basis }}
        }} ORDER BY ?joined""")
    out, seen = [], set()
    for r in rows:
        if r["m"].value in seen:
            continue
        seen.add(r["m"].value)
        out.append({"href": local_url(r["m"].value),
                    "other": {"text": r["name"].value if "name" in r else compact(r["other"].value),
                              "href": local_url(r["other"].value)},
                    "joined": _as_known(r.get("joined"), r.get("jp")),
                    "left": _as_known(r.get("left"), r.get("lp")),
                    "current": r["current"].value == "true" if "current" in r else None,
                    "basis": term_label(r["basis"].value) if "basis" in r else ""})
    return out


# Views -----------------------------------------------------------------------

def render_resource(d: R.Description, alternates: list) -> str:
    """A DPG, organisation or SDG gets its reader's page; anything else, and any
    resource at ``?view=all``, the list of every statement about it."""
    from dpgkg.web import pages

    schema_json = script_json(schema_org(d))
    if not pages.raw_requested():
        if DPG.Solution.value in d.types:
            return pages.render_solution(d, alternates, schema_json)
        if DPG.Organisation.value in d.types or DPG.Alliance.value in d.types:
            return pages.render_organisation(d, alternates, schema_json)
        if d.iri.startswith(SDG_BASE):
            page = pages.render_sdg(d, alternates, schema_json)
            if page is not None:
                return page
    iri = d.iri
    types = [_value(d, ox.NamedNode(t)) for t in sorted(d.types)]
    kind = next((t["text"] for t in types if t["iri"].startswith(ONTOLOGY_NS)), None)
    parts = [{"iri": p, "fragment": p.split("#", 1)[1], "types":
              [_value(d, t) for t in d.values(p, RDF.type)], "props": _group(d, p)}
             for p in d.parts()]
    memberships = members = None
    if DPG.Organisation.value in d.types or DPG.Alliance.value in d.types:
        memberships = _memberships(iri, "member")
        members = _memberships(iri, "organization") if DPG.Alliance.value in d.types else None
    return render_template(
        "resource.html", d=d, iri=iri, title=display_name(d), kind=kind,
        types=types, props=_group(d, iri), parts=parts, incoming=_incoming(iri),
        memberships=memberships, members=members, alternates=alternates,
        description=(d.first(iri, SCHEMA.description) or d.first(iri, DCT.description)),
        raw=pages.raw_requested(), page_url=request.path, schema_json=schema_json)


def render_graph(name: str, d: R.Description, alternates: list) -> str:
    """The ontology or the shapes: one section per term, anchored by its fragment."""
    g_iri = R.graph_iri_for(name)
    subjects = sorted(d.index, key=lambda s: (s != g_iri, s.startswith("_:"),
                                              term_label(s).lower()))
    sections = []
    for s in subjects:
        frag = s.split("#", 1)[1] if "#" in s else ""
        sections.append({"iri": s, "fragment": frag, "label": d.label(s) or term_label(s),
                         "types": [_value(d, t) for t in d.values(s, RDF.type)],
                         "props": _group(d, s)})
    title = "The dpgkg ontology" if name == "ontology" else "The dpgkg SHACL shapes"
    doc = {"@context": "https://schema.org", "@type": "DefinedTermSet", "@id": g_iri,
           "name": title}
    return render_template("graph.html", title=title, iri=g_iri, sections=sections,
                           alternates=alternates, schema_json=script_json(doc))


def stats() -> dict:
    return _cached("stats", lambda st: graph_stats(st, common.settings()))


def bars(rows: list[dict], href) -> list[dict]:
    """Rows of a horizontal bar chart (width in percent of the largest)."""
    top = max((r["count"] for r in rows), default=0) or 1
    return [{**r, "width": round(100 * r["count"] / top, 1), "href": href(r)} for r in rows]


@bp.app_template_global()
def dpgs_url(**filters) -> str:
    args = {k: v for k, v in filters.items() if v}
    return url_for("site.dpgs") + ("?" + urlencode(args) if args else "")


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]


@bp.route("/")
def home():
    s = stats()
    charts = [
        ("DPGs per SDG goal", bars(s["dpgs_by_sdg"], lambda r: dpgs_url(sdg=r["label"]))),
        ("DPGs per type", bars(s["dpgs_by_type"], lambda r: dpgs_url(type=_local(r["iri"])))),
        ("DPGs per licence", bars(s["dpgs_by_licence"][:20],
                                  lambda r: dpgs_url(licence=_local(r["iri"])))),
        ("Solutions per stage", bars(s["by_stage"], lambda r: dpgs_url(
            stage=_local(r["iri"])))),
    ]
    st = common.store()
    dumps = read_dumps(dumps_root(common.settings().store), st.version())
    doc = home_dataset(
        root=common.public_root(), search_url=url_for("site.search", _external=True),
        catalogue_url=url_for("catalogue.catalog", _external=True),
        licence=CATALOGUE_LICENCE.value, publisher=PUBLISHER_NAME,
        dumps=[(common.public_url("dumps/" + d.path.name), d.media_type, d.bytes)
               for d in dumps])
    return render_template("home.html", title="Digital Public Goods knowledge graph", s=s,
                           charts=charts, schema_json=script_json(doc))


@bp.route("/query")
def query():
    examples = [{"title": t, "query": q} for t, q in EXAMPLES]
    return render_template("query.html", title="Query the graph (SPARQL)", examples=examples,
                           prefixes=PREFIXES,
                           default_query=examples[0]["query"] if examples else "",
                           schema_json=script_json({
                               "@context": "https://schema.org", "@type": "WebPage",
                               "name": "SPARQL query editor"}))


@bp.app_context_processor
def _globals() -> dict:
    return {"base_iri": common.settings().base_iri}


@bp.app_template_filter("truncate_words")
def truncate_words(text: str, n: int = 40) -> str:
    words = (text or "").split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")
