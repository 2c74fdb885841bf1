"""Command/event records, the state digest, and the query API."""
import hashlib

import msgpack
import pytest

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue import Venue
from exchange.contract.commands import command_from_record
from exchange.contract.events import event_from_record
from exchange.contract import codes as C
from exchange.contract.commands import COMMANDS, CancelOrder, CreateAccount, Deposit, NewOrder
from exchange.venue.digest import state_list
from exchange.contract.events import EVENTS, CommandRejected, OrderAccepted

from conftest import BTC, USDT, limit, lots, px


def test_kinds_are_stable_and_in_range():
    assert all(0 < k < 1000 for k in COMMANDS.by_kind)
    assert all(k >= 1000 for k in EVENTS.by_kind)
    assert {cls.__name__: k for k, cls in COMMANDS.by_kind.items()} == {
        "CreateAccount": 1, "Deposit": 2, "Withdraw": 3, "SetLeverage": 4, "SetMarginType": 5,
        "SetPositionMode": 6, "NewOrder": 10, "CancelOrder": 11, "ModifyOrder": 12,
        "CancelAllOrders": 13, "SetIndexPrice": 20, "SetMarkPrice": 21, "RefreshMarkPrice": 22,
        "SamplePremium": 23, "SettleFunding": 24, "AdjustIsolatedMargin": 25, "FundInsurance": 26,
        "InjectFault": 30, "SeedHistory": 31, "OpenCompetition": 32, "RecordStandings": 33}
    assert {cls.__name__: k for k, cls in EVENTS.by_kind.items()} == {
        "AccountCreated": 1000, "BalanceChanged": 1001, "Income": 1002, "CommandRejected": 1003,
        "LeverageChanged": 1004, "MarginTypeChanged": 1005, "PositionModeChanged": 1006,
        "OrderAccepted": 1010, "OrderRejected": 1011, "OrderFilled": 1012, "OrderCanceled": 1013,
        "OrderExpired": 1014, "OrderModified": 1015, "PositionChanged": 1020,
        "IndexPriceChanged": 1030, "MarkPriceChanged": 1031, "FundingSettled": 1032, "PremiumSampled": 1033,
        "MarginCall": 1040, "ForceOrder": 1041, "PositionClosedOut": 1042, "InsuranceFundChanged": 1043,
        "OrderTriggered": 1016, "PositionMarginChanged": 1021}


def test_records_round_trip_through_msgpack():
    c = NewOrder(1, BTC, C.BUY, C.LIMIT, C.GTC, 5, 100, 0, 0, "x-1", 2)
    rec = msgpack.unpackb(msgpack.packb(c.to_record()), raw=False)
    assert rec == [10, [1, BTC, 0, 0, 0, 5, 100, 0, 0, "x-1", 2]]
    assert command_from_record(rec) == c
    # trailing defaulted fields may be omitted
    assert command_from_record([11, [1, BTC, 7]]) == CancelOrder(1, BTC, 7, "")
    e = OrderAccepted(1, 2, BTC, "c", 0, 0, 0, 100, 5, 0, 0, 0)
    assert event_from_record(msgpack.unpackb(msgpack.packb(e.to_record()), raw=False)) == e


@pytest.mark.parametrize("rec", [
    None, [], [10], [999, []], ["10", []], [10, "x"], [10, [1, BTC]],
    [10, [1, BTC, 0, 0, 0, 5, 100, 0, 0, "x", 2, 0, 0, 0, 0, 0, 0, 0, 9]], [10, [1, BTC, 0, 0, 0, 5.0, 100]],
    [10, [1, BTC, 0, 0, 0, 5, 100, 0, 0, "x", 2, "9"]],
    [10, [1, 5, 0, 0, 0, 5, 100]], [1, [True]],
])
def test_malformed_records_are_refused(rec):
    with pytest.raises(ValueError):
        command_from_record(rec)


