"""Per-symbol parameters of the synthetic market, in one place.

Everything the synthetic market needs to know about one symbol that is not in
the venue's instrument config lives in a :class:`MarketProfile`: where its
index starts and how it moves, how much more than BTC it moves in a scripted
event (``beta``), and how big its market is (``size_scale``: the multiplier on
every agent's USDT sizes, so makers, takers and position holders of a symbol
scale together and the ratios the calibration checks - resting depth to open
interest, volume to open interest - stay the same).  A new symbol is one more
entry in :data:`DEFAULT_MARKETS` (or a ``SyntheticConfig.markets`` override);
a symbol without one gets :func:`market_profile`'s generic small-cap profile.

Scale.  The agents' default sizes are set for BTCUSDT at the scale of the
Binance tape in ``../shared/data`` (2024-08-08: one-tick spread, about $37 M
within +-0.2 % and at least $48 M within +-1 %, about $26 M of trades a minute
at a quiet hour) with an open interest of a few $ billion, the order of
Binance's BTCUSDT open interest that year.  ETHUSDT's tape shows $22 M within
+-0.2 % and $44 M within +-1 %: about 0.6 of BTC's book.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from exchange.flow.index_process import IndexParams


@dataclass(frozen=True)
class MarketProfile:
    symbol: str
    index: IndexParams
    beta: float = 1.0                 # event move relative to BTC (ETH fell 1.3-1.6x BTC in 2021/2024/2025)
    size_scale: float = 1.0           # multiplier on every agent's USDT sizes for this symbol
    extra: dict = field(default_factory=dict)   # room for per-symbol knobs (issue #21)
    #: None: the index moves on its own (``index.sigma`` is its whole volatility; BTCUSDT, which
    #: IS the market factor).  Else ``index.sigma`` is the idiosyncratic part and each step adds
    #: ``beta`` x the market factor's log move (BTCUSDT's own path, see SyntheticFlow).
    follows_market: bool = False
    tier: int = 1                     # the bundled snapshot's tier (1 BTC/ETH, 2 large caps, 3 the rest)
    #: the symbol's maker ladders as (name, levels, refresh_ms) of SyntheticConfig.makers'
    #: profiles (None: all of them as they are)
    makers: Optional[tuple] = None
    max_holders: Optional[int] = None  # at most this many position holders (None: SyntheticConfig.n_holders)
    max_takers: Optional[int] = None   # at most this many noise takers and momentum traders each

    def with_overrides(self, **kw) -> "MarketProfile":
        return replace(self, **kw)


#: The market factor: BTCUSDT's own index (a market without BTCUSDT still follows this path,
#: drawn from the same seed, unpublished).
FACTOR_SYMBOL = "BTCUSDT"

DEFAULT_MARKETS: dict[str, MarketProfile] = {
    "BTCUSDT": MarketProfile("BTCUSDT", IndexParams("60000", sigma=0.45, jump_rate_per_hour=0.5, jump_sigma=0.002),
                             beta=1.0, size_scale=1.0),
    # ETH: beta 1.4 x the factor's 45 % plus 20 % of its own: 66 % a year, correlation ~0.95 with BTC
    # (the 2024-08-08 tapes in ../shared/data move together tick for tick)
    "ETHUSDT": MarketProfile("ETHUSDT", IndexParams("3000", sigma=0.20, jump_rate_per_hour=0.6, jump_sigma=0.0025),
                             beta=1.4, size_scale=0.6, follows_market=True),
}


#: Per tier of the bundled snapshot (exchange/contract/data/binance_usdm.json), for symbols
#: without an entry in DEFAULT_MARKETS: (beta, idiosyncratic sigma, size_scale, makers,
#: max holders, max takers).  Large caps move 1.3x the market with 45 % of their own (total
#: ~75 % a year), small caps 1.6x with 70 % (total ~100 %), as altcoins against BTC; their
#: books and open interest are a tenth / a fiftieth of BTC's, on fewer, slower ladders (the
#: live market of 117 symbols has to run in a fraction of one core).
TIER_MARKETS: dict[int, tuple] = {
    2: (1.3, 0.45, 0.10, (("tight", 8, 1_500), ("mid", 8, 3_000), ("deep", 10, 6_000)), 40, 2),
    3: (1.6, 0.70, 0.02, (("tight", 5, 2_000), ("deep", 6, 8_000)), 12, 1),
}


def _snapshot_profile(symbol: str):
    from exchange.contract.symbol_sets import snapshot     # the bundled snapshot, read once
    return snapshot()[2].get(symbol)


def market_profile(symbol: str) -> MarketProfile:
    """The profile of ``symbol``: its entry in :data:`DEFAULT_MARKETS`; else, for a symbol of the
    bundled snapshot, its tier's (:data:`TIER_MARKETS`) starting at the snapshot's reference
    price; else a small market at 100."""
    prof = DEFAULT_MARKETS.get(symbol)
    if prof is not None:
        return prof
    snap = _snapshot_profile(symbol)
    tier = snap.tier if snap is not None else 3
    beta, idio, scale, makers, holders, takers = TIER_MARKETS[max(2, tier)]
    price = str(snap.reference_price) if snap is not None else "100"
    return MarketProfile(symbol, IndexParams(price, sigma=idio, jump_rate_per_hour=0.6, jump_sigma=0.003),
                         beta=beta, size_scale=scale, follows_market=True, tier=tier, makers=makers,
                         max_holders=holders, max_takers=takers)


def default_params(symbol: str) -> IndexParams:
    """The symbol's index parameters."""
    return market_profile(symbol).index
