"""Calibration of the synthetic market against recorded cascades (issue #19).

* :mod:`.tape` - a projection of committed results (or a journal) into what a
  cascade looked like: index, funding, open interest, book, volume, liquidations.
* :mod:`.metrics` - the figures of one run.
* :mod:`.bands` - the real reference bands and their sources.
* :mod:`.run` - ``paperex calibrate``: run a scenario per seed on the virtual
  clock and judge each figure against its band.
"""
from exchange.flow.calibration.bands import bands_for, not_applicable_for, within
from exchange.flow.calibration.metrics import METRICS, compute
from exchange.flow.calibration.tape import CascadeTape

__all__ = ["CascadeTape", "METRICS", "bands_for", "compute", "not_applicable_for", "within"]
