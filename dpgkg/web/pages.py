"""The pages people read: a DPG, an organisation, an SDG, and the lists of
organisations and alliance members. The data comes from `dpgkg.publish`
(solution, organisations, sdg); this module only picks the view and renders it.

Every resource page keeps the raw description (every triple) one click away at
``?view=all``, and links its linked-data formats.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup, escape

from dpgkg.publish import organisations as O
from dpgkg.publish import resources as R
from dpgkg.publish import sdg as S
from dpgkg.publish.solution import map_classes, solution_view
from dpgkg.publish.worldmap import world_map
from dpgkg.rdf import DPG, OWL, SCHEMA
from dpgkg.web import common
from dpgkg.web.links import local_url, page_number
from dpgkg.web.schema_org import display_name
from dpgkg.web.security import script_json

bp = Blueprint("pages", __name__, template_folder="templates")

ROLE_TEXT = {
    "owner": "Owner",
    "maintainer": "Maintainer",
    "funder": "Funder",
    "implementer": "Implementer",
}
STAGE_TEXT = {
    "DPGStage": "DPG",
    "NomineeStage": "Nominee",
    "ArchivedStage": "Archived",
    "ExcludedStage": "Excluded",
}


def raw_requested() -> bool:
    return request.args.get("view") == "all"


def clean_url(endpoint: str, **args) -> str:
    """A URL with only the parameters that have a value (no `?type=&country=`)."""
    kept = {k: v for k, v in args.items() if v not in (None, "")}
    return url_for(endpoint) + ("?" + urlencode(kept) if kept else "")


def map_svg(wm, classes: dict[str, str], names: dict[str, str], label: str) -> Markup:
    """The world map with the given countries coloured: the plain paths are the same on
    every page, so only the coloured ones are written per request."""
    parts = [
        (
            f'<svg role="img" aria-label="{escape(label)}" viewBox="0 0 {wm.width} '
            f'{wm.height}" preserveAspectRatio="xMidYMid meet">'
        )
    ]
    for c in wm.countries:
        k = classes.get(c.code)
        if k:
            title = escape(names.get(c.code, c.name))
            parts.append(f'<path d="{c.path}" class="{k}"><title>{title}</title></path>')
        else:
            parts.append(f'<path d="{c.path}"/>')
    for c in wm.dots:
        k = classes.get(c.code)
        if k:
            title = escape(names.get(c.code, c.name))
            parts.append(
                f'<circle cx="{c.x}" cy="{c.y}" r="4" class="{k}"><title>{title}</title></circle>'
            )
    parts.append("</svg>")
    return Markup("\n".join(parts))


# Resource pages -------------------------------------------------------------------


def render_solution(d: R.Description, alternates: list, schema_json: str) -> str:
    view = solution_view(common.store(), d)
    wm = world_map(common.settings().world_atlas)
    classes = map_classes(view["countries"])
    names = {
        c["m49"]: c["name"]
        for k in ("deployment", "development")
        for c in view["countries"][k]
        if c.get("m49")
    }
    on_map = wm.codes()
    off_map = sorted({names[c] for c in classes if c not in on_map})
    # Software has CodeMeta beside its page (also named by the Link header)
    codemeta_url = (local_url(d.iri) + "/codemeta.json"
                    if SCHEMA.SoftwareSourceCode.value in d.types else None)
    return render_template(
        "dpg.html",
        codemeta_url=codemeta_url,
        title=view["name"],
        v=view,
        iri=d.iri,
        alternates=alternates,
        local=local_url,
        role_text=ROLE_TEXT,
        world_map=map_svg(
            wm, classes, names, f"Countries where {view['name']} is deployed or developed"
        ),
        off_map=off_map,
        raw_url=request.path + "?view=all",
        schema_json=schema_json,
        stage_label=lambda i: STAGE_TEXT.get(i.rsplit("#", 1)[-1], i.rsplit("#", 1)[-1]),
        short=lambda i: i.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1],
    )


def render_organisation(d: R.Description, alternates: list, schema_json: str) -> str:
    st = common.store()
    view = O.organisation_view(st, d.iri)
    row = next((o for o in O.organisation_table(st) if o["iri"] == d.iri), None)
    s = d.iri
    return render_template(
        "organisation.html",
        title=display_name(d),
        d=d,
        iri=s,
        v=view,
        row=row,
        alternates=alternates,
        local=local_url,
        role_text=ROLE_TEXT,
        stage_text=STAGE_TEXT,
        basis_text=O.BASIS_TEXT,
        websites=[u.value for u in d.values(s, SCHEMA.url)],
        alt_names=sorted({x.value for x in d.values(s, SCHEMA.alternateName)}),
        same_as=[x.value for x in d.values(s, OWL.sameAs)],
        is_alliance=DPG.Alliance.value in d.types,
        raw_url=request.path + "?view=all",
        schema_json=schema_json,
    )


def render_sdg(d: R.Description, alternates: list, schema_json: str) -> str | None:
    stage = request.args.get("stage", "DPGStage")
    if stage != "all" and stage not in S.STAGES:
        common.abort(404, f"no stage {stage!r}; one of {', '.join(S.STAGES)} or all")
    view = S.sdg_view(common.store(), d.iri, stage)
    if view is None:
        return None

    def stage_url(key: str) -> str:
        return request.path + ("" if key == "DPGStage" else "?stage=" + key)

    return render_template(
        "sdg.html",
        title=f"SDG {view['number']}",
        v=view,
        solution_items=_solution_items(view["solutions"], view["stage"] == "all"),
        iri=d.iri,
        alternates=alternates,
        local=local_url,
        stage_text=STAGE_TEXT,
        stage_url=stage_url,
        raw_url=request.path + "?view=all",
        schema_json=schema_json,
    )


def _solution_items(solutions: list[dict], with_stage: bool) -> Markup:
    """The list items of an SDG's solutions, written in Python: a goal has thousands at
    100x, and a template loop costs several times as much per item."""
    items = []
    for s in solutions:
        stage = (f' <span class="badge stage">{escape(STAGE_TEXT.get(s["stage"], s["stage"]))}'
                 "</span>" if with_stage else "")
        items.append(f'<li><a href="{escape(local_url(s["iri"]))}">{escape(s["name"])}</a>'
                     f"{stage}</li>")
    return Markup("".join(items))


# Lists ------------------------------------------------------------------------------


def _list_args(allowed: dict[str, list]) -> dict[str, str]:
    chosen = {}
    for k, options in allowed.items():
        v = request.args.get(k, "").strip()
        if v and v in {o[0] for o in options}:
            chosen[k] = v
    return chosen


def _paged(rows: list[dict], endpoint: str, chosen: dict) -> tuple[list, int, int, callable]:
    page = page_number()
    pages = max(1, math.ceil(len(rows) / O.PAGE_SIZE))
    if page > pages:
        common.abort(404, f"there are {pages} pages of {O.PAGE_SIZE}")

    def page_url(n: int) -> str:
        return clean_url(endpoint, **chosen, page=n if n > 1 else None)

    return rows[(page - 1) * O.PAGE_SIZE : page * O.PAGE_SIZE], page, pages, page_url


@bp.route("/organisations")
def organisations():
    rows = O.organisation_table(common.store())
    facets = O.facets(rows)
    chosen = _list_args(facets)
    found = O.filter_rows(rows, **chosen)
    items, page, pages, page_url = _paged(found, "pages.organisations", chosen)
    return render_template(
        "organisations.html",
        title="Organisations",
        heading="Organisations",
        items=items,
        total=len(found),
        page=page,
        pages=pages,
        page_url=page_url,
        facets=facets,
        chosen=chosen,
        action=url_for("pages.organisations"),
        members_view=False,
        role_text=ROLE_TEXT,
        schema_json=_item_list(items, len(found)),
    )


@bp.route("/members")
def members():
    rows = [o for o in O.organisation_table(common.store()) if o["member"] != "never"]
    facets = O.facets(rows)
    facets["member"] = [("current", "current"), ("former", "former"), ("all", "all")]
    chosen = _list_args(facets)
    status = chosen.get("member", "current")
    found = O.filter_rows(rows, **{**chosen, "member": None if status == "all" else status})
    found.sort(key=lambda o: (o["joined"] or "9999", o["name"].lower()))
    items, page, pages, page_url = _paged(found, "pages.members", chosen)
    heading = {
        "current": "Current alliance members",
        "former": "Former alliance members",
        "all": "Alliance members, current and former",
    }[status]
    return render_template(
        "organisations.html",
        title=heading,
        heading=heading,
        items=items,
        total=len(found),
        page=page,
        pages=pages,
        page_url=page_url,
        facets=facets,
        chosen=chosen,
        action=url_for("pages.members"),
        members_view=True,
        role_text=ROLE_TEXT,
        schema_json=_item_list(items, len(found)),
    )


def _item_list(items: list[dict], total: int) -> str:
    return script_json(
        {
            "@context": "https://schema.org",
            "@type": "ItemList",
            "numberOfItems": total,
            "itemListElement": [
                {"@type": "ListItem", "position": i + 1, "url": o["iri"], "name": o["name"]}
                for i, o in enumerate(items)
            ],
        }
    )
