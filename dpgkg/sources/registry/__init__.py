"""Read the DPG registry: files in, plain records out (no RDF).

Three layouts are accepted by :func:`read_registry` (and :func:`open_registry`, which
also hands back the approved-licence page and the source commit):

* a directory laid out like github.com/DPGAlliance/publicgoods-candidates;
* a ``.tar.gz`` / ``.tgz`` / ``.zip`` archive of that repository (path or http(s) URL).
  Its single top folder (``publicgoods-candidates-<commit>/``) is stripped; when the
  folder ends with a hex commit, or the archive carries one (GitHub writes it as the
  tar pax ``comment`` and as the zip comment), that commit is recorded;
* a JSON file or URL in the legacy API list format (``api.digitalpublicgoods.net/dpgs/``):
  an array of objects where nominee fields and screening fields sit side by side.
  The record id is the object's ``id`` when it is a slug, else the slugified name;
  the stage is ``DPG``; the path is ``{file name}[{index}]``.

Checks made here are file-level: unreadable or non-JSON files, a non-object, a missing
or non-string ``name`` are **errors** and the file is skipped. Field-level checks
(wrong types, empty answers, contact data) are made by :func:`clean_record` and
:func:`clean_screening`, which ``record_to_graph`` calls so that one record posted by
a user gets exactly the same checks. The rule there: a bad field, or a bad item of a
list, is dropped with a **warning** and the rest of the record is kept.

Git symlinks in ``digitalpublicgoods/`` (checked out on some systems as a text file
holding the target's name, e.g. ``commcare.json``) are followed.

Modules: :mod:`.read` (layouts, files, links), :mod:`.clean` (field-level checks,
contact data removed), :mod:`.exclusions` (the excluded nominees' list).
"""

from __future__ import annotations

from dpgkg.sources.registry.clean import (
    EMAIL,
    EMAIL_REMOVED,
    ORG_TYPES,
    SCREENING_SECTIONS,
    SOLUTION_TYPES,
    clean_record,
    clean_screening,
    is_private_key,
    name_key,
    scrub_text,
)
from dpgkg.sources.registry.exclusions import (
    EXCLUDED_README,
    Exclusion,
    parse_exclusions,
    parse_loose_date,
)
from dpgkg.sources.registry.read import (
    FOLDERS,
    LICENCES_PAGE,
    SCREENING_FOLDER,
    RegistryFile,
    RegistrySnapshot,
    licences_page,
    open_registry,
    read_registry,
)

__all__ = [
    "EMAIL", "EMAIL_REMOVED", "EXCLUDED_README", "FOLDERS", "LICENCES_PAGE", "ORG_TYPES",
    "SCREENING_FOLDER", "SCREENING_SECTIONS", "SOLUTION_TYPES", "Exclusion", "RegistryFile",
    "RegistrySnapshot", "clean_record", "clean_screening", "is_private_key", "licences_page",
    "name_key", "open_registry", "parse_exclusions", "parse_loose_date", "read_registry", "scrub_text",
]
