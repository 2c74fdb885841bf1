"""Real reference bands per scenario and metric, with where each figure comes from.

A band is ``(low, high, real, source)``: the measured value must lie within
``[low, high]``; ``real`` is the recorded figure it was set around (text) and
``source`` says where that figure comes from (``docs/calibration.md`` lists the
sources in full).  ``None`` for low or high: unbounded on that side.  A metric a
scenario has no band for is printed but not judged; a metric that does not apply
to what a scenario models (a slow trend has no liquidation cascade) is listed in
:data:`NOT_APPLICABLE` with the reason, and the tool prints it as not applicable.

Liquidation routing is judged on ``liq_share_market`` (executed in the book, by the
liquidation order or by the insurance fund's takeover order) against ADL: on Binance a
liquidation that cannot fill at its bankruptcy price is still closed in the market by the
liquidation engine, the fund covering the loss below bankruptcy; only what the market cannot
take goes to ADL.  The reference figures ("the book absorbed them", "wide ADL") are about
that split; ``liq_share_book`` / ``liq_share_insurance`` say who bore the loss and are shown,
not judged.

Market-wide figures (liquidations, open interest) are the aggregators' numbers
(Coinglass / Bybt, Glassnode) as the press reported them; the book figures are
measured on the Binance BTCUSDT tape in ``../shared/data`` (2024-08-08); where
no recorded figure was available the band is an estimate and says so.
"""
from __future__ import annotations

from typing import Optional

Band = tuple  # (low, high, real, source)

TAPE = "Binance BTCUSDT tape 2024-08-08 (../shared/data): one-tick spread (0.02 bps), $37 M within +-0.2 %, >= $48 M within +-1 %, OI ~$5 B"
EST = "estimate (no recorded figure in ../shared/data; see docs/calibration.md)"

#: the resting book and quiet-market funding, every scenario
BOOK: dict[str, Band] = {
    "spread_bps": (0.0, 1.0, "1 tick = 0.02 bps", TAPE),
    "depth_02_over_oi": (0.003, 0.03, "$37 M / ~$5 B = 0.7 %", TAPE),
    "depth_1_over_oi": (0.006, 0.06, ">= $48 M / ~$5 B >= 1 %", TAPE),
}
QUIET_FUNDING: dict[str, Band] = {
    "funding_before": (0.0, 0.03, "0.01 % (base rate) in quiet markets",
                       "Binance BTCUSDT funding history"),
}

#: a generic cascade (crash; a squeeze mirrors it)
GENERAL: dict[str, Band] = {
    "drawdown": (0.08, 0.35, "-10..-30 % (2021-05-19, 2024-08-05, 2025-10-10)", "see the named scenarios"),
    "time_to_bottom_h": (0.5, 6.0, "45 min (2025) .. 2.5 h (2021) .. 4 h (2024)", "see the named scenarios"),
    "max_1m_move": (0.004, 0.05, "about 1-4 %", EST),
    "rebound": (0.2, 0.8, "36-70 % of the fall", "see the named scenarios"),
    "liquidated_over_oi": (0.005, 0.30, "1.2 % (2024) .. 20 % (2021)", "see the named scenarios"),
    "oi_drop": (0.08, 0.45, "-15..-35 %", "see the named scenarios"),
    "liq_share_market": (0.7, 1.0, "most through the book (ADL only on 2025-10-10)", "Binance ADL history, issue #19"),
    "liq_share_adl": (0.0, 0.1, "rare outside 2025-10-10", "Binance ADL history, issue #19"),
    "insurance_change": (-0.25, 0.5, "the fund grows from liquidation surplus", "Binance insurance fund history"),
    "funding_during": (-0.1, 0.01, "negative in the crash", "Binance funding history"),
    "funding_after": (-0.05, 0.02, "-0.004..-0.009 % (2024)", "Binance BTCUSDT funding history"),
    "depth_drain": (0.3, 0.9, "about -50 % (2024)", "Kaiko market depth, issue #19"),
    "volume_surge": (2.0, 30.0, "record days: 3-10x an average hour", EST),
    "eth_btc_beta": (1.1, 1.8, "1.3-1.6", "see the named scenarios"),
}