def test_unknown_command_is_an_answer(venue):
    before = venue.state_digest()
    ev = venue.apply(1, ("not", "a", "command"))
    assert isinstance(ev[0], CommandRejected) and ev[0].code == -1000
    assert venue.state_digest() == before


def test_digest_is_the_documented_hash(venue):
    venue.apply(1, limit(1, C.BUY, 10, px(49000)))
    payload = msgpack.packb(state_list(venue), use_bin_type=True)
    assert venue.state_digest() == hashlib.sha256(payload).hexdigest()
    s = state_list(venue)
    assert s[:2] == ["paperex-venue-state", 2]
    btc = [x for x in s[4] if x[0] == BTC][0]
    assert btc[4] == [[px(49000), 10, [[1, 1, 10]]]] and btc[5] == []


def test_digest_equal_for_equal_states_and_changes_with_state():
    cmds = [CreateAccount(1), Deposit(1, 10 * USDT), CreateAccount(2), Deposit(2, 10 * USDT)]
    a, b = Venue(DEFAULT_INSTRUMENTS), Venue(DEFAULT_INSTRUMENTS)
    for c in cmds:
        a.apply(0, c)
    for c in cmds:
        b.apply(0, c)
    assert a.state_digest() == b.state_digest()
    b.apply(0, Deposit(2, 1))
    assert a.state_digest() != b.state_digest()
    # instruments given in another order make the same venue
    c = Venue(list(reversed(list(DEFAULT_INSTRUMENTS.values()))))
    for cmd in cmds:
        c.apply(0, cmd)
    assert c.state_digest() == a.state_digest()


def test_queries(venue):
    oid = venue.apply(5, limit(1, C.BUY, lots("0.1"), px(49000), client_order_id="q1"))[0].order_id
    o = venue.order(1, BTC, order_id=oid)
    assert (o["status"], o["qty"], o["price"], o["client_order_id"], o["time"]) == (C.NEW, 100, px(49000), "q1", 5)
    assert venue.order(1, BTC, client_order_id="q1") == o
    assert venue.order(2, BTC, order_id=oid) is None          # not yours
    assert venue.order(1, "ETHUSDT", order_id=oid) is None    # other symbol
    assert venue.order(1, BTC, order_id=999) is None
    acc = venue.account(1)
    assert acc["open_order_initial_margin"] == 100 * px(49000) * 10_000 // 20
    assert acc["available_balance"] == 100_000 * USDT - acc["open_order_initial_margin"]
    assert [p["symbol"] for p in acc["positions"]] == [BTC]     # open orders make a row
    venue.apply(6, limit(2, C.SELL, lots("0.1"), px(49000)))
    o = venue.order(1, BTC, order_id=oid)
    assert (o["status"], o["filled_qty"], o["cum_quote"], o["update_time"]) == (C.FILLED, 100, 4900 * USDT, 6)
    row = venue.position_risk(1, BTC)[0]
    # mark 50,000: UPNL 0.1 x 1,000 = 100; IM 5,000/20 = 250; MM 0.4 % of 5,000 = 20
    assert (row["qty"], row["unrealized_pnl"], row["position_initial_margin"], row["maint_margin"]) == (
        100, 100 * USDT, 250 * USDT, 20 * USDT)
    assert venue.position_risk(1, "ETHUSDT") == []
    assert venue.account(99) is None


def test_closed_history_is_bounded():
    v = Venue(DEFAULT_INSTRUMENTS, history_limit=3)
    v.apply(0, CreateAccount(1))
    v.apply(0, Deposit(1, 1000 * USDT))
    ids = []
    for i in range(5):
        ids.append(v.apply(1, limit(1, C.BUY, 10, px(40000), client_order_id=f"h{i}"))[0].order_id)
        v.apply(1, CancelOrder(1, BTC, ids[-1]))
    assert sorted(v.closed) == ids[2:]
    assert v.order(1, BTC, order_id=ids[0]) is None
    assert v.order(1, BTC, client_order_id="h0") is None
    assert v.order(1, BTC, client_order_id="h4")["order_id"] == ids[4]
