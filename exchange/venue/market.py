"""Index, mark price, premium index and funding: a mixin of ``Venue``.

Mark price (perp-mechanics 1.2).  ``RefreshMarkPrice`` (a timer command, every
second of venue time) sets ``mark = median(Price1, Price2, Last)`` with
``exchange.perp.mark.mark_price``: Price1 = index carried by the current
funding-rate estimate, Price2 = index + moving average of the last 30 basis
samples (``(bid1 + ask1)/2 - index``, one per ``SamplePremium``, i.e. 2.5 min),
Last = the last trade price (Price2 when the symbol never traded).

Two overrides, both part of the state (digest, snapshot):

* Until the first ``RefreshMarkPrice`` of a symbol whose rule moves the mark,
  ``SetIndexPrice`` also sets the mark (mark = index: a venue driven without
  timers, milestone-1 behaviour; while the rule gives the index itself - no
  trades, no book - the two modes agree, and the flag stays unset so an idle
  venue's state does not change with the clock).
* ``SetMarkPrice(symbol, p)`` with ``p > 0`` *pins* the mark: refreshes and
  index updates leave it alone until ``SetMarkPrice(symbol, 0)`` releases it
  (the next refresh then applies the rule, or, before any refresh, the next
  index update sets mark = index).  ``premium_index()`` shows ``mark_pinned``.

Premium index (2.2).  ``SamplePremium`` (every 5 s) takes one sample
``premium_index_from_book`` with the impact notional ``200 USDT x max leverage``
and folds it into the interval's linear time-weighted average (two running
ints); a book side too thin for the impact notional gives no sample.  After
each sample the funding-rate estimate (``lastFundingRate``) is
``funding_rate(avg premium, interest, cap, floor)``.

Funding (2.3-2.5).  ``SettleFunding`` (timer at each funding-interval boundary
of the clock, e.g. 00:00/08:00/16:00 UTC) settles the boundary at or before the
command's time, once: rate from the interval's samples, then for every open
position of the symbol, in (account id, position side) order,
``funding_payment(qty, mark, rate)`` (payer rounded up, receiver down) is
applied to the cross wallet or, for an isolated position, its isolated wallet.
The charge/credit difference goes to the rounding-residue account, so funding
is zero-sum.  Events: FundingSettled, then per position Income(FUNDING_FEE) and
BalanceChanged(FUNDING_FEE) (+ PositionChanged for isolated positions).  The
liquidation check runs afterwards (funding moves liquidation prices).
"""
from __future__ import annotations


from exchange.perp import funding_payment
from exchange.perp.funding import (
    add_premium_sample, average_premium_from_sum, funding_rate, premium_index_from_book,
)
from exchange.perp.mark import basis_half_ticks, mark_price

from exchange.contract import codes as C
from exchange.contract import errors as E
from exchange.contract.commands import FundInsurance, RefreshMarkPrice, SamplePremium, SetIndexPrice, SetMarkPrice, SettleFunding
from exchange.contract.events import (
    BalanceChanged, CommandRejected, FundingSettled, Income, IndexPriceChanged, InsuranceFundChanged,
    MarkPriceChanged, PositionChanged, PremiumSampled,
)
from exchange.contract.records import new_record
from exchange.venue.accounts import Account
from exchange.venue.positions import Position
from exchange.venue.spec import SymbolSpec
from exchange.venue.symbol_state import SymbolState

_DEPTH_LEVELS = 500           # book levels read for the impact prices


