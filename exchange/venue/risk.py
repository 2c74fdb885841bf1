"""The margin check's bookkeeping: which notionals and leverages the perp margin
formulas get for an account (perp-mechanics §3), integers only.

The formulas themselves are ``exchange.perp`` (``slot_order_margin``,
``initial_margin``, ``unrealized_pnl``); this module walks the venue's accounts.

Definitions (money units; ``lev`` the symbol leverage, ``unit`` notional_unit):

* position notional at mark ``pn = qty * mark * unit`` (signed); without a mark
  the signed entry notional is used (and UPNL is 0).
* position IM ``ceil(|pn| / lev)``; UPNL ``pn - signed_entry``.
* open-order IM of one (symbol, position side) slot:
  - one-way (BOTH), Binance's netting form:
    ``req = max(|pn + bidN|, |pn - askN|)``,
    ``IM = max(0, ceil(req / lev) - ceil(|pn| / lev)) + openLoss(dominant side)``;
  - hedge LONG: ``ceil(bidN / lev) + buyLoss``; SHORT: ``ceil(askN / lev) + sellLoss``.
  bidN/askN sum the remaining position-increasing orders at their price (market
  orders at the reference price: best opposite price, else mark); open loss per
  order is ``qty * max(0, dir * (price - mark))`` fixed when the order is placed.
  ``req`` is also the worst-case position notional checked against the bracket
  cap at the chosen leverage (-2027).
* available = crossWallet + Σ cross UPNL - Σ cross position IM - Σ open-order IM
  (isolated positions are backed by their own wallet; their orders' IM still
  comes out of the cross wallet).
* maxWithdraw = max(0, min(available, crossWallet + min(0, cross UPNL) - Σ IM)).
"""
from __future__ import annotations

from exchange.contract.codes import ISOLATED
from exchange.perp import (initial_margin, slot_margin_change as perp_slot_margin_change,
                           slot_order_margin as perp_slot_order_margin, unrealized_pnl)
from exchange.venue.accounts import Account, OrderAgg
from exchange.venue.positions import Position
from exchange.venue.symbol_state import SymbolState


def position_notional(pos: Position, mark, unit):
    """Signed position notional at mark (entry notional without a mark); ints (money units)."""
    q = pos.qty
    if mark:
        return q * mark * unit
    return pos.entry if q >= 0 else -pos.entry


def slot_order_margin(agg: OrderAgg, position_side, pn, lev) -> tuple:
    """(open-order IM, worst-case position notional) of one slot (``exchange.perp.slot_order_margin``)."""
    return perp_slot_order_margin(position_side, pn, agg.buy_notional, agg.sell_notional, agg.buy_loss,
                                  agg.sell_loss, lev)


def reserve_order_margin(agg: OrderAgg, side, qty, notional, loss, position_side, pn, lev, table) -> tuple:
    """A new order's lots, notional and loss into its slot ``agg``, and ``(verdict, after)``:
    the verdict the order path acts on, 1 when the slot's worst-case position notional passes
    the bracket cap at ``lev`` (``table[lev]``, 0 outside the table), else 2 when the slot's
    open-order margin grew (the balance must be checked), else 0; ``after`` the slot's
    open-order margin with the order (``available_balance`` takes it instead of making it again)."""
    before, after, worst = perp_slot_margin_change(position_side, pn, agg.buy_notional, agg.sell_notional,
                                                   agg.buy_loss, agg.sell_loss, lev, side, notional, loss)
    if side == 0:
        agg.buy_lots += qty
        agg.buy_notional += notional
        agg.buy_loss += loss
    else:
        agg.sell_lots += qty
        agg.sell_notional += notional
        agg.sell_loss += loss
    return (1 if worst > (table[lev] if 0 < lev < len(table) else 0) else (2 if after > before else 0)), after


