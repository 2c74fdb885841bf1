"""Liquidation: the liquidation-price index, the liquidation engine, the insurance fund and ADL.

A mixin of ``Venue``.

Index (ARCHITECTURE rule 7).  Every symbol keeps two sorted multisets
(``liqindex.LiqIndex``: C++ when compiled, else a SortedList) of items
``(key, account_id, group)``: ``liq_falls`` (checked when mark <= key: net
longs) and ``liq_rises`` (mark >= key: net shorts).  ``group`` is 3 for an
account's cross positions in the symbol (one-way BOTH, or cross hedge LONG and
SHORT together) and the position side (0/1/2) for an isolated position.  A
mark move from ``old`` to ``new`` touches only the items whose key it reached
(two bisections), marks their accounts dirty, and the risk pass re-examines
exactly those accounts.  Keys are conservative (never later than the exact
integer trigger, see ``exchange.perp.index_key``); the exact integer check decides.

Cross hedge legs of one symbol (LONG and SHORT both open) can be liquidated on
either side of the mark, so they get a band instead of one key: two items
``mark -/+ w`` (groups 3 and 4) with ``w`` the ticks the symbol's share of the
slack survives at the steepest possible slope (|net qty| + gross qty x the top
bracket's MMR); the account is re-examined when the mark leaves the band.

Cross accounts with positions in several symbols: the account's margin slack
``MB - MM`` at the current marks is split evenly between its symbols; each
symbol's key is where that symbol alone would use up its share with the other
symbols' marks fixed.  While every mark stays on the safe side of its key the
account provably keeps ``MB > MM``; when one is reached the account is
re-examined at all current marks (and re-split).  Isolated positions and
single-symbol cross accounts get their exact liquidation price.

Risk pass (``settle_risk``, run at the end of every command that moved a
mark, a wallet or a position): each dirty account, in account-id order, is
re-indexed; if it is at or below maintenance margin it is liquidated:

1. MarginCall rows; the account's open orders on the symbol are canceled
   (book and conditional orders, reason CANCEL_LIQUIDATION).
2. Cross hedge: the LONG and SHORT legs are first netted at the mark.
3. Above the first bracket, one IOC sized to bring the position into the next
   lower bracket (Binance's partial liquidation); if the account / isolated
   position is then above maintenance margin, it stops there.
4. Otherwise the rest: a LIQUIDATION order, LIMIT IOC at the bankruptcy price,
   against the book (ForceOrder event; no trading fee for the liquidated side,
   client order id ``autoclose-<id>``).  What the book does not take, the
   insurance fund takes over at the bankruptcy price as far as it can afford to
   dispose of it in the book within the market take bound (the fund bears the
   difference); the remainder is auto-deleveraged at the bankruptcy price
   against the opposite positions with the highest ADL score (LeveragePnl,
   ties by account id and position side), whose orders on the symbol are
   canceled.  ADL and takeover closes are PositionClosedOut events, not
   public trades.
5. Clearance fee ``liquidationFee x closed notional`` capped by what margin is
   left goes to the insurance fund (Income INSURANCE_CLEAR); a negative
   wallet left behind (isolated: a negative release) is covered by the fund.

Accounts touched by a liquidation (makers, ADL counterparties) are dirty in
turn; the pass repeats until no dirty account is left, so after the step no
position is at or below maintenance margin (except where nothing could be
closed: an empty book with no insurance fund and no opposite position, which a
zero-sum venue cannot produce).
"""
from __future__ import annotations

from exchange.perp import index_key, leg_index_key, unrealized_pnl
from exchange.perp.adl import adl_quantile, adl_score
from exchange.perp.fees import liquidation_fee
from exchange.perp.liquidation import bankruptcy_price, liquidation_price, liquidation_trigger
from exchange.units import RATE_SCALE

from exchange.contract import codes as C
from exchange.contract.events import (
    BalanceChanged, ForceOrder, Income, InsuranceFundChanged, MarginCall, OrderAccepted,
    PositionChanged, PositionClosedOut,
)
from exchange.venue.orders import Order
from exchange.venue.accounts import Account, OrderAgg
from exchange.venue.positions import Position, fill_position
from exchange.venue.spec import SymbolSpec
from exchange.venue.symbol_state import SymbolState
from exchange.venue.liqindex import LiqIndex, PyLiqIndex

# the pure twin's index is a SortedList: re-indexing many accounts rebuilds it in one sort
_SORTEDLIST_INDEX = LiqIndex is PyLiqIndex

FALLS = -1
RISES = 1
CROSS = 3
_ISOLATED = C.ISOLATED      # hot-path constant (a module global is cheaper than ``C.ISOLATED``)
_R = RATE_SCALE
_MAX_ROUNDS = 10_000
_BULK = 2_000           # dirty accounts from which the index is rebuilt in bulk


