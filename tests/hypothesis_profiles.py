"""Hypothesis profiles for the whole suite (loaded by tests/conftest.py).

``ci`` (the default, and what ``.ci/run`` uses): each property runs the number of
examples its ``@settings`` names, derandomized, so a run is reproducible and the
floors on how often a property exercised its cases cannot flake.  ``dev``
(``PAPEREX_HYPOTHESIS=dev``): five times the examples, random seeds, the example
database on, for a longer local hunt.  Properties whose ``@given`` is inside the
test (to check floors after all examples) scale with ``examples(n)``.
"""
from __future__ import annotations

import os

from hypothesis import settings

BASE_EXAMPLES = 100         # hypothesis's own default: the unit the scale is measured in
settings.register_profile("ci", max_examples=BASE_EXAMPLES, derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", max_examples=5 * BASE_EXAMPLES)
PROFILE = os.environ.get("PAPEREX_HYPOTHESIS", "ci")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """``n`` examples under ``ci``, scaled up under a longer profile."""
    return max(1, n * settings.default.max_examples // BASE_EXAMPLES)


def scale_explicit(test) -> None:
    """An explicit ``@settings(max_examples=n)`` overrides the profile: scale it too
    (a test without one already runs the profile's count)."""
    own = getattr(test, "_hypothesis_internal_use_settings", None)
    if own is None or not getattr(test, "is_hypothesis_test", False):
        return
    if settings.default.max_examples != BASE_EXAMPLES and own.max_examples != settings.default.max_examples:
        test._hypothesis_internal_use_settings = settings(own, max_examples=examples(own.max_examples))
