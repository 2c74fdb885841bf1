"""Snapshots: the whole venue state as one msgpack-able value, and back.

``venue.snapshot()`` returns a list of ints, strings and lists (no maps), a
function of the state alone (containers are written in a fixed order: sorted
keys; the closed-order history in its eviction order; book levels best first
with their orders in queue order)::

    ["paperex-venue-snapshot", 1, venue_config, history_limit,
     [next_order_id, next_tran_id, ts],
     [deposits, withdrawals, fees_collected, insurance_fund, rounding_residue],
     symbols,    # sorted: [symbol, index, mark, next_trade_id, last_price, mark_pinned, mark_rule,
                 #          basis samples, premium_sum, premium_count, last_premium, funding_rate,
                 #          last_funding_rate, last_funding_time, funding history rows [t, rate, mark],
                 #          bids, asks]  (levels best first: [price, [[order_id, owner, remaining], ...]])
     accounts,   # sorted: [account_id, cross_wallet, dual, update_time,
                 #          settings [[symbol, leverage, margin_type]] sorted, positions (Position.state()) sorted]
     open_orders,    # sorted by id: Order.state()
     closed_orders]  # oldest closed first: Order.state()

``Venue.restore(value)`` rebuilds a venue whose ``state_digest()`` equals the
original's and which answers every later command with the same events:
derived structures (order-margin aggregates, client-id maps, counts, the
liquidation and trigger indexes, the open-position registry) are recomputed.
Resting orders re-enter the book with their remaining quantity (the book does
not learn their earlier fills; ``Order.book_offset`` remembers the difference
for modifies).
"""
from __future__ import annotations

from exchange.venue.symbol_state import SymbolState

SNAPSHOT_FORMAT = "paperex-venue-snapshot"
SNAPSHOT_VERSION = 1
_ALL = 1 << 62


class Snapshots:
    def snapshot(self) -> list:
        from exchange.contract.venue_config import venue_config
        instruments = {s: st.spec.instrument for s, st in self.symbols.items()}
        symbols = []
        for sym in sorted(self.symbols):
            st = self.symbols[sym]
            book = st.book
            sides = []
            for side in (0, 1):
                levels = []
                for price, _ in book.depth(side, _ALL):
                    levels.append([price, [list(o) for o in book.level_orders(side, price)]])
                sides.append(levels)
            symbols.append([sym, st.index, st.mark, st.next_trade_id, st.last_price, st.mark_pinned,
                            st.mark_rule, list(st.basis), st.premium_sum, st.premium_count, st.last_premium,
                            st.funding_rate, st.last_funding_rate, st.last_funding_time,
                            [list(r) for r in st.funding_history], sides[0], sides[1]])
        accounts = []
        for aid in sorted(self.accounts):
            a = self.accounts[aid]
            accounts.append([aid, a.cross_wallet, a.dual, a.update_time,
                             [[s, v[0], v[1]] for s, v in sorted(a.settings.items())],
                             [a.positions[k].state() for k in sorted(a.positions)]])
        return [SNAPSHOT_FORMAT, SNAPSHOT_VERSION, venue_config(instruments), self.history_limit,
                [self.next_order_id, self.next_tran_id, self._ts],
                [self.deposits, self.withdrawals, self.fees_collected, self.insurance_fund,
                 self.rounding_residue],
                symbols, accounts,
                [self.orders[i].state() for i in sorted(self.orders)],
                [self.closed[i].state() for i in self._closed_fifo]]

    @classmethod
    def restore(cls, value, book_factory=None):
        st: SymbolState
        from exchange.contract.venue_config import instruments_from_config
        from exchange.venue.accounts import Account
        from exchange.venue.conditional import index_conditional
        from exchange.venue.orders import Order
        from exchange.venue.positions import Position

        if not isinstance(value, (list, tuple)) or len(value) != 10 or value[0] != SNAPSHOT_FORMAT \
                or value[1] != SNAPSHOT_VERSION:
            raise ValueError("not a paperex venue snapshot")
        (_, _, config, history_limit, counters, money, symbols, accounts, open_orders, closed) = value
        kw = {"history_limit": history_limit}
        if book_factory is not None:
            kw["book_factory"] = book_factory
        v = cls(instruments_from_config(config), **kw)
        v.next_order_id, v.next_tran_id, v._ts = counters
        v.deposits, v.withdrawals, v.fees_collected, v.insurance_fund, v.rounding_residue = money
        books = {}
        for row in symbols:
            (sym, index, mark, ntid, last, pinned, rule, basis, psum, pcount, lprem, frate, lfrate, lftime,
             hist, bids, asks) = row
            st = v.symbols[sym]
            st.index, st.mark, st.next_trade_id, st.last_price = index, mark, ntid, last
            st.mark_pinned, st.mark_rule = pinned, rule
            st.basis.extend(basis)
            st.premium_sum, st.premium_count, st.last_premium = psum, pcount, lprem
            st.funding_rate, st.last_funding_rate, st.last_funding_time = frate, lfrate, lftime
            st.funding_history.extend(tuple(r) for r in hist)
            books[sym] = (bids, asks)
        for row in accounts:
            aid, cw, dual, ut, settings, positions = row
            a = v.accounts[aid] = Account(aid)
            a.cross_wallet, a.dual, a.update_time = cw, dual, ut
            for s, lev, mt in settings:
                a.settings[s] = [lev, mt]
            for ps in positions:
                p = Position(ps[0], ps[1])
                p.qty, p.entry, p.realized, p.iso_wallet, p.update_time = ps[2:7]
                a.positions[(ps[0], ps[1])] = p
                if p.qty:
                    v.symbols[ps[0]].positions[aid * 4 + ps[1]] = p
        for s in open_orders:
            o = Order.from_state(s)
            a = v.accounts[o.account_id]
            v.orders[o.order_id] = o
            a.orders[o.order_id] = o
            a.client_ids[o.client_order_id] = o
            st = v.symbols[o.symbol]
            if 1 < o.order_type < 7:
                a.algo_count[o.symbol] = a.algo_count.get(o.symbol, 0) + 1
                index_conditional(st, o)
                continue
            a.order_count[o.symbol] = a.order_count.get(o.symbol, 0) + 1
            v._agg(a, o.key)
            v._reserve(o, o.qty - o.filled)
            o.book_offset = o.filled
        for sym, (bids, asks) in books.items():
            book = v.symbols[sym].book
            for side, levels in ((0, bids), (1, asks)):
                for price, orders in levels:
                    for oid, owner, remaining in orders:
                        o = v.orders[oid]
                        book.submit(oid, owner, side, price, remaining, o.time_in_force if o.time_in_force <= 3 else 0,
                                    o.stp)
        for s in closed:
            o = Order.from_state(s)
            v.closed[o.order_id] = o
            v._closed_fifo.append(o.order_id)
            v.accounts[o.account_id].closed_client[o.client_order_id] = o.order_id
        # the liquidation index is derived: rebuild it (liquidatable accounts cannot exist at a
        # command boundary, so nothing is liquidated here)
        for aid in sorted(v.accounts):
            v._reindex(v.accounts[aid])
        return v