def legs_key(legs, wallet: int, omm: int, oupnl: int, spec: SymbolSpec, mark: int):
    """Index key for the cross legs of one symbol (one leg: ``exchange.perp.index_key``)."""
    if len(legs) == 1:
        q, c = legs[0]
        r = index_key(q, c, wallet - omm + oupnl, spec.bracket_table, spec.notional_unit, mark)
        if r is not False:
            return r
    t = liquidation_trigger(legs, wallet, spec.instrument.brackets, spec.notional_unit,
                            other_maint_margin=omm, other_upnl=oupnl, ref_price=mark)
    if t is None:
        return None
    return t[0], (FALLS if t[1] < 0 else RISES)


def reindex(symbols: dict, acct: Account, bulk=None) -> list:
    """Re-index the account; returns the units at or below maintenance margin:
    ``(symbol, position_side)`` for isolated positions, ``(None, 3)`` for the cross account.
    With ``bulk`` (a list), the account's old entries must already be gone and the
    new ones are appended to ``bulk`` as (list, item) instead of being inserted."""
    pos: Position
    spec: SymbolSpec
    st: SymbolState
    aid = acct.account_id
    liq: dict = acct.liq
    if bulk is None and liq:
        unindex(symbols, liq)
    due = []
    positions: dict = acct.positions
    if len(positions) == 1:
        # fast path: one cross position (the general code below, specialised:
        # one symbol, one leg, so no slack split and no reserve)
        for key, pos in positions.items():
            q = pos.qty
            if not q:
                return due
            sym = key[0]
            st = symbols[sym]
            mark = st.mark
            if mark and acct.settings[sym][1] != _ISOLATED:
                spec = st.spec
                entry = pos.entry
                wallet = acct.cross_wallet
                r = leg_index_key(q, entry, wallet, spec.bracket_table, spec.notional_unit, mark)
                if r is True:
                    due.append((None, CROSS))
                    return due
                if r is False:
                    r = legs_key([(q, entry)], wallet, 0, 0, spec, mark)
                if r is None:
                    return due
                _index_entry(st, liq, sym, CROSS, (r[0], aid, CROSS), r[1], bulk)
                return due
    return reindex_general(symbols, acct, bulk)


def unindex(symbols: dict, liq: dict) -> None:
    """Take an account's entries (its ``liq``) out of the symbols' indexes."""
    st: SymbolState
    for (sym, _), (item, dirn) in liq.items():
        st = symbols[sym]
        (st.liq_falls if dirn < 0 else st.liq_rises).remove(item)
    liq.clear()


def _index_entry(st: SymbolState, liq: dict, sym, group, item: tuple, dirn, bulk) -> None:
    """One entry of an account (``item`` = (key, account id, group)) on the falling side
    when ``dirn < 0``, else the rising one: into the index, or into ``bulk`` (a restore
    adds all at once); ``liq`` remembers it for the account's next re-index."""
    index = st.liq_falls if dirn < 0 else st.liq_rises
    if bulk is None:
        index.add(item)
    else:
        bulk.append((index, item))
    liq[(sym, group)] = (item, dirn)


