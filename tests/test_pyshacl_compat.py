"""dpgkg's pySHACL patches (dpgkg/validation/pyshacl_compat.py) change speed, never results:
the whole registry validated by patched and by plain pySHACL gets the same status for every
record and indicator. Plain pySHACL runs in its own process, so no patch can leak into it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dpgkg.config import Settings
from dpgkg.validation import pyshacl_compat, validate_registry

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

pytestmark = pytest.mark.skipif(not (SHARED / "registry").is_dir(),
                                reason="../shared (the registry) absent")

# Validates the registry with the patches switched off, and says whether pySHACL was
# left as it ships (the hooks the patches replace are pySHACL's own).
PLAIN = """
import json, sys
import pyshacl.shape as shape
from pyshacl.constraints.constraint_component import ConstraintComponent
from dpgkg.config import Settings
from dpgkg.validation import pyshacl_compat, validate_registry

original = ConstraintComponent.make_v_result_description
pyshacl_compat.apply_patches = lambda: None
outs = validate_registry(sys.argv[1], Settings(sources=sys.argv[2]))
params = getattr(shape, "CONSTRAINT_PARAMS", (None, None))[0]
print(json.dumps({
    "plain": not isinstance(params, pyshacl_compat._ParamSet)
             and ConstraintComponent.make_v_result_description is original,
    "statuses": {o.source: {k: v["status"] for k, v in o.indicators.items()} for o in outs},
}))
"""


def _statuses(outcomes) -> dict[str, dict[str, str]]:
    return {o.source: {k: v["status"] for k, v in o.indicators.items()} for o in outcomes}


def test_patched_and_plain_pyshacl_agree_on_the_whole_registry():
    registry = str(SHARED / "registry")
    patched = _statuses(validate_registry(registry, Settings(sources=str(SHARED))))
    from pyshacl import shape

    # the patches were really applied in this process (else the comparison is moot)
    assert isinstance(shape.CONSTRAINT_PARAMS[0], pyshacl_compat._ParamSet)
    run = subprocess.run([sys.executable, "-c", PLAIN, registry, str(SHARED)], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=900, check=True)
    plain = json.loads(run.stdout.strip().splitlines()[-1])
    assert plain["plain"], "the plain run was patched"
    assert len(patched) >= 750
    assert plain["statuses"].keys() == patched.keys()
    differ = {src: (patched[src], plain["statuses"][src]) for src in patched
              if patched[src] != plain["statuses"][src]}
    assert not differ, f"patched and plain pySHACL disagree: {differ}"
    # the registry exercises every status, so agreeing is not agreeing on "pass" alone
    seen = {s for ind in patched.values() for s in ind.values()}
    assert seen == {"pass", "fail", "not-applicable", "not-answered"}


def test_patches_refuse_another_pyshacl(monkeypatch):
    import pyshacl

    monkeypatch.setattr(pyshacl, "__version__", "0.99.0")
    with pytest.raises(RuntimeError, match="written for 0.40"):
        pyshacl_compat.check_version()


def test_patches_fit_the_installed_pyshacl():
    pyshacl_compat.check_version()