_C21 = "2021-05-19: Bybt/Coinglass via press (CoinTelegraph, currencies.ru, prjmp.com)"
_C24 = "2024-08-05: Coinglass via CoinTelegraph / Binance Square; coinguan.com"
_C25 = "2025-10-10: CoinShares, Coinglass, Glassnode via press (pakgazette, followin, binance.bh)"
#: funding 8 h after the bottom.  The recorded figure is Binance BTCUSDT's funding after the crash,
#: -0.004..-0.009 % (issue #19, for 2021-05-19 and 2024-08-05); for 2025-10-10 the press reports
#: BTC and ETH perp funding "slightly negative" two days on, the market's lowest since 2022
#: (Glassnode, CoinGlass, 2025-10-12/13).  The band asks for the sign and the size: below
#: -0.001 % (a negative rate, not the 0.01 % base) and no deeper than about twice the deepest
#: recorded figure (-0.02 %), room for one venue against the market's average.
_F8 = (-0.02, -0.001)
_F8_SRC = "Binance BTCUSDT funding history; issue #19"
_F8_SRC25 = "Glassnode, CoinGlass via coincentral / viralnado (2025-10-12/13)"

NAMED: dict[str, dict[str, Band]] = {
    "cascade-2021-05-19": {
        "drawdown": (0.25, 0.36, "BTC 43.8k -> ~30k intraday: -30 %", _C21),
        "time_to_bottom_h": (1.0, 4.0, "main leg ~12:00 -> 13:30 UTC after a morning slide", _C21),
        "max_1m_move": (0.01, 0.06, "several %", EST),
        "rebound": (0.3, 0.75, "back to 37-40k by the close: 50-70 % of the fall", _C21),
        "liquidated_over_oi": (0.10, 0.30, "$8.6 B liquidated; about 20 % of open interest", _C21 + "; issue #19"),
        "oi_drop": (0.18, 0.45, "-26 % (BTC); -35 % all crypto futures", _C21 + "; issue #19"),
        "liq_share_market": (0.8, 1.0, "the book absorbed them", "issue #19"),
        "liq_share_adl": (0.0, 0.05, "no wide ADL", "issue #19"),
        "insurance_change": (-0.1, 1.0, "Binance's fund grew", "Binance insurance fund history"),
        "funding_before": (0.005, 0.10, "funding 'super high for a very long time' (CoinGecko)", _C21),
        "funding_during": (-0.1, 0.01, "flips negative", _C21),
        "funding_after": (-0.05, 0.02, "mostly negative", _C21),
        "funding_8h_after": _F8 + ("-0.004..-0.009 %", _F8_SRC),
        "depth_drain": (0.3, 0.9, "book thinned, not emptied", EST),
        "volume_surge": (2.0, 30.0, "record volume day", EST),
        "eth_btc_beta": (1.2, 1.7, "ETH 3,400 -> 1,900 (-44 %) vs BTC -30 %", _C21),
    },
    "cascade-2024-08-05": {
        "drawdown": (0.12, 0.20, "BTC 61k -> 49k: -15..-20 % intraday; -15 % in < 5 h", _C24 + "; issue #19"),
        "time_to_bottom_h": (2.0, 5.5, "-10 % in < 2 h, the low within about 4-5 h", _C24 + "; issue #19"),
        "max_1m_move": (0.004, 0.03, "about 1-2 %", EST),
        "rebound": (0.25, 0.7, "back to ~54k by the close: about 40-50 % of the fall", _C24),
        "liquidated_over_oi": (0.004, 0.03, "$1.08 B liquidated: about 1.2 % of open interest", _C24 + "; issue #19"),
        "oi_drop": (0.10, 0.28, "-15 % (all crypto futures); -17..-19 % (BTC)", _C24 + "; issue #19"),
        "liq_share_market": (0.8, 1.0, "the book absorbed them", "issue #19"),
        "liq_share_adl": (0.0, 0.05, "no ADL", "issue #19"),
        "insurance_change": (-0.1, 0.5, "fund unchanged or growing", "Binance insurance fund history"),
        "funding_before": (0.0, 0.02, "near the 0.01 % base", "Binance BTCUSDT funding history"),
        "funding_during": (-0.05, 0.01, "slightly negative", "Binance BTCUSDT funding history"),
        "funding_after": (-0.03, 0.01, "-0.004..-0.009 %", "Binance BTCUSDT funding history; issue #19"),
        "funding_8h_after": _F8 + ("-0.004..-0.009 %", _F8_SRC),
        "depth_drain": (0.3, 0.75, "depth within 1 % about halved", "Kaiko; issue #19"),
        "volume_surge": (2.0, 30.0, "record volume day", EST),
        "eth_btc_beta": (1.2, 1.8, "ETH -22..-25 % vs BTC -15 %", _C24),
    },
    "adl-2025-10-10": {
        "drawdown": (0.10, 0.18, "BTC 122.6k -> 104.8k: -14 %; -12 % in 45 min", _C25),
        "time_to_bottom_h": (0.3, 1.5, "20:50 -> ~21:20-21:40 UTC", _C25),
        "max_1m_move": (0.01, 0.06, "$3.2 B liquidated in the peak minute (21:15)", _C25 + "; " + EST),
        "rebound": (0.2, 0.7, "back to ~112k: about 40 %", _C25),
        "liquidated_over_oi": (0.05, 0.30, "$19 B liquidated; OI -$10..-14 B of ~$70 B BTC", _C25),
        "oi_drop": (0.12, 0.40, "BTC perp OI -18.6 %; Binance BTC OI $16 B -> $12 B", _C25),
        "liq_share_market": (0.2, 0.95, "the book could not absorb them", _C25),
        "liq_share_adl": (0.05, 0.6, "wide ADL (Binance, Hyperliquid's first in two years)", _C25),
        "insurance_change": (-1.0, 0.5, "funds drawn", EST),
        "funding_before": (0.01, 0.06, "funding near 40 % a year (0.036 % / 8 h)", _C25),
        "funding_during": (-0.3, 0.01, "deeply negative", EST),
        "funding_after": (-0.1, 0.02, "negative, returning", EST),
        "funding_8h_after": _F8 + ("slightly negative two days on (BTC, ETH perps)", _F8_SRC25),
        "depth_drain": (0.8, 1.0, "depth collapsed by about 98 % at the worst", _C25),
        "volume_surge": (3.0, 60.0, "record", EST),
        "eth_btc_beta": (1.0, 1.6, "ETH -16..-20 % vs BTC -12..-14 %", _C25),
    },
}


