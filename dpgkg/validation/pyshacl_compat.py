"""Patches of pySHACL that make it faster without changing what it validates.

They reach into pySHACL's internals, so they are written for one minor version
(:data:`PYSHACL_MINOR`, pinned in pyproject.toml) and refuse any other: a renamed
attribute would otherwise turn a patch into a silent no-op. ``tests/test_pyshacl_compat.py``
runs patched and plain pySHACL over the whole registry and compares every status.
"""

from __future__ import annotations

import inspect

PYSHACL_MINOR = "0.40"
_applied = False


class _ParamSet(set):
    """pySHACL's list of constraint parameters as a set (it only tests membership, and
    appends in advanced/JS mode)."""

    def append(self, item) -> None:
        self.add(item)

    def copy(self) -> _ParamSet:
        return _ParamSet(self)


def _no_description(self, *args, **kwargs) -> str:
    return ""


def check_version() -> None:
    """Raise when the installed pySHACL is not the minor version the patches were written
    for, or no longer has the hooks they replace."""
    import pyshacl
    import pyshacl.shape as shape_module
    from pyshacl.constraints.constraint_component import ConstraintComponent

    version = getattr(pyshacl, "__version__", "?")
    if version.split(".")[:2] != PYSHACL_MINOR.split("."):
        raise RuntimeError(f"pySHACL {version} is installed but dpgkg's patches "
                           f"(dpgkg/validation/pyshacl_compat.py) are written for "
                           f"{PYSHACL_MINOR}.x: install pyshacl=={PYSHACL_MINOR}.*")
    # The module-level cache the first patch fills, read in Shape.validate.
    if "CONSTRAINT_PARAMS" not in inspect.getsource(shape_module.Shape.validate):
        raise RuntimeError("pySHACL's Shape.validate no longer reads CONSTRAINT_PARAMS: "
                           "dpgkg/validation/pyshacl_compat.py needs revisiting")
    if not hasattr(ConstraintComponent, "make_v_result_description"):
        raise RuntimeError("pySHACL has no ConstraintComponent.make_v_result_description: "
                           "dpgkg/validation/pyshacl_compat.py needs revisiting")


def apply_patches() -> None:
    """Two patches of pySHACL (idempotent). First, pySHACL looks each shape predicate up
    in a *list* of ~40 constraint parameters, for every shape evaluation (nested
    sh:node/sh:or/sh:not shapes are evaluated once per value node): a third of the run
    time is rdflib term comparisons. Giving it the same parameters as a set (its
    module-level cache, filled on first use) removes that cost without changing what is
    validated."""
    global _applied
    if _applied:
        return
    check_version()
    import pyshacl.shape as shape_module
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
    from pyshacl.constraints.constraint_component import ConstraintComponent

    shape_module.CONSTRAINT_PARAMS = (_ParamSet(ALL_CONSTRAINT_PARAMETERS),
                                      CONSTRAINT_PARAMETERS_MAP)
    # pySHACL also writes a text description of every result it makes, including the
    # many that sh:not and sh:or make and throw away (a "No" to a condition): a tenth
    # of the time. Only its text report shows them; the results are read from the report
    # graph here, which does not carry them.
    ConstraintComponent.make_v_result_description = _no_description
    _applied = True
