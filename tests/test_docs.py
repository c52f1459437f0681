"""Docs that cannot rot: every command and setting is in the README, every shape is labelled."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import rdflib

from dpgkg.cli import main
from dpgkg.config import SHAPES_DIR, Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_cli_command_is_in_the_readme():
    for name in main.commands:
        assert f"dpgkg {name}" in README, f"`dpgkg {name}` is not documented in the README"


def test_every_setting_is_in_the_readme():
    for f in fields(Settings):
        assert Settings.env_name(f.name) in README, f"{Settings.env_name(f.name)} undocumented"


def test_every_shape_and_group_has_a_label_and_comment():
    g = rdflib.Graph()
    for f in SHAPES_DIR.glob("*.ttl"):
        g.parse(f)
    SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    named = {s for t in (SH.NodeShape, SH.PropertyGroup) for s in g.subjects(rdflib.RDF.type, t)
             if isinstance(s, rdflib.URIRef)}
    assert len(named) > 12
    missing = sorted(str(s) for s in named
                     if g.value(s, rdflib.RDFS.label) is None
                     or g.value(s, rdflib.RDFS.comment) is None)
    assert missing == []


def test_every_jsonld_context_term_is_documented():
    """Every term of /context.jsonld (ontology/context.jsonld) is named, in backquotes, in
    the JSON-LD section of docs/model.md."""
    ctx = json.loads((ROOT / "ontology" / "context.jsonld").read_text())["@context"]
    model = (ROOT / "docs" / "model.md").read_text()
    assert "\n## JSON-LD" in model, "docs/model.md has no JSON-LD section"
    section = model.split("\n## JSON-LD", 1)[1].split("\n## ", 1)[0]
    terms = [t for t in ctx if not t.startswith("@")]
    assert len(terms) > 100
    assert [t for t in terms if f"`{t}`" not in section] == []


def test_every_change_feed_parameter_is_documented():
    """docs/changes-feed.md names every parameter the OpenAPI description gives /changes."""
    from dpgkg.publish.openapi import openapi

    doc = (ROOT / "docs" / "changes-feed.md").read_text()
    params = openapi("http://x/", query_timeout=1, max_body_bytes=1)["paths"]["/changes"]
    names = [p["name"] for p in params["get"]["parameters"]]
    assert {"since", "page", "page_size"} <= set(names)
    assert [n for n in names if f"| `{n}` |" not in doc] == []
    assert "docs/changes-feed.md" in README
