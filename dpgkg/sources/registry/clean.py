"""Field-level checks of a registry record and its screening answers: a bad field, or a
bad item of a list, is dropped with a warning and the rest of the record kept; contact
data is removed."""

from __future__ import annotations

import re
import unicodedata

from dpgkg.problems import Problem

# Top-level keys of a screening file (screening-schema.json) other than "name".
SCREENING_SECTIONS = (
    "clearOwnership", "platformIndependence", "documentation", "NonPII", "privacy",
    "standards", "doNoHarm", "locations",
)


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


EMAIL = re.compile(r"(?:mailto:)?[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


EMAIL_REMOVED = "[e-mail removed]"


def scrub_text(value: str) -> str:
    """Replace every e-mail address (and its mailto:) in free text."""
    if "@" not in value:
        return value
    return EMAIL.sub(EMAIL_REMOVED, value)


def is_private_key(key: str) -> bool:
    k = key.lower()
    return "email" in k or "e-mail" in k or "contact" in k


def name_key(name: str) -> str:
    """A matching key for names: accents, case, spaces and punctuation ignored."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.lower())


SOLUTION_TYPES = ("software", "data", "content", "standard", "aimodel")


ORG_TYPES = ("owner", "maintainer", "funder", "implementer")


_KNOWN_KEYS = {"name", "aliases", "description", "website", "license", "SDGs", "sectors",
               "type", "repositories", "repositoryURL", "organizations", "stage"}


def _answer(value: object) -> str | None:
    """A string answer, stripped and scrubbed; None for no answer."""
    if isinstance(value, str):
        s = value.strip()
        return scrub_text(s) if s else None
    return None


class _Checker:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def warn(self, fld: str, message: str) -> None:
        self.problems.append(Problem(self.source, message, field=fld, severity="warning"))

    def string(self, value: object, fld: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.warn(fld, f"expected a string, got a number ({value!r}): used as text")
            return str(value)
        if not isinstance(value, str):
            self.warn(fld, f"expected a string, got {type(value).__name__}: dropped")
            return None
        return _answer(value)

    def string_list(self, value: object, fld: str) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            s = _answer(value)
            if s:
                self.warn(fld, "expected a list of strings, got one string: used as a "
                          "one-item list")
            return [s] if s else []
        if not isinstance(value, list):
            self.warn(fld, f"expected a list of strings, got {type(value).__name__}: dropped")
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            s = self.string(item, f"{fld}[{i}]")
            if s and s not in out:
                out.append(s)
        return out

    def object_list(self, value: object, fld: str) -> list[tuple[int, dict]]:
        if value is None:
            return []
        if isinstance(value, dict):
            self.warn(fld, "expected a list of objects, got one object: used as a "
                      "one-item list")
            return [(0, value)]
        if not isinstance(value, list):
            self.warn(fld, f"expected a list of objects, got {type(value).__name__}: dropped")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((i, item))
            elif item not in ("", None):
                self.warn(f"{fld}[{i}]", f"expected an object, got {type(item).__name__}: "
                          "dropped")
        return out


def clean_record(record: object, source: str) -> tuple[dict | None, list[Problem]]:
    """A nominee record with every field checked and normalised, contact data dropped.

    Returns (None, [error]) when the record is unusable (not an object, no name).
    Otherwise every field in the result has its documented type; a bad field or list
    item is dropped with a warning naming it (``license[0].spdx``). Empty strings and
    ``[""]`` are no answer. E-mail addresses in free text become "[e-mail removed]".
    URLs are left as written (stripped) for the harvester to turn into IRIs.
    """
    c = _Checker(source)
    if not isinstance(record, dict):
        return None, [Problem(source, f"a record must be a JSON object, not "
                                      f"{type(record).__name__}")]
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        return None, [Problem(source, "missing or empty name (a string is required)",
                              field="name")]
    out: dict = {"name": scrub_text(" ".join(name.split()))}
    for key in sorted(set(record) - _KNOWN_KEYS):
        if not is_private_key(key):
            c.warn(key, "unknown field: ignored")
    aliases = [" ".join(a.split()) for a in c.string_list(record.get("aliases"), "aliases")]
    out["aliases"] = [a for i, a in enumerate(aliases)
                      if a != out["name"] and a not in aliases[:i]]
    out["description"] = c.string(record.get("description"), "description")
    if out["description"] is None and "description" not in record:
        c.warn("description", "required field missing")
    out["website"] = c.string(record.get("website"), "website")
    out["repositoryURL"] = c.string(record.get("repositoryURL"), "repositoryURL")
    out["stage"] = c.string(record.get("stage"), "stage")

    licences = []
    if "license" not in record:
        c.warn("license", "required field missing")
    for i, item in c.object_list(record.get("license"), "license"):
        spdx = c.string(item.get("spdx"), f"license[{i}].spdx")
        url = c.string(item.get("licenseURL"), f"license[{i}].licenseURL")
        if spdx is None:
            if "spdx" not in item:
                c.warn(f"license[{i}].spdx", "licence without an spdx id: dropped")
            continue
        licences.append({"spdx": spdx, "licenseURL": url, "index": i})
    out["license"] = licences

    sdgs = []
    if "SDGs" not in record:
        c.warn("SDGs", "required field missing")
    raw_sdgs = record.get("SDGs")
    if isinstance(raw_sdgs, list):
        # An early format wrote [number, "title"] pairs: accept them.
        items = []
        for i, item in enumerate(raw_sdgs):
            if (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)
                    and isinstance(item[0], (int, str))):
                c.warn(f"SDGs[{i}]", "an SDG given as a [number, title] pair: read as "
                       "its number")
                items.append((i, {"SDGNumber": item[0]}))
            elif isinstance(item, dict):
                items.append((i, item))
            elif item not in ("", None):
                c.warn(f"SDGs[{i}]", f"expected an object, got {type(item).__name__}: "
                       "dropped")
    else:
        items = c.object_list(raw_sdgs, "SDGs")
    for i, item in items:
        num = item.get("SDGNumber")
        if isinstance(num, str) and num.strip().isdigit():
            num = int(num.strip())
        elif isinstance(num, float) and num.is_integer():
            num = int(num)
        if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= 17:
            c.warn(f"SDGs[{i}].SDGNumber", f"not an SDG number (1-17): {num!r}: dropped")
            continue
        sdgs.append({
            "SDGNumber": num,
            "evidenceText": c.string(item.get("evidenceText"), f"SDGs[{i}].evidenceText"),
            "evidenceURL": c.string(item.get("evidenceURL"), f"SDGs[{i}].evidenceURL"),
            "index": i,
        })
    out["SDGs"] = sdgs

    out["sectors"] = c.string_list(record.get("sectors"), "sectors")
    types = []
    for i, t in enumerate(c.string_list(record.get("type"), "type")):
        key = t.lower().replace(" ", "").replace("-", "")
        if key == "ai" or key == "aimodels":
            key = "aimodel"
        if key in SOLUTION_TYPES:
            if key not in types:
                types.append(key)
        else:
            c.warn(f"type[{i}]", f"unknown solution type {t!r}: dropped")
    out["type"] = types

    repos = []
    for i, item in c.object_list(record.get("repositories"), "repositories"):
        url = c.string(item.get("url"), f"repositories[{i}].url")
        if url:
            repos.append({"url": url, "name": c.string(item.get("name"),
                                                       f"repositories[{i}].name"), "index": i})
    out["repositories"] = repos

    orgs = []
    if "organizations" not in record:
        c.warn("organizations", "required field missing")
    for i, item in c.object_list(record.get("organizations"), "organizations"):
        oname = c.string(item.get("name"), f"organizations[{i}].name")
        if not oname:
            c.warn(f"organizations[{i}].name", "organisation without a name: dropped")
            continue
        otype = c.string(item.get("org_type"), f"organizations[{i}].org_type")
        if otype is not None and otype.lower() not in ORG_TYPES:
            c.warn(f"organizations[{i}].org_type", f"unknown org_type {otype!r}: the "
                   "organisation is linked without a role")
            otype = None
        for key in sorted(set(item) - {"name", "website", "org_type"}):
            if not is_private_key(key):
                c.warn(f"organizations[{i}].{key}", "unknown field: ignored")
        orgs.append({"name": oname, "org_type": otype.lower() if otype else None,
                     "website": c.string(item.get("website"), f"organizations[{i}].website"),
                     "index": i})
    out["organizations"] = orgs
    return out, c.problems


def clean_screening(screening: object, source: str) -> tuple[dict, list[Problem]]:
    """Screening answers as {section path: {key: [strings]}} plus 'locations'.

    Section paths are 'clearOwnership', ..., 'doNoHarm.preventHarm', ... Values are lists
    of non-empty, scrubbed strings (a single string gives a one-item list). Keys that
    mention e-mail or contact are dropped.
    """
    c = _Checker(source)
    out: dict[str, dict[str, list[str]]] = {}
    if not isinstance(screening, dict):
        c.problems.append(Problem(source, "screening answers must be a JSON object, not "
                                  f"{type(screening).__name__}: ignored"))
        return out, c.problems

    def section(obj: object, path: str) -> None:
        if not isinstance(obj, dict):
            if obj not in ("", None):
                c.warn(path, f"expected an object, got {type(obj).__name__}: dropped")
            return
        answers: dict[str, list[str]] = {}
        for key, value in obj.items():
            fld = f"{path}.{key}"
            if is_private_key(key):
                continue
            if path == "doNoHarm":
                section(value, fld)
                continue
            if isinstance(value, dict):
                c.warn(fld, "unexpected nested object: dropped")
                continue
            if isinstance(value, bool):
                c.warn(fld, "expected a string, got a boolean: used as Yes/No")
                values = ["Yes" if value else "No"]
            else:
                values = c.string_list(value, fld) if isinstance(value, list) else (
                    [s] if (s := c.string(value, fld)) else [])
            if values:
                answers[key] = values
        if path != "doNoHarm":
            out[path] = answers

    for key, value in screening.items():
        if key == "name" or is_private_key(key):
            continue
        if key not in SCREENING_SECTIONS:
            c.warn(key, "unknown screening section: ignored")
            continue
        section(value, key)
    return out, c.problems