#: a squeeze: the mirror of GENERAL where the figure is direction-free; funding goes positive, and
#: open interest is judged in contracts (see NOT_APPLICABLE["squeeze"] for why not in USDT).
#: In the recorded crashes the open interest in USDT fell about as much as the price: 2024-08-05
#: -17..-19 % at BTC -15..-20 %, 2025-10-10 -18.6 % (Binance $16 B -> $12 B) at -14 %, 2021-05-19
#: -26 % at -30 %: the contracts themselves fell 0-13 % at the low.  A cascade closes at least the
#: liquidated positions (0.5-30 % of open interest) before new ones replace them.
SQUEEZE: dict[str, Band] = {
    "funding_during": (-0.01, 0.1, "positive in a squeeze", "Binance funding history"),
    "funding_after": (-0.02, 0.05, "positive, returning", "Binance funding history"),
    "oi_drop_contracts": (0.01, 0.25, "contracts -0..-13 % at the low (open interest in USDT less the price move "
                                      "in 2021, 2024, 2025)", "see the named scenarios; " + EST),
}

#: ordinary hours, no event on the index (a trend's drift, a funding spike): 1-minute moves stay
#: well under a cascade's
QUIET_MOVES: dict[str, Band] = {
    "max_1m_move": (None, 0.01, "BTC's 1-minute moves in ordinary hours: under 0.5-1 %", EST),
}

