"""Suite-wide: the hypothesis profile (``PAPEREX_HYPOTHESIS=ci|dev``, see
hypothesis_profiles.py) is loaded before any test module is imported."""
from hypothesis_profiles import PROFILE, scale_explicit, settings


def pytest_report_header(config):
    return f"hypothesis profile: {PROFILE} (max_examples {settings.default.max_examples})"


def pytest_collection_modifyitems(config, items):
    for item in items:
        scale_explicit(getattr(item, "obj", None))