class MarketData:
    # ============================================================ index / mark
    def _set_index(self, ts: int, c: SetIndexPrice) -> list:
        st: SymbolState
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(0, c.KIND, *E.Request.BAD_SYMBOL.reason())]
        if c.price <= 0:
            return [CommandRejected(0, c.KIND, *E.Filters.PRICE_LESS_THAN_ZERO.reason())]
        st.index = c.price
        events = [IndexPriceChanged(c.symbol, c.price)]
        if not st.mark_rule and not st.mark_pinned:
            events.append(MarkPriceChanged(c.symbol, c.price))
            self._move_mark(st, c.price, events, ts)
        return events

    def _set_mark(self, ts: int, c: SetMarkPrice) -> list:
        st: SymbolState
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(0, c.KIND, *E.Request.BAD_SYMBOL.reason())]
        if c.price < 0:
            return [CommandRejected(0, c.KIND, *E.Filters.PRICE_LESS_THAN_ZERO.reason())]
        if c.price == 0:                        # release the pin
            if not st.mark_pinned:
                return [CommandRejected(0, c.KIND, *E.Filters.PRICE_LESS_THAN_ZERO.reason())]
            st.mark_pinned = 0
            return [self._mark_event(st, ts)]
        st.mark_pinned = 1
        events = [MarkPriceChanged(c.symbol, c.price)]
        self._move_mark(st, c.price, events, ts)
        return events

    def _refresh_mark(self, ts: int, c: RefreshMarkPrice) -> list:
        st: SymbolState
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(0, c.KIND, *E.Request.BAD_SYMBOL.reason())]
        events: list = []
        if not st.mark_pinned and st.index:
            m = self._rule_mark(st, ts)
            if m != st.mark:
                st.mark_rule = 1
            events.append(None)                 # placeholder: the event shows the final mark
            self._move_mark(st, m, events, ts)
            events[0] = self._mark_event(st, ts)
        else:
            events.append(self._mark_event(st, ts))
        return events

    def _rule_mark(self, st: SymbolState, ts: int) -> int:
        spec: SymbolSpec
        spec = st.spec
        iv = spec.funding_interval_ms
        until = iv - ts % iv
        index = st.index
        last = st.last_price
        if not last:
            n = len(st.basis)
            last = index + (sum(st.basis) // (2 * n) if n else 0)
        m = mark_price(index, last, st.funding_rate, until, iv, st.basis)
        return m if m > 0 else 1

    def _mark_event(self, st: SymbolState, ts: int) -> MarkPriceChanged:
        iv = st.spec.funding_interval_ms
        return MarkPriceChanged(st.symbol, st.mark, st.index, st.funding_rate, ts - ts % iv + iv,
                                st.index, st.mark_pinned)

    def _move_mark(self, st: SymbolState, mark: int, events: list, ts: int) -> None:
        """Set the mark; on a change run MARK_PRICE triggers and the liquidation check."""
        old = st.mark
        if mark == old:
            return
        st.mark = mark
        if not old:
            # first mark of the symbol: every position in it gets indexed
            dirty = self._dirty
            for pkey in st.positions:
                dirty[pkey >> 2] = None
        else:
            self._liquidation_hits(st, old, mark)
        if st.waiting:
            self._fire_triggers(st, C.MARK_PRICE, events, ts)
        self._post(events, ts)

    # ================================================================ premium
    def _sample_premium(self, ts: int, c: SamplePremium) -> list:
        spec: SymbolSpec
        st: SymbolState
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(0, c.KIND, *E.Request.BAD_SYMBOL.reason())]
        index = st.index
        if not index:
            return []
        book = st.book
        bids = book.depth(0, _DEPTH_LEVELS)
        asks = book.depth(1, _DEPTH_LEVELS)
        if bids and asks:
            st.basis.append(basis_half_ticks(bids[0][0], asks[0][0], index))
        spec = st.spec
        p = premium_index_from_book(bids, asks, index, spec.impact_notional, spec.notional_unit) \
            if bids and asks else None
        if p is not None:
            st.premium_sum, st.premium_count = add_premium_sample(st.premium_sum, st.premium_count, p)
            st.last_premium = p
            st.funding_rate = funding_rate(average_premium_from_sum(st.premium_sum, st.premium_count),
                                           spec.interest_rate, spec.funding_cap, spec.funding_floor)
            return [PremiumSampled(c.symbol, p, st.funding_rate)]
        return []

    # ================================================================ funding
    def _settle_funding(self, ts: int, c: SettleFunding) -> list:
        acct: Account
        pos: Position
        spec: SymbolSpec
        st: SymbolState
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(0, c.KIND, *E.Request.BAD_SYMBOL.reason())]
        spec = st.spec
        iv = spec.funding_interval_ms
        ft = ts - ts % iv
        if ft <= st.last_funding_time:
            return [CommandRejected(0, c.KIND, *E.General.FUNDING_ALREADY_SETTLED.reason())]
        if c.rate != c.NO_RATE:
            # a recorded rate (a replay) is what the exchange charged: used as given,
            # neither recomputed from this venue's premiums nor clamped to its cap/floor
            rate = c.rate
        else:
            rate = funding_rate(average_premium_from_sum(st.premium_sum, st.premium_count),
                                spec.interest_rate, spec.funding_cap, spec.funding_floor)
        st.premium_sum = 0
        st.premium_count = 0
        st.funding_rate = funding_rate(0, spec.interest_rate, spec.funding_cap, spec.funding_floor)
        st.last_funding_time = ft
        st.last_funding_rate = rate
        mark = st.mark
        st.funding_history.append((ft, rate, mark))
        head = FundingSettled(st.symbol, ft, rate, mark, 0, 0, 0)
        events = [head]
        if not mark or not rate or not st.positions:
            return events
        p: Position
        unit = spec.notional_unit
        accounts: dict = self.accounts
        sym = st.symbol
        tran = self.next_tran_id
        paid = received = n = 0
        dirty: dict = self._dirty
        positions: dict = st.positions
        append = events.append
        I_FUND = C.I_FUNDING_FEE
        R_FUND = C.R_FUNDING_FEE
        ISOLATED = C.ISOLATED
        for pkey in sorted(positions):
            pos = positions[pkey]
            q = pos.qty
            aid = pkey >> 2
            amount = funding_payment(q, mark, rate, unit)       # - paid (rounded up), + received (down)
            if amount < 0:
                paid -= amount
                # a payer's liquidation price moves toward the mark: re-index it.  A
                # receiver's moves away, so its current key stays conservative (it is
                # re-indexed when next reached or touched).
                dirty[aid] = None
            else:
                received += amount
            if not amount:
                continue
            n += 1
            acct = accounts[aid]
            append(new_record(Income, (aid, I_FUND, sym, amount, tran, 0)))
            tran += 1
            if acct.settings[sym][1] == ISOLATED:
                pos.iso_wallet += amount
                cw = acct.cross_wallet
                wb = cw
                for p in acct.positions.values():
                    wb += p.iso_wallet
                append(new_record(BalanceChanged, (aid, R_FUND, wb, cw, amount)))
                append(new_record(PositionChanged, (aid, sym, pos.position_side, q, pos.entry, pos.realized,
                                             pos.iso_wallet, ISOLATED)))
            else:
                cw = acct.cross_wallet + amount
                acct.cross_wallet = cw
                wb = cw
                for p in acct.positions.values():
                    wb += p.iso_wallet
                append(new_record(BalanceChanged, (aid, R_FUND, wb, cw, amount)))
        self.next_tran_id = tran
        self.rounding_residue += paid - received
        events[0] = FundingSettled(sym, ft, rate, mark, n, paid, received)
        self._post(events, ts)
        return events

    # ============================================================== insurance
    def _fund_insurance(self, ts: int, c: FundInsurance) -> list:
        if c.amount <= 0:
            return [CommandRejected(0, c.KIND, *E.Filters.AMOUNT_MUST_BE_POSITIVE.reason())]
        self.insurance_fund += c.amount
        self.deposits += c.amount
        return [InsuranceFundChanged("", c.amount, self.insurance_fund, C.F_CONTRIBUTION, 0)]

    # ================================================================ queries
    def premium_index(self, symbol: str) -> dict | None:
        """GET /fapi/v1/premiumIndex as ints (ticks, RATE_SCALE rates, ms)."""
        st: SymbolState
        st = self.symbols.get(symbol)
        if st is None:
            return None
        iv = st.spec.funding_interval_ms
        ts = self._ts
        return {"symbol": symbol, "mark_price": st.mark, "index_price": st.index,
                "estimated_settle_price": st.index, "last_funding_rate": st.funding_rate,
                "settled_funding_rate": st.last_funding_rate, "last_funding_time": st.last_funding_time,
                "interest_rate": st.spec.interest_rate, "next_funding_time": ts - ts % iv + iv,
                "funding_interval_ms": iv, "last_price": st.last_price, "last_premium": st.last_premium,
                "premium_samples": st.premium_count, "mark_pinned": st.mark_pinned,
                "mark_rule": st.mark_rule, "time": ts}

    def funding_history(self, symbol: str) -> list:
        """Settled funding rows, oldest first: (funding_time, rate, mark_price)."""
        st: SymbolState
        st = self.symbols.get(symbol)
        return [] if st is None else list(st.funding_history)

    def insurance_balance(self) -> int:
        return self.insurance_fund

