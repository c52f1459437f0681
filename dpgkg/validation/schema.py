"""The registry's own JSON Schemas: each error filed under the indicator its field
concerns."""

from __future__ import annotations

from dpgkg.validation.engine import Engine

# Nominee-schema fields filed under an indicator; every other field is "registry".
NOMINEE_FIELD_KEY = {"license": "2", "SDGs": "1"}


SCREENING_SECTION_KEY = {
    "clearOwnership": "3", "platformIndependence": "4", "documentation": "5", "NonPII": "6",
    "privacy": "7", "standards": "8", "doNoHarm.preventHarm": "9",
    "doNoHarm.dataPrivacySecurity": "9a", "doNoHarm.inappropriateIllegalContent": "9b",
    "doNoHarm.protectionFromHarassment": "9c",
}


def _field_text(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _error_message(err) -> str:
    if err.validator == "enum":
        values = err.validator_value
        if len(values) <= 6:
            return f"{err.instance!r} is not one of {', '.join(map(repr, values))}"
        return (f"{err.instance!r} is not one of the {len(values)} accepted values of the "
                "registry's schema")
    return err.message


def schema_errors(record: dict | None, screening: dict | None, engine_: Engine,
                  folder: str = "nominees") -> list[dict]:
    """The registry JSON Schema errors of a record and its screening answers, each filed
    under the indicator its field concerns ('registry' for name, description, ...)."""
    nominee_v, screening_v = engine_.schemas()
    out: list[dict] = []
    if record is not None and nominee_v is not None:
        for err in nominee_v.iter_errors(record):
            path = list(err.absolute_path)
            if err.validator == "required":
                missing = [p for p in err.validator_value
                           if isinstance(err.instance, dict) and p not in err.instance]
                for m in missing:
                    if m == "stage" and folder != "nominees":
                        continue       # the folder gives archived/excluded records' stage
                    fld = _field_text([*path, m])
                    out.append({"key": NOMINEE_FIELD_KEY.get(str(([*path, m])[0]), "registry"),
                                "severity": "Violation", "field": fld, "source": "schema",
                                "message": f"{fld}: required by the registry's nominee "
                                           "schema but missing"})
                continue
            top = str(path[0]) if path else ""
            fld = _field_text(path) or "(record)"
            out.append({"key": NOMINEE_FIELD_KEY.get(top, "registry"), "severity": "Violation",
                        "field": fld, "source": "schema",
                        "message": f"{fld}: {_error_message(err)}"})
    if screening is not None and screening_v is not None:
        for err in screening_v.iter_errors(screening):
            path = [str(p) if not isinstance(p, int) else p for p in err.absolute_path]
            names = [path + [m] for m in err.validator_value
                     if isinstance(err.instance, dict) and m not in err.instance] \
                if err.validator == "required" else [path]
            for p in names:
                section = ".".join(str(x) for x in p[:2]) if p and p[0] == "doNoHarm" \
                    else (str(p[0]) if p else "")
                key = SCREENING_SECTION_KEY.get(section, "registry")
                fld = _field_text(p) or "(screening answers)"
                msg = (f"{fld}: required by the registry's screening schema but missing"
                       if err.validator == "required" else f"{fld}: {_error_message(err)}")
                out.append({"key": key, "severity": "Violation", "field": fld,
                            "source": "schema", "message": msg})
    return out
