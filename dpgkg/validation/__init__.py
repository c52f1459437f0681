"""Validate records against the DPG Standard (``shapes/*.ttl``) and say, per indicator,
whether they pass.

Inputs (:func:`validate_paths`): registry-format JSON (a nominee record alone, a record
with its screening answers side by side like the legacy API, a legacy API list, or a
directory laid out like the registry), JSON-LD, Turtle, or a directory of them.
Registry JSON is first checked against the registry's own JSON Schemas
(``nominee-schema.json``, ``screening-schema.json``); each schema error is filed under the
indicator its field concerns. The record is then converted by the harvester
(:func:`dpgkg.harvest.registry.record_to_graph`) and validated with pySHACL.

Speed. pySHACL spends its time per shape and per focus node, not per triple, so:

* the shapes graph is parsed and its shapes built once per process (:class:`Engine`,
  cached at module level) and reused by every run;
* the data graph of a run is the record's own triples plus only the reference triples
  they point at (the SDG goal, the licences, the ontology's class hierarchy), never the
  whole reference graphs;
* many records are validated in batches (one pySHACL run over the union of their
  graphs: the indicator shapes target the indicator resources, so one run handles every
  record's answers), spread over two processes for the whole registry; each result is
  filed under the record whose resource it is about.

Output per input (:class:`Outcome`)::

    {"conforms": bool, "indicators": {"1": {"status": "pass|fail|not-applicable|
     not-answered", "messages": [...]}, ..., "9c": {...}, "registry": {...},
     "structure": {...}}}

and the SHACL report graph (Turtle or JSON-LD). Status: ``fail`` when a Violation (or
a schema error) concerns the indicator; else ``not-answered`` for 3-9c when the record
has no screening answers at all; else ``not-applicable`` for 4, 6, 9a, 9b, 9c when the
answer to the condition question is not "Yes"; else ``pass`` (Warnings are listed as
messages but do not fail an indicator).

Modules, in the order a record goes through them: :mod:`.inputs` (read and recognise an
input), :mod:`.schema` (the registry's JSON Schemas), :mod:`.records` (one pySHACL run
over records' graphs), :mod:`.engine` (shapes and reference data; :mod:`.pyshacl_compat`
its pySHACL patches), :mod:`.status` (results -> indicator statuses), :mod:`.batch`
(many records over worker processes), :mod:`.results` (the build's validation graph),
:mod:`.report` (text, table and SHACL reports).
"""

from __future__ import annotations

from dpgkg.validation.batch import Running, start_many, validate_many, validate_registry
from dpgkg.validation.engine import Engine, schema_only_licences, shared_engine
from dpgkg.validation.inputs import (
    JSON_SUFFIXES,
    JSONLD_SUFFIXES,
    TURTLE_SUFFIXES,
    validate_data,
    validate_paths,
)
from dpgkg.validation.records import validate_graph, validate_record
from dpgkg.validation.report import indicator_labels, merged_report, registry_table, text_report
from dpgkg.validation.results import (
    StoreValidation,
    start_store_validation,
    validate_store_records,
)
from dpgkg.validation.schema import schema_errors
from dpgkg.validation.status import (
    CONDITIONS,
    INDICATORS,
    KEYS,
    SCREENED,
    STATUSES,
    InputError,
    Outcome,
    summarise,
)

__all__ = [
    "CONDITIONS",
    "INDICATORS",
    "JSONLD_SUFFIXES",
    "JSON_SUFFIXES",
    "KEYS",
    "SCREENED",
    "STATUSES",
    "TURTLE_SUFFIXES",
    "Engine",
    "InputError",
    "Outcome",
    "Running",
    "StoreValidation",
    "indicator_labels",
    "merged_report",
    "registry_table",
    "schema_errors",
    "schema_only_licences",
    "shared_engine",
    "start_many",
    "start_store_validation",
    "summarise",
    "text_report",
    "validate_data",
    "validate_graph",
    "validate_many",
    "validate_paths",
    "validate_record",
    "validate_registry",
    "validate_store_records",
]
