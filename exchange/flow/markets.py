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

from exchange.flow.index_process import IndexParams


@dataclass(frozen=True)
class MarketProfile:
    symbol: str
    index: IndexParams
    beta: float = 1.0                 # event move relative to BTC (ETH fell 1.3-1.6x BTC in 2021/2024/2025)
    size_scale: float = 1.0           # multiplier on every agent's USDT sizes for this symbol
    extra: dict = field(default_factory=dict)   # room for per-symbol knobs (issue #21)

    def with_overrides(self, **kw) -> "MarketProfile":
        return replace(self, **kw)


DEFAULT_MARKETS: dict[str, MarketProfile] = {
    "BTCUSDT": MarketProfile("BTCUSDT", IndexParams("60000", sigma=0.45, jump_rate_per_hour=0.5, jump_sigma=0.002),
                             beta=1.0, size_scale=1.0),
    "ETHUSDT": MarketProfile("ETHUSDT", IndexParams("3000", sigma=0.60, jump_rate_per_hour=0.6, jump_sigma=0.0025),
                             beta=1.4, size_scale=0.6),
}


def market_profile(symbol: str) -> MarketProfile:
    """The profile of ``symbol``: its entry in :data:`DEFAULT_MARKETS`, else a small market."""
    prof = DEFAULT_MARKETS.get(symbol)
    if prof is not None:
        return prof
    return MarketProfile(symbol, IndexParams("100", sigma=0.8), beta=1.6, size_scale=0.05)


def default_params(symbol: str) -> IndexParams:
    """The symbol's index parameters."""
    return market_profile(symbol).index
