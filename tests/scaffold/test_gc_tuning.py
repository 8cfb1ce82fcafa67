"""Collector settings for run processes: startup objects frozen, young collections rarer."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
import sys
gc.set_threshold({start}, 10, 10)
from scaffold.gc_tuning import YOUNG_THRESHOLD, settle_for_runs
settle_for_runs()
frozen = gc.get_freeze_count()
threshold = gc.get_threshold()
settle_for_runs()
print(frozen, gc.get_freeze_count(), threshold[0], threshold[1], threshold[2], YOUNG_THRESHOLD,
      'litellm' in sys.modules)
"""


def _settle(start: int) -> list[str]:
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(start=start)], check=True,
                         capture_output=True, text=True).stdout
    return out.split()


def test_settling_freezes_startup_objects_once_and_raises_the_young_threshold():
    frozen, frozen_again, young, middle, old, target, litellm_loaded = _settle(700)
    assert int(frozen) > 10_000  # modules, litellm's tables: out of the full collections
    assert frozen_again == frozen  # once per process: later runs do not freeze their objects
    assert int(young) == int(target) > 700
    assert (middle, old) == ("10", "10")
    assert litellm_loaded == "True"  # loaded before the freeze, so its tables are frozen too


def test_a_higher_young_threshold_set_by_the_user_is_kept():
    assert int(_settle(500_000)[2]) == 500_000