#: a steady trend: the perp a few bp over (under) the index; the funding estimate stays near its
#: base, as in a quiet market (strong bull runs push it to 0.03-0.1 %)
TREND: dict[str, Band] = {
    "funding_during": (-0.02, 0.05, "near the 0.01 % base in a steady trend", "Binance BTCUSDT funding history; " + EST),
    "eth_btc_beta": GENERAL["eth_btc_beta"],
}

#: a funding spike: the perp's premium pushes the estimate well above its base toward the cap
#: (BTCUSDT's 0.30 %; the 2021 bull market's highs 0.1-0.3 % / 8 h)
FUNDING_SPIKE: dict[str, Band] = {
    "funding_during": (0.05, 0.30, "well above the 0.01 % base, up to the cap (0.3 %)", "Binance funding history; " + EST),
}

_NO_CASCADE = "no liquidation cascade modelled: holders are liquidated one at a time, if at all"
_NO_EVENT_MOVE = "the index does not move in a funding spike (the perp's quotes do)"
#: the figures of a liquidation cascade: not applicable where none is modelled
_CASCADE_METRICS = {m: _NO_CASCADE for m in (
    "liquidated_over_oi", "oi_drop", "oi_drop_contracts", "liq_share_market", "liq_share_book",
    "liq_share_insurance", "liq_share_adl", "insurance_change")}

#: metric -> why it does not apply, per general scenario (judged by the tool as not applicable)
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    "squeeze": {
        "oi_drop": "open interest in USDT at the mark rises with the price in a squeeze even as shorts "
                   "are closed; judged in contracts (oi_drop_contracts)",
    },
    "trend": {
        "drawdown": "a drift at the drawn rate (2-5 %/h), not a recorded event's size",
        "time_to_bottom_h": "a trend has no bottom: its extreme is wherever the run ends",
        "rebound": "no rebound modelled: the drift goes on",
        **_CASCADE_METRICS,
        "funding_after": "the drift does not end within the run: 'after' would be 'during'",
        "depth_drain": "makers do not pull depth in a trend (nothing in the scenario drains the book)",
        "volume_surge": "no volume event modelled: takers lean with the drift, they do not multiply",
    },
    "funding-spike": {
        "drawdown": _NO_EVENT_MOVE,
        "time_to_bottom_h": _NO_EVENT_MOVE,
        "rebound": _NO_EVENT_MOVE,
        "eth_btc_beta": _NO_EVENT_MOVE,
        **_CASCADE_METRICS,
        "liquidated_over_oi": _NO_CASCADE + "; the mark moves by the premium only",
        "funding_after": "the estimate averages the premium over the whole 8 h interval (spec 2.2), so it stays "
                         "near the spike's level until the next settlement, beyond the run",
        "depth_drain": "makers widen their quotes 1.5x in a spike; they do not pull depth",
        "volume_surge": "no volume event modelled: takers lean toward buying, they do not multiply",
    },
}


def bands_for(scenario: str) -> dict[str, Band]:
    """Every band that applies to ``scenario``."""
    out = dict(BOOK)
    if scenario in NAMED:
        out.update(NAMED[scenario])
    elif scenario in ("crash", "squeeze"):
        out.update(QUIET_FUNDING)
        out.update(GENERAL)
        if scenario == "squeeze":       # the mirror: funding goes positive, open interest in contracts
            out.update(SQUEEZE)
    elif scenario == "trend":
        out.update(QUIET_FUNDING)
        out.update(QUIET_MOVES)
        out.update(TREND)
    elif scenario == "funding-spike":
        out.update(QUIET_FUNDING)
        out.update(QUIET_MOVES)
        out.update(FUNDING_SPIKE)
    else:
        out.update(QUIET_FUNDING)
    for name in NOT_APPLICABLE.get(scenario, ()):
        out.pop(name, None)
    return out


def not_applicable_for(scenario: str) -> dict[str, str]:
    """Metric -> why it does not apply to what ``scenario`` models."""
    return dict(NOT_APPLICABLE.get(scenario, {}))


def within(value: Optional[float], band: Band) -> bool:
    lo, hi = band[0], band[1]
    if value is None:
        return False
    return (lo is None or value >= lo) and (hi is None or value <= hi)
