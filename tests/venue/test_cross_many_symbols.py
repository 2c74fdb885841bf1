"""Cross margin across 20 symbols as on Binance (perp-mechanics 4.5): one wallet, twenty
positions, account-level liquidation that cancels every open order first and steps the
largest position down one bracket when that suffices; the journal of the run replays."""
from decimal import Decimal

from exchange.contract import codes as C
from exchange.contract.commands import (CreateAccount, Deposit, NewOrder, SetIndexPrice, SetLeverage,
                                        SetMarkPrice)
from exchange.contract.events import ForceOrder, MarginCall, OrderCanceled
from exchange.contract.symbol_sets import resolve_symbols
from exchange.engine.replay import replay
from exchange.engine.runtime import Runtime

USDT = 100_000_000
T0 = 1_700_000_000_000
TRADER, SELLER, BIDDER = 1, 2, 3


def _market():
    served = resolve_symbols("binance:top20")
    assert len(served.instruments) == 20
    return served.instruments, served.profiles


def _open_book(seq, insts, profiles, btc_notional: int, small_notional: int) -> dict:
    """TRADER long in all 20 symbols at their reference prices (BTCUSDT big, the rest small),
    cross, leverage 50; BIDDER's bids at the reference price wait for liquidation orders."""
    cmds = []
    for a, cash in ((TRADER, 12_000), (SELLER, 10_000_000), (BIDDER, 10_000_000)):
        cmds += [CreateAccount(a), Deposit(a, cash * USDT)]
    ref = {}
    for sym, inst in insts.items():
        ref[sym] = inst.price_to_ticks(profiles[sym].reference_price)
        cmds += [SetIndexPrice(sym, ref[sym]), SetLeverage(TRADER, sym, 50)]
    seq.execute(cmds)
    qty = {}
    for sym, inst in insts.items():
        notional = btc_notional if sym == "BTCUSDT" else small_notional
        lots = max(inst.min_qty_lots, int(Decimal(notional) / (profiles[sym].reference_price * inst.step_size)))
        qty[sym] = lots
        seq.execute([NewOrder(SELLER, sym, C.SELL, C.LIMIT, C.GTC, lots, ref[sym], 0, C.BOTH, "", 0)])
        seq.execute([NewOrder(TRADER, sym, C.BUY, C.MARKET, C.GTC, lots, 0, 0, C.BOTH, "", 0)])
        seq.execute([NewOrder(BIDDER, sym, C.BUY, C.LIMIT, C.GTC, lots * 2, ref[sym], 0, C.BOTH, "", 0)])
    return {"ref": ref, "qty": qty}


def test_twenty_positions_one_wallet_partial_then_stop(tmp_path):
    insts, profiles = _market()
    rt = Runtime.virtual(T0, data_dir=tmp_path, instruments=insts, timers=False)
    seq, v = rt.sequencer, rt.venue
    book = _open_book(seq, insts, profiles, btc_notional=400_000, small_notional=5_000)
    acct = v.accounts[TRADER]
    assert sum(1 for p in acct.positions.values() if p.qty) == 20
    # resting orders of the trader on three symbols, one far from the market
    for sym in ("ETHUSDT", "DOTUSDT", "EOSUSDT"):
        seq.execute([NewOrder(TRADER, sym, C.BUY, C.LIMIT, C.GTC, book["qty"][sym],
                              book["ref"][sym] * 90 // 100, 0, C.BOTH, "", 0)])
    assert len(acct.orders) == 3
    # every other symbol falls 2.5 %: one wallet carries the losses, nobody is liquidated yet
    for sym in insts:
        if sym != "BTCUSDT":
            ev = seq.execute([SetMarkPrice(sym, book["ref"][sym] * 975 // 1000)])[0].events
            assert not any(isinstance(e, ForceOrder) for e in ev)
    assert v.money_identity()["balanced"]
    # BTCUSDT to its (cross, 20-symbol) liquidation price
    lp = v.liquidation_price(TRADER, "BTCUSDT", C.BOTH)
    assert 0 < lp < book["ref"]["BTCUSDT"]
    events = seq.execute([SetMarkPrice("BTCUSDT", lp - 1)])[0].events
    calls = [e for e in events if isinstance(e, MarginCall)]
    assert len(calls) == 20                                    # one per position of the account
    forced = [i for i, e in enumerate(events) if isinstance(e, ForceOrder)]
    cancels = [i for i, e in enumerate(events) if isinstance(e, OrderCanceled) and e.account_id == TRADER]
    assert len(cancels) == 3 and max(cancels) < min(forced)     # every open order first, on every symbol
    assert acct.orders == {}
    # the big position above bracket 1 is stepped down into bracket 1, and that suffices:
    fo = [events[i] for i in forced]
    assert [f.symbol for f in fo] == ["BTCUSDT"]
    btc = acct.positions[("BTCUSDT", C.BOTH)]
    spec_cap = insts["BTCUSDT"].brackets[0].notional_cap
    assert 0 < btc.qty and btc.qty * v.symbols["BTCUSDT"].mark * insts["BTCUSDT"].notional_unit <= spec_cap
    assert sum(1 for p in acct.positions.values() if p.qty) == 20   # no other position touched
    assert not v._cross_liquidatable(acct)
    assert v.money_identity()["balanced"]
    # a further fall of everything: the rest is liquidated, and nobody stays below maintenance
    for sym in insts:
        seq.execute([SetMarkPrice(sym, book["ref"][sym] * 90 // 100)])
    assert not v._cross_liquidatable(acct)
    assert sum(1 for p in acct.positions.values() if p.qty) < 20
    assert acct.cross_wallet >= 0
    assert v.money_identity()["balanced"]
    digest, n = v.state_digest(), seq.seq
    rt.close()
    result = replay(tmp_path / "journal", verify=True)
    assert result.divergence is None and result.commands == n
    assert result.venue.state_digest() == digest