def reindex_general(symbols: dict, acct: Account, bulk=None) -> list:
    """``reindex`` for any account (the account's old entries already removed)."""
    pos: Position
    spec: SymbolSpec
    st: SymbolState
    aid = acct.account_id
    liq = acct.liq
    due = []
    cross = None
    settings = acct.settings
    for key, pos in acct.positions.items():
        q = pos.qty
        if not q:
            continue
        sym = key[0]
        if settings[sym][1] == _ISOLATED:
            st = symbols[sym]
            mark = st.mark
            if not mark:
                continue
            spec = st.spec
            r = index_key(q, pos.entry, pos.iso_wallet, spec.bracket_table, spec.notional_unit, mark)
            if r is False:
                r = legs_key([(q, pos.entry)], pos.iso_wallet, 0, 0, spec, mark)
            if r is None:
                continue
            k, dirn = r
            if (mark <= k) if dirn < 0 else (mark >= k):
                if iso_liquidatable(pos, st):
                    due.append((sym, key[1]))
                    continue
            _index_entry(st, liq, sym, key[1], (k, aid, key[1]), dirn, bulk)
        else:
            if cross is None:
                cross = {}
            lst = cross.get(sym)
            if lst is None:
                cross[sym] = [pos]
            else:
                lst.append(pos)
    if cross is None:
        return due
    wallet = acct.cross_wallet
    per = {}
    tot_u = tot_m = 0
    for sym, plist in cross.items():
        st = symbols[sym]
        spec = st.spec
        mark = st.mark
        unit = spec.notional_unit
        u = m = 0
        for pos in plist:
            q = pos.qty
            if mark:
                n = (q if q > 0 else -q) * mark * unit
                u += unrealized_pnl(q, pos.entry, mark, unit)
            else:
                n = pos.entry
            m += spec.maint_margin(n)
        per[sym] = (u, m)
        tot_u += u
        tot_m += m
    slack = wallet + tot_u - tot_m
    if tot_m > 0 and slack <= 0:
        due.append((None, CROSS))
        return due
    marked = [s for s in cross if symbols[s].mark]
    if not marked:
        return due
    if len(marked) > 1:
        marked.sort()
    k = len(marked)
    reserve = slack - slack // k
    for sym in marked:
        st = symbols[sym]
        u, m = per[sym]
        legs = [(p.qty, p.entry) for p in cross[sym] if p.qty]
        if len(legs) > 1:
            # cross hedge legs: liquidatable on either side (MM grows with price on
            # both legs), so a band around the mark: within it the symbol cannot
            # lose its share of the slack (slope bound: net qty + gross qty x top MMR)
            spec = st.spec
            mmr_top = max(b.maint_margin_rate for b in spec.bracket_table)
            net = sum(q for q, _ in legs)
            gross = sum(q if q > 0 else -q for q, _ in legs)
            rate = ((net if net > 0 else -net) * _R + gross * mmr_top) * spec.notional_unit
            w = (slack // k) * _R // rate if rate else 0
            mark = st.mark
            _index_entry(st, liq, sym, CROSS, (mark - w, aid, CROSS), FALLS, bulk)
            _index_entry(st, liq, sym, CROSS + 1, (mark + w, aid, CROSS + 1), RISES, bulk)
            continue
        r = legs_key(legs, wallet, tot_m - m + reserve, tot_u - u, st.spec, st.mark)
        if r is None:
            continue
        _index_entry(st, liq, sym, CROSS, (r[0], aid, CROSS), r[1], bulk)
    return due


def iso_liquidatable(pos: Position, st: SymbolState) -> bool:
    spec: SymbolSpec
    q = pos.qty
    if not q:
        return False
    spec = st.spec
    n = (q if q > 0 else -q) * st.mark * spec.notional_unit
    upnl = unrealized_pnl(q, pos.entry, st.mark, spec.notional_unit)
    mm = spec.maint_margin(n)
    return mm > 0 and pos.iso_wallet + upnl <= mm


def settle_risk(venue, dirty: dict, accounts: dict, symbols: dict, events: list, ts) -> None:
    """The risk pass over ``venue``'s dirty accounts (``dirty``, ``accounts`` and ``symbols``
    are its dicts): re-index each, liquidate those due, until none is dirty.  A module
    function so that the order path calls it and ``reindex`` in C when compiled."""
    acct: Account
    attempts: dict = {}
    rounds = 0
    while rounds < _MAX_ROUNDS:
        rounds += 1
        if not dirty:
            return
        # a comprehension: compiled, it walks the dict with PyDict_Next
        # (sorted(dirty) goes through the generic iterator and length hint)
        ids = [aid for aid in dirty]
        ids.sort()
        dirty.clear()
        dues = venue._bulk_reindex(ids) if len(ids) >= _BULK else None
        for aid in ids:
            acct = accounts.get(aid)
            if acct is None:
                continue
            if dues is None:
                due = reindex(symbols, acct, None)
            else:
                due = dues.get(aid)
            if due:
                n = attempts.get(aid, 0)
                if n >= 4:      # nothing more can be closed now; leave it indexed
                    continue
                attempts[aid] = n + 1
                venue._liquidate(acct, due, events, ts)
                dirty[aid] = None


class Liquidation:
    # ================================================================ index
    def _liquidation_hits(self, st: SymbolState, old: int, new: int) -> None:
        """Mark ``old -> new``: dirty the accounts whose key the new mark reached."""
        dirty: dict = self._dirty
        st.liq_falls.hits_from(new, dirty)        # items with key >= new, in order
        st.liq_rises.hits_upto(new, dirty)        # items with key <= new, in order

    def _reindex(self, acct: Account, bulk=None) -> list:
        """Re-index the account (``reindex`` over this venue's symbols)."""
        return reindex(self.symbols, acct, bulk)

    def _unindex(self, acct: Account) -> None:
        if acct.liq:
            unindex(self.symbols, acct.liq)

    # ========================================================== exact checks
    _iso_liquidatable = staticmethod(iso_liquidatable)

    def _cross_state(self, acct: Account, skip=None) -> tuple[int, int, int]:
        """(margin balance, maintenance margin, UPNL of positions other than ``skip``) of the cross account."""
        pos: Position
        spec: SymbolSpec
        st: SymbolState
        symbols = self.symbols
        mb = acct.cross_wallet
        mm = 0
        other = 0
        for key, pos in acct.positions.items():
            q = pos.qty
            if not q or acct.settings[key[0]][1] == _ISOLATED:
                continue
            st = symbols[key[0]]
            spec = st.spec
            mark = st.mark
            if mark:
                n = (q if q > 0 else -q) * mark * spec.notional_unit
                u = unrealized_pnl(q, pos.entry, mark, spec.notional_unit)
            else:
                n = pos.entry
                u = 0
            mb += u
            if key != skip:
                other += u
            mm += spec.maint_margin(n)
        return mb, mm, other

    def _cross_liquidatable(self, acct: Account) -> bool:
        mb, mm, _ = self._cross_state(acct)
        return mm > 0 and mb <= mm

    # ============================================================= risk pass
    def _bulk_reindex(self, ids: list) -> dict:
        """Re-index many accounts at once (funding, a big mark move): drop their entries
        and rebuild the affected index sides at once (``LiqIndex.replace``).  Same result as ``_reindex`` per account."""
        acct: Account
        st: SymbolState
        accounts = self.accounts
        if not _SORTEDLIST_INDEX:
            # C++ index: per-entry removal and insertion are cheap, and the per-account
            # path leaves the same entries and finds the same dues (``_reindex`` reads no
            # index entries of other accounts)
            dues = {}
            for aid in ids:
                acct = accounts.get(aid)
                if acct is None:
                    continue
                due = self._reindex(acct)
                if due:
                    dues[aid] = due
            return dues
        removed: dict = {}
        for aid in ids:
            acct = accounts.get(aid)
            if acct is None or not acct.liq:
                continue
            symbols = self.symbols
            for (sym, _), (item, dirn) in acct.liq.items():
                st = symbols[sym]
                lst = st.liq_falls if dirn < 0 else st.liq_rises
                r = removed.get(id(lst))
                if r is None:
                    removed[id(lst)] = r = (lst, set())
                r[1].add(item)
            acct.liq.clear()
        bulk: list = []
        dues = {}
        for aid in ids:
            acct = accounts.get(aid)
            if acct is None:
                continue
            due = self._reindex(acct, bulk)
            if due:
                dues[aid] = due
        added: dict = {}
        for lst, item in bulk:
            a = added.get(id(lst))
            if a is None:
                added[id(lst)] = a = (lst, [])
            a[1].append(item)
        for st in self.symbols.values():
            for lst in (st.liq_falls, st.liq_rises):
                r = removed.get(id(lst))
                a = added.get(id(lst))
                if r is None and a is None:
                    continue
                lst.replace(r[1] if r is not None else (), a[1] if a is not None else ())
        return dues

    def _liquidate(self, acct: Account, due: list, events: list, ts: int) -> None:
        self._unindex(acct)
        due.sort(key=lambda u: (u[0] is None, u[0] or "", u[1]))
        for sym, g in due:
            if sym is None:
                self._liquidate_cross(acct, events, ts)
            else:
                self._liquidate_isolated(acct, sym, g, events, ts)

    def _liquidate_isolated(self, acct: Account, sym: str, pside: int, events: list, ts: int) -> None:
        st: SymbolState
        st = self.symbols[sym]
        key = (sym, pside)
        self._cancel_for_liquidation(acct, sym, events, ts)
        self._margin_calls(acct, [key], events)
        cw0 = acct.cross_wallet
        base = self._close_position(acct, st, key, True, events, ts)
        released = acct.cross_wallet - cw0
        if released < 0:
            self._cover_deficit(acct, sym, -released, events)
            released = 0
        self._clearance_fee(acct, st, base, released, events)
        self._liquidation_account_update(acct, sym, events)

    def _liquidate_cross(self, acct: Account, events: list, ts: int) -> None:
        """Account-level liquidation (spec 4.5): every open order of the cross account is
        canceled first, on every symbol; then the positions above their first bracket are
        stepped down one bracket each, largest notional first, stopping as soon as the
        account is above maintenance margin; only then is the rest closed, symbol by symbol."""
        pos: Position
        st: SymbolState
        symbols = self.symbols
        settings = acct.settings
        keys = sorted(k for k, p in acct.positions.items()
                      if p.qty and settings[k[0]][1] != C.ISOLATED and symbols[k[0]].mark)
        self._margin_calls(acct, keys, events)
        # 1. every open order of the account's cross symbols, whether or not it holds a position there
        for sym in sorted({o.symbol for o in acct.orders.values()}):
            s = settings.get(sym)
            if s is None or s[1] != C.ISOLATED:
                self._cancel_for_liquidation(acct, sym, events, ts)
        liq_syms = sorted({k[0] for k in keys})
        base = dict.fromkeys(liq_syms, 0)
        touched = set()             # symbols whose positions the engine worked on: fee and ACCOUNT_UPDATE
        # 2. cross hedge: the LONG and SHORT legs of a symbol are netted at the mark
        if acct.dual:
            for sym in liq_syms:
                st = symbols[sym]
                lp = acct.positions.get((sym, C.LONG))
                sp = acct.positions.get((sym, C.SHORT))
                if lp is not None and sp is not None and lp.qty and sp.qty:
                    c = min(lp.qty, -sp.qty)
                    mark = st.mark
                    self._close_at(acct, st, (sym, C.LONG), C.SELL, c, mark, C.CLOSE_HEDGE_NET, 0, 0, events)
                    self._close_at(acct, st, (sym, C.SHORT), C.BUY, c, mark, C.CLOSE_HEDGE_NET, 0, 0, events)
                    base[sym] += c * mark * st.spec.notional_unit
                    touched.add(sym)
        # 3. partial: one IOC per position above bracket 1, down into the next lower bracket
        steps = []
        for key in keys:
            pos = acct.positions.get(key)
            if pos is not None and pos.qty:
                st = symbols[key[0]]
                n = (pos.qty if pos.qty > 0 else -pos.qty) * st.mark * st.spec.notional_unit
                steps.append((-n, key))
        steps.sort()
        for _, key in steps:
            if not self._cross_liquidatable(acct):
                break
            touched.add(key[0])
            base[key[0]] += self._step_down(acct, symbols[key[0]], key, False, events, ts)
        # 4. the rest, symbol by symbol, while the account is still at or below maintenance margin
        for sym in liq_syms:
            st = symbols[sym]
            for pside in (C.BOTH, C.LONG, C.SHORT):
                pos = acct.positions.get((sym, pside))
                if pos is None or not pos.qty:
                    continue
                if not self._cross_liquidatable(acct):
                    break
                touched.add(sym)
                base[sym] += self._liq_close(acct, st, (sym, pside), pos.qty if pos.qty > 0 else -pos.qty,
                                             False, events, ts)
        for sym in sorted(touched):
            mb = self._cross_state(acct)[0]
            self._clearance_fee(acct, symbols[sym], base[sym], mb if mb > 0 else 0, events)
            self._liquidation_account_update(acct, sym, events)
        if acct.cross_wallet < 0 and not any(
                p.qty for k, p in acct.positions.items() if acct.settings[k[0]][1] != C.ISOLATED):
            self._cover_deficit(acct, "", -acct.cross_wallet, events)
            events.append(BalanceChanged(acct.account_id, C.R_INSURANCE_CLEAR, acct.wallet_balance(),
                                         acct.cross_wallet, 0))

    def _step_down(self, acct: Account, st: SymbolState, key, isolated: bool, events: list, ts: int) -> int:
        """Binance's partial liquidation: above bracket 1, one IOC sized to bring the position
        into the next lower bracket.  Returns the closed notional (money; 0: nothing to do)."""
        pos: Position
        spec: SymbolSpec
        spec = st.spec
        pos = acct.positions[key]
        mark = st.mark
        unit = spec.notional_unit
        aq = pos.qty if pos.qty > 0 else -pos.qty
        bi = spec.bracket_index(aq * mark * unit)
        if bi > 0:
            target = spec.brackets[bi - 1][3] // (mark * unit)
            if 0 < target < aq:
                return self._liq_close(acct, st, key, aq - target, isolated, events, ts)
        return 0

    def _close_position(self, acct: Account, st: SymbolState, key, isolated: bool, events: list, ts: int) -> int:
        """Partial step to the next lower bracket when above bracket 1, then the rest if
        still liquidatable.  Returns the closed notional (money)."""
        pos: Position
        base = self._step_down(acct, st, key, isolated, events, ts)
        pos = acct.positions[key]
        if base:
            if not pos.qty:
                return base
            if isolated:
                if not self._iso_liquidatable(pos, st):
                    return base
            elif not self._cross_liquidatable(acct):
                return base
        if pos.qty:
            base += self._liq_close(acct, st, key, pos.qty if pos.qty > 0 else -pos.qty, isolated, events, ts)
        return base

    def _liq_close(self, acct: Account, st: SymbolState, key, qty: int, isolated: bool, events: list, ts: int) -> int:
        agg: OrderAgg
        order: Order
        pos: Position
        spec: SymbolSpec
        pos = acct.positions[key]
        q = pos.qty
        spec = st.spec
        unit = spec.notional_unit
        side = C.SELL if q > 0 else C.BUY
        if isolated:
            bp = bankruptcy_price([(q, pos.entry)], pos.iso_wallet, unit)
        else:
            _, _, other = self._cross_state(acct, skip=key)
            bp = bankruptcy_price([(q, pos.entry)], acct.cross_wallet, unit, other_upnl=other)
        if bp is None or bp < 1:
            bp = 1
        aid = acct.account_id
        sym = st.symbol
        oid = self.next_order_id
        self.next_order_id = oid + 1
        cid = "autoclose-%d" % oid
        while cid in acct.client_ids:
            cid += "_"
        order = Order(oid, aid, sym, cid, side, C.LIQUIDATION, C.IOC, bp, qty, 1, key[1], 0, ts, 1, key, bp, 0)
        self.orders[oid] = order
        acct.orders[oid] = order
        acct.client_ids[cid] = order
        acct.order_count[sym] = acct.order_count.get(sym, 0) + 1
        agg = self._agg(acct, key)
        if side == C.BUY:
            agg.ro_buy += qty
        else:
            agg.ro_sell += qty
        events.append(OrderAccepted(oid, aid, sym, cid, side, C.LIQUIDATION, C.IOC, bp, qty, 1, key[1], 0))
        touched: dict = {}
        reports = st.book.submit(oid, aid, side, bp, qty, C.IOC, 0)
        self._process(st, reports, events, touched, ts)
        if oid in self.orders:       # cannot happen (IOC), kept for safety
            self._cancel(st, order, C.CANCEL_LIQUIDATION, ts)
        if touched:
            self._finish(touched, events, ts)
        filled = order.filled
        events.append(ForceOrder(sym, oid, aid, side, key[1], bp, qty, filled, order.cum_quote,
                                 C.FILLED if filled == qty else C.EXPIRED))
        base = order.cum_quote
        left = qty - filled
        if left:
            left, b = self._takeover(acct, st, key, side, left, bp, oid, events, ts)
            base += b
        if left:
            base += self._adl(acct, st, key, side, left, bp, oid, events, ts)
        return base

    def _takeover(self, acct: Account, st: SymbolState, key, side: int, left: int, bp: int, oid: int, events: list, ts: int):
        spec: SymbolSpec
        fund = self.insurance_fund
        if fund <= 0:
            return left, 0
        spec = st.spec
        unit = spec.notional_unit
        mark = st.mark
        tb = spec.market_take_bound
        if side == C.SELL:
            bound = -((-mark * (_R - tb)) // _R)
        else:
            bound = mark * (_R + tb) // _R
        budget = fund
        t = 0
        worst = 0
        for price, lq in st.book.depth(1 - side, 1000):
            if (price < bound) if side == C.SELL else (price > bound):
                break
            loss = ((bp - price) if side == C.SELL else (price - bp)) * unit
            take = lq if lq < left - t else left - t
            if loss > 0:
                cap = budget // loss
                if cap < take:
                    take = cap
            if take <= 0:
                break
            t += take
            if loss > 0:
                budget -= take * loss
            worst = price
            if t == left or take < lq:
                break
        if not t:
            return left, 0
        fid = self.next_order_id
        self.next_order_id = fid + 1
        reports = st.book.submit(fid, 0, side, worst, t, C.IOC, 0)
        touched: dict = {}
        gain = 0
        done = 0
        orders = self.orders
        from matching.constants import FILL as R_FILL
        for r in reports:
            if r[0] == R_FILL:
                trade_id = st.next_trade_id
                st.next_trade_id = trade_id + 1
                price = r[5]
                qq = r[6]
                self._fill(st, orders[r[2]], price, qq, 1, trade_id, fid, events, touched, ts)
                gain += ((price - bp) if side == C.SELL else (bp - price)) * unit * qq
                done += qq
                st.last_price = price
        if touched:
            self._finish(touched, events, ts)
        if done:
            self._moved[st.symbol] = None
            self._close_at(acct, st, key, side, done, bp, C.CLOSE_TAKEOVER, oid, 0, events)
            self.insurance_fund += gain
            events.append(InsuranceFundChanged(st.symbol, gain, self.insurance_fund, C.F_TAKEOVER,
                                               acct.account_id))
        return left - done, done * bp * unit

    def _adl(self, acct: Account, st: SymbolState, key, side: int, left: int, bp: int, oid: int, events: list, ts: int) -> int:
        pos: Position
        spec: SymbolSpec
        spec = st.spec
        unit = spec.notional_unit
        mark = st.mark
        accounts = self.accounts
        own = acct.account_id * 4 + key[1]
        want_short = side == C.SELL
        cands = []
        for pkey, pos in st.positions.items():
            q = pos.qty
            if pkey == own or (q < 0) != want_short:
                continue
            cp = accounts[pkey >> 2]
            aq = q if q > 0 else -q
            n = aq * mark * unit
            upnl = unrealized_pnl(q, pos.entry, mark, unit)
            wb = pos.iso_wallet if cp.settings[st.symbol][1] == C.ISOLATED else cp.cross_wallet
            cands.append((-adl_score(wb, upnl, spec.maint_margin(n)), pkey))
        cands.sort()
        base = 0
        sym = st.symbol
        for _, pkey in cands:
            if not left:
                break
            pos = st.positions.get(pkey)
            if pos is None or not pos.qty:
                continue
            aq = pos.qty if pos.qty > 0 else -pos.qty
            c = left if left < aq else aq
            cp = accounts[pkey >> 2]
            self._cancel_for_liquidation(cp, sym, events, ts)
            ckey = (sym, pkey & 3)
            self._close_at(cp, st, ckey, 1 - side, c, bp, C.CLOSE_ADL, oid, acct.account_id, events)
            self._close_at(acct, st, key, side, c, bp, C.CLOSE_ADL, oid, cp.account_id, events)
            cpos = cp.positions[ckey]
            events.append(BalanceChanged(cp.account_id, C.R_ADL, cp.wallet_balance(), cp.cross_wallet, 0))
            events.append(PositionChanged(cp.account_id, sym, ckey[1], cpos.qty, cpos.entry, cpos.realized,
                                          cpos.iso_wallet, cp.settings[sym][1]))
            left -= c
            base += c * bp * unit
        return base

    # ============================================================== helpers
    def _close_at(self, acct: Account, st: SymbolState, key, side: int, q: int, price: int, kind: int, oid: int,
                  counter: int, events: list) -> int:
        """Close ``q`` lots of a position at ``price`` outside the book, no fee."""
        pos: Position
        pos = acct.positions[key]
        old = pos.qty
        pnl, closed, _ = fill_position(pos, side == C.BUY, q, price, st.spec.notional_unit)
        pos.update_time = self._ts
        aid = acct.account_id
        if acct.settings[key[0]][1] == C.ISOLATED:
            iso = pos.iso_wallet + pnl
            release = iso if pos.qty == 0 else iso * closed // (old if old > 0 else -old)
            pos.iso_wallet = iso - release
            acct.cross_wallet += release
        else:
            acct.cross_wallet += pnl
        if not pos.qty:
            st.positions.pop(aid * 4 + key[1], None)
        acct.update_time = self._ts
        events.append(PositionClosedOut(aid, key[0], key[1], side, price, q, pnl, kind, oid, counter))
        if pnl:
            tran = self.next_tran_id
            self.next_tran_id = tran + 1
            events.append(Income(aid, C.I_REALIZED_PNL, key[0], pnl, tran, 0))
        self._dirty[aid] = None
        return pnl

    def _cancel_for_liquidation(self, acct: Account, sym: str, events: list, ts: int) -> None:
        st: SymbolState
        st = self.symbols[sym]
        for o in [o for o in acct.orders.values() if o.symbol == sym]:
            events.append(self._cancel(st, o, C.CANCEL_LIQUIDATION, ts))

    def _margin_calls(self, acct: Account, keys, events: list) -> None:
        pos: Position
        spec: SymbolSpec
        st: SymbolState
        for key in keys:
            pos = acct.positions.get(key)
            if pos is None or not pos.qty:
                continue
            st = self.symbols[key[0]]
            spec = st.spec
            q = pos.qty
            n = (q if q > 0 else -q) * st.mark * spec.notional_unit
            upnl = unrealized_pnl(q, pos.entry, st.mark, spec.notional_unit)
            events.append(MarginCall(acct.account_id, key[0], key[1], acct.settings[key[0]][1], q, st.mark,
                                     upnl, spec.maint_margin(n), pos.iso_wallet, acct.cross_wallet))

    def _clearance_fee(self, acct: Account, st: SymbolState, base: int, remaining: int, events: list) -> None:
        fee = liquidation_fee(base, st.spec.liquidation_fee, remaining)
        if fee <= 0:
            return
        acct.cross_wallet -= fee
        self.insurance_fund += fee
        tran = self.next_tran_id
        self.next_tran_id = tran + 1
        events.append(Income(acct.account_id, C.I_INSURANCE_CLEAR, st.symbol, -fee, tran, 0))
        events.append(InsuranceFundChanged(st.symbol, fee, self.insurance_fund, C.F_CLEARANCE_FEE,
                                           acct.account_id))

    def _cover_deficit(self, acct: Account, sym: str, amount: int, events: list) -> None:
        acct.cross_wallet += amount
        self.insurance_fund -= amount
        events.append(InsuranceFundChanged(sym, -amount, self.insurance_fund, C.F_DEFICIT, acct.account_id))

    def _liquidation_account_update(self, acct: Account, sym: str, events: list) -> None:
        pos: Position
        aid = acct.account_id
        events.append(BalanceChanged(aid, C.R_INSURANCE_CLEAR, acct.wallet_balance(), acct.cross_wallet, 0))
        mt = acct.settings[sym][1]
        for pside in (C.BOTH, C.LONG, C.SHORT):
            pos = acct.positions.get((sym, pside))
            if pos is not None:
                events.append(PositionChanged(aid, sym, pside, pos.qty, pos.entry, pos.realized,
                                              pos.iso_wallet, mt))

    # ================================================================ queries
    def adl_quantiles(self, symbol: str) -> dict:
        """(account_id, position_side) -> ADL quantile 0-4 (API ``adlQuantile``), ranked per
        symbol and side by LeveragePnl; recomputed at most every 30 s of venue time."""
        acct: Account
        pos: Position
        spec: SymbolSpec
        st: SymbolState
        st = self.symbols.get(symbol)
        if st is None:
            return {}
        bucket = self._ts // 30_000
        cached = self._adl_cache.get(symbol)
        if cached is not None and cached[0] == bucket and cached[1] == st.next_trade_id:
            return cached[2]
        spec = st.spec
        unit = spec.notional_unit
        mark = st.mark
        sides: tuple[list, list] = ([], [])
        for pkey, pos in st.positions.items():
            q = pos.qty
            acct = self.accounts[pkey >> 2]
            aq = q if q > 0 else -q
            n = aq * (mark or 0) * unit if mark else pos.entry
            upnl = unrealized_pnl(q, pos.entry, mark, unit) if mark else 0
            wb = pos.iso_wallet if acct.settings[symbol][1] == C.ISOLATED else acct.cross_wallet
            sides[0 if q > 0 else 1].append((adl_score(wb, upnl, spec.maint_margin(n)), pkey))
        out = {}
        for lst in sides:
            lst.sort()
            cnt = len(lst)
            # equal scores share the highest rank among them
            i = 0
            while i < cnt:
                j = i
                while j + 1 < cnt and lst[j + 1][0] == lst[i][0]:
                    j += 1
                qn = adl_quantile(j + 1, cnt)
                for k in range(i, j + 1):
                    pk = lst[k][1]
                    out[(pk >> 2, pk & 3)] = qn
                i = j + 1
        self._adl_cache[symbol] = (bucket, st.next_trade_id, out)
        return out

    def liquidation_price(self, account_id: int, symbol: str, position_side: int) -> int:
        """``liquidationPrice`` in ticks (0 = "--"): Binance's formula (perp-mechanics 4.2);
        cross positions use the other cross positions' MM and UPNL at their marks, and
        the cross hedge legs of a symbol share one price."""
        acct: Account
        pos: Position
        spec: SymbolSpec
        st: SymbolState
        acct = self.accounts.get(account_id)
        if acct is None:
            return 0
        st = self.symbols.get(symbol)
        pos = acct.positions.get((symbol, position_side))
        if st is None or pos is None or not pos.qty:
            return 0
        spec = st.spec
        inst_br = spec.instrument.brackets
        unit = spec.notional_unit
        if acct.settings[symbol][1] == C.ISOLATED:
            lp = liquidation_price([(pos.qty, pos.entry)], pos.iso_wallet, inst_br, unit, ref_price=st.mark or None)
            return lp or 0
        legs = []
        omm = oupnl = 0
        for key, p in acct.positions.items():
            if not p.qty or acct.settings[key[0]][1] == C.ISOLATED:
                continue
            if key[0] == symbol:
                legs.append((p.qty, p.entry))
                continue
            s2 = self.symbols[key[0]]
            sp2 = s2.spec
            if s2.mark:
                n = abs(p.qty) * s2.mark * sp2.notional_unit
                oupnl += unrealized_pnl(p.qty, p.entry, s2.mark, sp2.notional_unit)
            else:
                n = p.entry
            omm += sp2.maint_margin(n)
        lp = liquidation_price(legs, acct.cross_wallet, inst_br, unit, other_maint_margin=omm,
                               other_upnl=oupnl, ref_price=st.mark or None)
        return lp or 0
