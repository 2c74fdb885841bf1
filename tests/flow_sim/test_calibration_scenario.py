"""One named scenario against its recorded bands, seed 1, within the CI budget.

adl-2025-10-10 is the shortest recorded cascade (its main leg is 45 minutes);
the test keeps the event as it is and shortens only the quiet parts around it
(warm-up 30 min with entries in its first 9, rebound 20 min, 10 min after),
so the run is 1 h 45 min of simulated time.  The full calibration (every named
scenario, seeds 1-3, default durations) is `paperex calibrate`'s output in
docs/calibration.md.
"""
from exchange.flow.calibration import bands_for, within
from exchange.flow.calibration.run import run_one

OVERRIDES = {"start_s": 1800, "entry_window": 0.3, "rebound_s": 1200, "after_s": 600}
#: the figures whose bands need the whole aftermath (the rebound's end, funding hours later)
#: are judged by the full calibration only
NEEDS_FULL_RUN = {"rebound", "funding_after"}


def test_adl_2025_10_10_seed_1_within_its_bands():
    figures = run_one("adl-2025-10-10", 1, OVERRIDES)
    bands = bands_for("adl-2025-10-10")
    judged = {k: b for k, b in bands.items() if k not in NEEDS_FULL_RUN}
    assert len(judged) >= 15
    outside = {k: (figures[k], b[:2]) for k, b in judged.items() if not within(figures[k], b)}
    assert not outside, outside
    # the day the book could not absorb it: a real share went to ADL, the rest mostly through the book
    assert figures["liq_share_adl"] >= 0.05 and figures["liq_share_book"] >= 0.2
