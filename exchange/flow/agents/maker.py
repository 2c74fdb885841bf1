"""Market makers: post-only ladders around the index, skewed by inventory,
widened by volatility and by the scenario, thinned when the scenario pulls depth.

Prices sit on a grid of ``spacing`` ticks, so when the index moves a little
only the ends of the ladder change: the maker moves its outermost orders to
the new inner prices with one ``ModifyOrder`` each instead of re-posting the
whole ladder.  Orders are GTX (post-only): a maker never takes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from exchange.units import MONEY_SCALE
from exchange.contract import codes as C
from exchange.contract.commands import CancelOrder, ModifyOrder, NewOrder

from exchange.flow.agents.base import Agent, MarketView, StepContext


@dataclass(frozen=True)
class MakerProfile:
    name: str
    levels: int = 12                   # orders per side
    spacing_bps: float = 0.1           # grid step between levels
    half_spread_bps: float = 0.2       # from the centre to the first level
    size_usdt: float = 5_000.0         # notional of the first level
    size_growth: float = 0.15          # each level further out is this much bigger
    refresh_ms: int = 2_000            # re-quote at least this often
    skew_bps: float = 2.0              # centre shift at full inventory
    max_inventory_usdt: float = 500_000.0
    vol_spread_k: float = 1.0          # spread x (1 + k * (realized vol ratio - 1)+)
    deposit_usdt: float = 5_000_000.0
    leverage: int = 10
    size_jitter: float = 0.3           # fixed per level, drawn once
    withdraw_share: float = 1.0        # share of the scenario's depth withdrawal this maker follows ...
    widen_share: float = 1.0           # ... and of its spread widening


#: Default ladders per symbol (priced relative to the index, so they fit BTC and ETH; sizes in
#: USDT at BTCUSDT's scale, times the symbol's ``size_scale``): a tight top-of-book maker, two
#: mid-book makers, a deep ladder and the book beyond them ("far", from 0.5 %).  Together about
#: $40 M within +-0.2 % and $95 M within +-1 % of the mid, the Binance BTCUSDT tape's book (``../shared/data``: $37 M within +-0.2 %,
#: at least $48 M within +-1 % - its 1000-level snapshot ends at 0.24 %).
DEFAULT_MAKERS: tuple[MakerProfile, ...] = (
    MakerProfile("tight", levels=12, spacing_bps=0.05, half_spread_bps=0.02, size_usdt=100_000,
                 size_growth=0.2, refresh_ms=1_000, skew_bps=1.0, max_inventory_usdt=30_000_000,
                 deposit_usdt=100_000_000),
    MakerProfile("mid", levels=16, spacing_bps=0.3, half_spread_bps=0.5, size_usdt=200_000,
                 size_growth=0.15, refresh_ms=2_000, skew_bps=2.0, max_inventory_usdt=100_000_000,
                 deposit_usdt=300_000_000),
    MakerProfile("mid2", levels=16, spacing_bps=0.7, half_spread_bps=1.0, size_usdt=150_000,
                 size_growth=0.1, refresh_ms=3_000, skew_bps=3.0, max_inventory_usdt=100_000_000,
                 deposit_usdt=300_000_000),
    MakerProfile("deep", levels=20, spacing_bps=2.5, half_spread_bps=3.0, size_usdt=800_000,
                 size_growth=0.1, refresh_ms=5_000, skew_bps=5.0, max_inventory_usdt=400_000_000,
                 deposit_usdt=1_000_000_000),
    # the book beyond the others: large resting orders 0.5-4.9 % from the mid that few pull in a
    # crash (the real book holds $100 M+ there).  A liquidation's bankruptcy price lies 0.5-2.5 %
    # (upper brackets: 5 %) from the mark; without these orders the liquidation found an empty
    # book below the other ladders' 0.4 % and went to the insurance fund and ADL.  It re-quotes
    # rarely (40 bp grid, 30 s), so it costs little.  Its levels grow 120 % a level ($1 M at 0.5 %,
    # $2.2 M at 0.9 %, $14.2 M at 4.9 %: $91 M within 4.9 %, ETHUSDT 0.6x that): a liquidation and
    # the fund's takeover are one command, so what this book holds within the take bound (mark +-5 %)
    # is all one large holder's liquidation can meet.  Growing 30 % ($32 M; $13 M on ETHUSDT after a
    # cascade's withdrawal) it held less than the largest shorts a squeeze liquidates ($18-41 M on
    # ETHUSDT at their liquidation: a short's notional grows with the price), which went to ADL.
    MakerProfile("far", levels=12, spacing_bps=40.0, half_spread_bps=50.0, size_usdt=1_000_000,
                 size_growth=1.2, refresh_ms=30_000, skew_bps=10.0, max_inventory_usdt=1_000_000_000,
                 vol_spread_k=0.0, deposit_usdt=3_000_000_000, withdraw_share=0.3, widen_share=0.0),
)


#: how far past ``max_inventory_usdt`` a maker's position notional may grow: its inventory runs
#: past the limit (the skew thins the quotes, fills go on) and a short inventory's notional grows
#: with the price (a squeeze: +30 %, ETH 1.4x that)
INVENTORY_HEADROOM = 1.5


def maker_leverage(p: MakerProfile, market: MarketView) -> int:
    """The leverage a maker sets: its profile's, or lower where the bracket cap at that leverage
    (Binance's maximum position at the chosen leverage, -2027) is under the position it may come to
    hold, ``INVENTORY_HEADROOM`` x its inventory limit, plus a ladder side.  A maker at 10x with a
    $600 M limit on a symbol whose 10x cap is $150 M had its asks rejected (-2027) once a squeeze
    had raised its short inventory's notional: the ask side emptied and the shorts' liquidations
    went to ADL.  (A long inventory's notional shrinks in a crash, so a crash never met the cap.)"""
    s = market.scale
    ladder = sum(p.size_usdt * (1.0 + p.size_growth * k) * (1.0 + p.size_jitter) for k in range(p.levels))
    need = (INVENTORY_HEADROOM * p.max_inventory_usdt + ladder) * s
    lev = max(1, p.leverage)
    while lev > 1 and market.max_notional_usdt(lev) < need:
        lev -= 1
    return lev


class MarketMaker(Agent):
    kind = "maker"

    def __init__(self, account_id: int, symbol: str, profile: MakerProfile) -> None:
        super().__init__(account_id, symbol, deposit_usdt=profile.deposit_usdt, leverage=profile.leverage)
        self.p = profile
        self.kind = "maker-" + profile.name
        self.jitter: list = []
        self.last_center = 0.0
        self.last_mults = (1.0, 1.0)
        self.inv_ratio = 0.0
        self.requotes = 0
        #: this maker's resting orders, order id -> [side, price, qty, filled], kept by the flow from
        #: the committed order events (SyntheticFlow._on_applied)
        self.live: dict = {}
        self.refill_below = 0      # fewer resting orders than this (fills took them): re-quote now

    def setup(self, market: MarketView) -> list:
        self.leverage = maker_leverage(self.p, market)
        return super().setup(market)

    def draw_jitter(self, rng) -> None:
        j = self.p.size_jitter
        self.jitter = [1.0 + j * (2.0 * rng.random() - 1.0) for _ in range(self.p.levels)]

    # ------------------------------------------------------------------ step
    def on_step(self, ctx: StepContext) -> list:
        m: MarketView = ctx.markets[self.symbol]
        st = m.state
        p = self.p
        center = m.index_ticks * (1.0 + st.basis) * (1.0 - p.skew_bps * 1e-4 * self.inv_ratio)
        spacing = max(1.0, m.index_ticks * p.spacing_bps * 1e-4)
        spread_mult = st.spread_mult * (1.0 + p.vol_spread_k * max(0.0, m.vol_ratio - 1.0))
        mults = (st.depth_mult, spread_mult)
        if ctx.now_ms < self.next_ms and abs(center - self.last_center) < 0.5 * spacing \
                and abs(mults[0] - self.last_mults[0]) < 0.1 and abs(mults[1] - self.last_mults[1]) < 0.25 \
                and len(self.live) >= self.refill_below:
            return []
        self.next_ms = ctx.now_ms + int(p.refresh_ms * (0.8 + 0.4 * ctx.rng.random()))
        self.last_mults = mults
        return self.requote(ctx, m, spacing, spread_mult)

    def requote(self, ctx: StepContext, m: MarketView, spacing_f: float, spread_mult: float) -> list:
        p = self.p
        st = m.state
        venue = ctx.venue
        sym = self.symbol
        aid = self.account_id
        self.requotes += 1
        qty = ctx.position(aid, sym)
        inv_usdt = qty * m.index_ticks * m.unit / MONEY_SCALE
        r = inv_usdt / (p.max_inventory_usdt * m.scale) if p.max_inventory_usdt else 0.0
        self.inv_ratio = r = -1.0 if r < -1.0 else (1.0 if r > 1.0 else r)
        center = m.index_ticks * (1.0 + st.basis) * (1.0 - p.skew_bps * 1e-4 * r)
        rising = center >= self.last_center
        self.last_center = center
        spacing = int(spacing_f + 0.5)
        half = max(1.0, m.index_ticks * p.half_spread_bps * 1e-4 * (1.0 + p.widen_share * (spread_mult - 1.0)))
        bid0 = int(math.floor((center - half) / spacing)) * spacing
        ask0 = int(math.ceil((center + half) / spacing)) * spacing
        if ask0 <= bid0:
            ask0 = bid0 + spacing
        share = p.withdraw_share
        if share < 1.0 and st.far_withdrawal is not None:
            share = st.far_withdrawal
        depth = 1.0 - share * (1.0 - st.depth_mult)
        n_levels = max(2, int(p.levels * math.sqrt(depth) + 0.5)) if depth < 1.0 else p.levels
        # long inventory: buy less, but keep a quarter of the size quoting (a maker at its limit
        # skews and thins its quotes; it does not leave the book to the liquidation engine)
        bid_f = max(0.25, min(1.0, 1.0 - r))
        ask_f = max(0.25, min(1.0, 1.0 + r))
        # the maker's resting orders, from the committed order events (SyntheticFlow keeps them:
        # no open_orders query building a dict per order at every re-quote)
        existing = ({}, {})
        spare = ([], [])
        for oid, o in self.live.items():
            side, price = o[0], o[1]
            if price in existing[side]:
                spare[side].append((oid, o))
            else:
                existing[side][price] = (oid, o)
        # the best prices of the others (the book less this maker's own orders): never post
        # through them.  Its own orders do not limit it: the side that retreats is sent first.
        nb, na = len(existing[C.BUY]), len(existing[C.SELL])
        bids, asks = venue.depth(sym, max(nb, na) + 1)
        best = [None, None]
        for side, levels, mine in ((C.BUY, bids, existing[C.BUY]), (C.SELL, asks, existing[C.SELL])):
            for px, q in levels:
                own = mine.get(px)
                if own is None or q > own[1][2] - own[1][3]:
                    best[side] = px
                    break
        jit = self.jitter
        nj = len(jit)
        scale, size0, growth = m.scale, p.size_usdt, p.size_growth
        unit, min_notional = m.unit, m.min_notional
        out_side = ([], [])
        cancels = []
        news = 0
        for side, start, step, f in ((C.BUY, bid0, -spacing, bid_f), (C.SELL, ask0, spacing, ask_f)):
            tgt: dict = {}
            if f > 0.05:
                for k in range(n_levels):
                    price = start + step * k
                    if price <= 0:
                        break
                    # the jitter belongs to the grid price, not to the level: when the ladder shifts
                    # by a level, the orders that stay keep their size (no ModifyOrder for nothing)
                    usdt = scale * size0 * (1.0 + growth * k) * jit[(price // spacing) % nj] * depth * f
                    # MarketView.lots_for, inline (a call per level was a fifth of the re-quote)
                    per_lot = price * unit
                    lots = int(usdt * MONEY_SCALE / per_lot)
                    least = -(-min_notional // per_lot) + 1
                    tgt[price] = lots if lots >= least else least
            cmds = out_side[side]
            free = spare[side]
            for price, (oid, o) in existing[side].items():
                if price not in tgt:
                    free.append((oid, o))
                    continue
                want = tgt.pop(price)
                rem = o[2] - o[3]
                # re-size only when the order is far from its target (a fill took most of it, or
                # the maker pulled or added depth): small differences change nothing worth a command
                if rem * 2 < want or rem * 2 > want * 3:
                    cmds.append(ModifyOrder(aid, sym, oid, price, o[3] + want))
            # targets not yet quoted, inside first; never through the others' best
            limit = best[1 - side]
            if side == C.BUY:
                order = sorted((px for px in tgt if limit is None or px < limit), reverse=True)
                free.sort(key=lambda e: e[1][1])              # farthest (lowest) bid first
            else:
                order = sorted(px for px in tgt if limit is None or px > limit)
                free.sort(key=lambda e: -e[1][1])
            fi = 0
            for px in order:
                want = tgt[px]
                if fi < len(free):
                    oid, o = free[fi]
                    fi += 1
                    cmds.append(ModifyOrder(aid, sym, oid, px, o[3] + want))
                else:
                    cmds.append(NewOrder(aid, sym, side, C.LIMIT, C.GTX, want, px))
                    news += 1
            for oid, o in free[fi:]:
                cancels.append(CancelOrder(aid, sym, oid))
        self.orders_sent += news
        self.refill_below = (len(self.live) - len(cancels) + news) * 3 // 4
        # the side that moves away from the other goes first, so the other never meets its stale quotes
        if rising:
            return cancels + out_side[C.SELL] + out_side[C.BUY]
        return cancels + out_side[C.BUY] + out_side[C.SELL]
