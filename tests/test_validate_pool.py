"""The /validate pool: a run's deadline counts from when its process takes it up, and a
run past it is ended without ending anyone else's (pebble's per-task timeout)."""

from __future__ import annotations

import time
from concurrent.futures import TimeoutError as FutureTimeout

import pytest

from dpgkg.web import create_app
from dpgkg.web import validate as view


def nap(seconds: float) -> float:
    """A run that takes `seconds` (runs in the validation process)."""
    time.sleep(seconds)
    return seconds


@pytest.fixture(scope="module")
def pool(mini_settings, shared):
    settings = mini_settings.with_(sources=str(shared))
    with create_app(settings, {"TESTING": True}).app_context():
        view.warm(settings)
        yield view._executor()
    view.shutdown()


def test_a_queued_run_is_not_timed_out_by_its_wait(pool):
    # one process: the second run waits ~1.5 s behind the first, longer than the
    # deadline left after its submission would allow if the wait counted
    first = pool.schedule(nap, args=(1.5,), timeout=2.0)
    second = pool.schedule(nap, args=(1.5,), timeout=2.0)
    t0 = time.monotonic()
    assert first.result() == 1.5
    assert second.result() == 1.5
    assert time.monotonic() - t0 >= 2.9  # they really ran one after the other


def test_a_run_past_its_deadline_ends_only_itself(pool):
    slow = pool.schedule(nap, args=(30,), timeout=1.0)
    queued = pool.schedule(nap, args=(0.2,), timeout=5.0)
    with pytest.raises(FutureTimeout):
        slow.result()
    assert queued.result() == 0.2  # run by the fresh process the pool started
