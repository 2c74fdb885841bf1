"""Canonical state digest: equal for equal venue states, computable by any implementation.

``state_digest(venue)`` = lowercase hex SHA-256 of ``msgpack.packb(S, use_bin_type=True)``
where S is the list below (msgpack: ints in the smallest encoding, strings as
UTF-8 str, lists as arrays; no maps, so no key-order ambiguity):

    ["paperex-venue-state", 2,
     [next_order_id, next_tran_id],
     [deposits, withdrawals, fees_collected, insurance_fund, rounding_residue],
     symbols,    # sorted by symbol: [symbol, index, mark, next_trade_id, bids, asks, market]
                 #   market = [last_price, mark_pinned, mark_rule, [basis samples], premium_sum,
                 #             premium_count, last_premium, funding_rate, last_funding_rate,
                 #             last_funding_time, [[funding_time, rate, mark], ...]]
                 #   bids/asks: every level, best first: [price, qty, [[order_id, owner, remaining], ...]]
                 #   (the orders at a level in queue order, oldest first)
     accounts,   # sorted by account id:
                 #   [account_id, cross_wallet, dual, update_time,
                 #    settings  sorted by symbol: [symbol, leverage, margin_type]
                 #      (only symbols whose settings differ from the default
                 #       [default leverage = min(20, max leverage), CROSSED]),
                 #    positions sorted by (symbol, position_side):
                 #      [symbol, position_side, qty, entry_notional, realized_pnl, isolated_wallet, update_time]]
     open_orders,   # sorted by order id: Order.state()
     closed_orders] # sorted by order id: Order.state() (the bounded history)

Order.state() = [order_id, account_id, symbol, client_order_id, side, order_type,
time_in_force, price, qty, filled, cum_quote, reduce_only, position_side, stp,
status, time, update_time, reduce, margin_price, loss_per_lot, stop_price, working_type,
price_protect, close_position, activation_price, callback_rate, trail_extreme, new_order_id].

Derived data (order-margin aggregates, client-id indexes, open-order counts,
the open-position registry, the liquidation and trigger indexes) is left out:
it is a function of the rest.
"""
from __future__ import annotations

import hashlib

import msgpack

_ALL = 1 << 62


def state_list(venue) -> list:
    symbols = []
    for sym in sorted(venue.symbols):
        st = venue.symbols[sym]
        book = st.book
        sides = []
        for side in (0, 1):
            levels = []
            for price, qty in book.depth(side, _ALL):
                levels.append([price, qty, [list(o) for o in book.level_orders(side, price)]])
            sides.append(levels)
        symbols.append([sym, st.index, st.mark, st.next_trade_id, sides[0], sides[1],
                        [st.last_price, st.mark_pinned, st.mark_rule, list(st.basis), st.premium_sum,
                         st.premium_count, st.last_premium, st.funding_rate, st.last_funding_rate,
                         st.last_funding_time, [list(r) for r in st.funding_history]]])
    accounts = []
    for aid in sorted(venue.accounts):
        a = venue.accounts[aid]
        settings = [[s, v[0], v[1]] for s, v in sorted(a.settings.items())
                    if v[0] != venue.symbols[s].spec.default_leverage or v[1] != 0]
        positions = [a.positions[k].state() for k in sorted(a.positions)]
        accounts.append([aid, a.cross_wallet, a.dual, a.update_time, settings, positions])
    open_orders = [venue.orders[i].state() for i in sorted(venue.orders)]
    closed = [venue.closed[i].state() for i in sorted(venue.closed)]
    return ["paperex-venue-state", 2,
            [venue.next_order_id, venue.next_tran_id],
            [venue.deposits, venue.withdrawals, venue.fees_collected, venue.insurance_fund,
             venue.rounding_residue],
            symbols, accounts, open_orders, closed]


def state_digest(venue) -> str:
    return hashlib.sha256(msgpack.packb(state_list(venue), use_bin_type=True)).hexdigest()