def release_order_margin(agg: OrderAgg, side, lots, notional_price, loss_per_lot, unit) -> None:
    """Take ``lots`` of an open order (reserved at ``notional_price`` and ``loss_per_lot``)
    out of its slot ``agg``: the part of it that filled or was cancelled."""
    if side == 0:
        agg.buy_lots -= lots
        agg.buy_notional -= notional_price * lots * unit
        agg.buy_loss -= loss_per_lot * lots
    else:
        agg.sell_lots -= lots
        agg.sell_notional -= notional_price * lots * unit
        agg.sell_loss -= loss_per_lot * lots


def account_margin(acct: Account, symbols) -> tuple[int, int, int, int, int]:
    """(available, cross_upnl, cross_position_im, open_order_im, max_withdraw) of an account."""
    agg: OrderAgg
    pos: Position
    st: SymbolState
    cross_upnl = 0
    pos_im = 0
    for key, pos in acct.positions.items():
        q = pos.qty
        if q == 0:
            continue
        sym = key[0]
        settings = acct.settings[sym]
        if settings[1] == ISOLATED:
            continue
        st = symbols[sym]
        mark = st.mark
        unit = st.spec.notional_unit
        if mark:
            cross_upnl += unrealized_pnl(q, pos.entry, mark, unit)
        pos_im += initial_margin(position_notional(pos, mark, unit), settings[0])
    order_im = 0
    for key, agg in acct.aggs.items():
        if agg.buy_notional or agg.sell_notional or agg.buy_loss or agg.sell_loss:
            order_im += slot_margin(acct, key, agg, symbols)[0]
    wallet = acct.cross_wallet
    available = wallet + cross_upnl - pos_im - order_im
    mw = wallet + (cross_upnl if cross_upnl < 0 else 0) - pos_im - order_im
    if available < mw:
        mw = available
    if mw < 0:
        mw = 0
    return available, cross_upnl, pos_im, order_im, mw


def slot_margin(acct: Account, key, agg: OrderAgg, symbols) -> tuple[int, int]:
    pos: Position
    st: SymbolState
    sym = key[0]
    st = symbols[sym]
    pos = acct.positions.get(key)
    pn = position_notional(pos, st.mark, st.spec.notional_unit) if pos is not None and pos.qty else 0
    settings = acct.settings.get(sym)
    lev = settings[0] if settings is not None else st.spec.default_leverage
    return slot_order_margin(agg, key[1], pn, lev)


def available_balance(acct: Account, symbols: dict, known_agg: OrderAgg = None, known_margin=0):
    """``account_margin(acct, symbols)[0]`` (the same sums, without the other four, and with
    the lookups of ``slot_margin`` inlined: it runs once or twice per new order).  The caller
    that has just made the open-order margin of the slot ``known_agg`` (the order path's
    ``reserve_order_margin``, a modify's ``slot_order_margin``) passes it as ``known_margin``:
    that slot's margin is not made a second time."""
    agg: OrderAgg
    pos: Position
    st: SymbolState
    avail = acct.cross_wallet
    settings: dict = acct.settings
    positions: dict = acct.positions
    for key, pos in positions.items():
        q = pos.qty
        if q == 0:
            continue
        sym = key[0]
        s = settings[sym]
        if s[1] == ISOLATED:
            continue
        st = symbols[sym]
        mark = st.mark
        if mark:
            unit = st.spec.notional_unit
            avail += unrealized_pnl(q, pos.entry, mark, unit)
            avail -= initial_margin(q * mark * unit, s[0])
        else:
            avail -= initial_margin(pos.entry, s[0])
    for key, agg in acct.aggs.items():
        if agg.buy_notional or agg.sell_notional or agg.buy_loss or agg.sell_loss:
            if agg is known_agg:
                avail -= known_margin
                continue
            sym = key[0]
            st = symbols[sym]
            pos = positions.get(key)
            pn = position_notional(pos, st.mark, st.spec.notional_unit) if pos is not None and pos.qty else 0
            s = settings.get(sym)
            lev = s[0] if s is not None else st.spec.default_leverage
            avail -= perp_slot_order_margin(key[1], pn, agg.buy_notional, agg.sell_notional, agg.buy_loss,
                                            agg.sell_loss, lev)[0]
    return avail
