"""Each matching rule with hand-computed expectations, run on both books."""
from array import array

import pytest

from matching import (
    ACCEPTED, BUY, CANCELED, EXPIRED, FILL, FOK, GTC, GTX, IOC, MARKET, MODIFIED,
    OP_CANCEL, OP_MODIFY, OP_SUBMIT, REASON_BAD_PARAM, REASON_BAD_PRICE,
    REASON_BAD_QUANTITY, REASON_DUPLICATE_ID, REASON_FOK, REASON_GTX, REASON_IOC,
    REASON_MODIFY_FILLED, REASON_NO_LIQUIDITY, REASON_STP_MAKER, REASON_STP_TAKER,
    REASON_UNKNOWN_ORDER, REASON_USER, REJECTED, REPORT_WIDTH, RESTED, SELL,
    STP_EXPIRE_BOTH, STP_EXPIRE_MAKER, STP_EXPIRE_TAKER,
)

A, B, C = 100, 200, 300  # owners


def test_limit_rests_and_reports_accept_then_rest(book):
    assert book.submit(1, A, BUY, 1000, 5) == [(ACCEPTED, 1), (RESTED, 1, 1000, 5)]
    assert book.best_bid() == 1000 and book.best_ask() is None
    assert book.depth(BUY, 10) == [(1000, 5)]
    assert len(book) == 1


def test_price_priority_then_time_priority(book):
    book.submit(1, A, SELL, 1002, 3)
    book.submit(2, B, SELL, 1001, 3)
    book.submit(3, C, SELL, 1001, 3)
    reports = book.submit(4, A, BUY, 1002, 8)
    # best price first (1001), oldest first within it (2 before 3), then 1002
    assert reports == [
        (ACCEPTED, 4),
        (FILL, 4, 2, A, B, 1001, 3, 0),
        (FILL, 4, 3, A, C, 1001, 3, 0),
        (FILL, 4, 1, A, A, 1002, 2, 1),
    ]
    assert book.depth(SELL, 5) == [(1002, 1)]
    assert book.best_bid() is None


def test_taker_trades_at_maker_price_and_rests_remainder(book):
    book.submit(1, A, SELL, 1000, 2)
    assert book.submit(2, B, BUY, 1005, 5) == [
        (ACCEPTED, 2), (FILL, 2, 1, B, A, 1000, 2, 0), (RESTED, 2, 1005, 3)]
    assert book.best_bid() == 1005 and book.best_ask() is None


def test_ioc_expires_remainder(book):
    book.submit(1, A, SELL, 1000, 2)
    book.submit(2, A, SELL, 1010, 2)
    assert book.submit(3, B, BUY, 1005, 5, IOC) == [
        (ACCEPTED, 3), (FILL, 3, 1, B, A, 1000, 2, 0), (EXPIRED, 3, 3, REASON_IOC)]
    assert book.depth(SELL, 5) == [(1010, 2)]
    assert book.depth(BUY, 5) == []


def test_fok_all_or_nothing(book):
    book.submit(1, A, SELL, 1000, 2)
    book.submit(2, A, SELL, 1001, 2)
    assert book.submit(3, B, BUY, 1001, 5, FOK) == [(ACCEPTED, 3), (EXPIRED, 3, 5, REASON_FOK)]
    assert book.depth(SELL, 5) == [(1000, 2), (1001, 2)]
    assert book.submit(4, B, BUY, 1001, 4, FOK) == [
        (ACCEPTED, 4), (FILL, 4, 1, B, A, 1000, 2, 0), (FILL, 4, 2, B, A, 1001, 2, 0)]
    assert len(book) == 0


def test_gtx_post_only_never_takes(book):
    book.submit(1, A, SELL, 1000, 2)
    assert book.submit(2, B, BUY, 1000, 1, GTX) == [(ACCEPTED, 2), (EXPIRED, 2, 1, REASON_GTX)]
    assert book.submit(3, B, BUY, 999, 1, GTX) == [(ACCEPTED, 3), (RESTED, 3, 999, 1)]
    assert book.depth(SELL, 1) == [(1000, 2)]


def test_market_sweeps_then_expires_when_book_runs_dry(book):
    book.submit(1, A, SELL, 1000, 1)
    book.submit(2, A, SELL, 5000, 1)
    assert book.submit(3, B, BUY, 0, 3, MARKET) == [
        (ACCEPTED, 3), (FILL, 3, 1, B, A, 1000, 1, 0), (FILL, 3, 2, B, A, 5000, 1, 0),
        (EXPIRED, 3, 1, REASON_NO_LIQUIDITY)]
    assert book.submit(4, B, SELL, 0, 1, MARKET) == [(ACCEPTED, 4), (EXPIRED, 4, 1, REASON_NO_LIQUIDITY)]


def test_cancel_by_id(book):
    book.submit(1, A, BUY, 1000, 5)
    book.submit(2, B, BUY, 1000, 7)
    assert book.cancel(1) == [(CANCELED, 1, 5, REASON_USER)]
    assert book.level_orders(BUY, 1000) == [(2, B, 7)]
    assert book.depth(BUY, 1) == [(1000, 7)]
    assert book.cancel(1) == [(REJECTED, 1, REASON_UNKNOWN_ORDER)]
    assert book.cancel(2) == [(CANCELED, 2, 7, REASON_USER)]
    assert book.depth(BUY, 1) == [] and book.best_bid() is None


def test_modify_reduce_keeps_queue_position(book):
    book.submit(1, A, BUY, 1000, 5)
    book.submit(2, B, BUY, 1000, 5)
    assert book.modify(1, 1000, 3) == [(MODIFIED, 1, 1000, 3, 3, 1)]
    assert book.level_orders(BUY, 1000) == [(1, A, 3), (2, B, 5)]
    assert book.depth(BUY, 1) == [(1000, 8)]


def test_modify_increase_goes_to_back(book):
    book.submit(1, A, BUY, 1000, 5)
    book.submit(2, B, BUY, 1000, 5)
    assert book.modify(1, 1000, 6) == [(MODIFIED, 1, 1000, 6, 6, 0), (RESTED, 1, 1000, 6)]
    assert book.level_orders(BUY, 1000) == [(2, B, 5), (1, A, 6)]


def test_modify_price_change_goes_to_back_of_new_level_and_can_take(book):
    book.submit(1, A, BUY, 1000, 5)
    book.submit(2, B, BUY, 999, 5)
    assert book.modify(1, 999, 5) == [(MODIFIED, 1, 999, 5, 5, 0), (RESTED, 1, 999, 5)]
    assert book.level_orders(BUY, 999) == [(2, B, 5), (1, A, 5)]
    book.submit(3, C, SELL, 1001, 2)
    assert book.modify(1, 1001, 5) == [
        (MODIFIED, 1, 1001, 5, 5, 0), (FILL, 1, 3, A, C, 1001, 2, 0), (RESTED, 1, 1001, 3)]


def test_modify_partially_filled_order(book):
    book.submit(1, A, SELL, 1000, 10)
    book.submit(2, B, BUY, 1000, 4)  # fills 4 of order 1
    assert book.order(1) == (SELL, 1000, 10, 4, A, GTC, 0)
    # new total 6 > filled 4: keeps priority, 2 remain
    assert book.modify(1, 1000, 6) == [(MODIFIED, 1, 1000, 6, 2, 1)]
    assert book.depth(SELL, 1) == [(1000, 2)]
    # a total not above the filled quantity cancels the order
    assert book.modify(1, 1000, 4) == [(CANCELED, 1, 2, REASON_MODIFY_FILLED)]
    assert book.order(1) is None and book.depth(SELL, 1) == []


def test_modify_post_only_that_would_take_expires(book):
    book.submit(1, A, BUY, 999, 1, GTX)
    book.submit(2, B, SELL, 1001, 1)
    assert book.modify(1, 1001, 1) == [(MODIFIED, 1, 1001, 1, 1, 0), (EXPIRED, 1, 1, REASON_GTX)]
    assert book.order(1) is None


def test_stp_expire_taker(book):
    book.submit(1, B, SELL, 1000, 1)
    book.submit(2, A, SELL, 1000, 1)
    book.submit(3, B, SELL, 1000, 1)
    assert book.submit(4, A, BUY, 1000, 5, GTC, STP_EXPIRE_TAKER) == [
        (ACCEPTED, 4), (FILL, 4, 1, A, B, 1000, 1, 0), (EXPIRED, 4, 4, REASON_STP_TAKER)]
    assert book.level_orders(SELL, 1000) == [(2, A, 1), (3, B, 1)]


def test_stp_expire_maker(book):
    book.submit(1, A, SELL, 1000, 1)
    book.submit(2, B, SELL, 1000, 1)
    assert book.submit(3, A, BUY, 1000, 2, GTC, STP_EXPIRE_MAKER) == [
        (ACCEPTED, 3), (EXPIRED, 1, 1, REASON_STP_MAKER), (FILL, 3, 2, A, B, 1000, 1, 0),
        (RESTED, 3, 1000, 1)]
    assert book.best_bid() == 1000 and book.best_ask() is None


def test_stp_expire_both(book):
    book.submit(1, A, SELL, 1000, 1)
    book.submit(2, B, SELL, 1000, 1)
    assert book.submit(3, A, BUY, 1000, 2, GTC, STP_EXPIRE_BOTH) == [
        (ACCEPTED, 3), (EXPIRED, 1, 1, REASON_STP_MAKER), (EXPIRED, 3, 2, REASON_STP_TAKER)]
    assert book.level_orders(SELL, 1000) == [(2, B, 1)]


def test_stp_none_allows_self_trade(book):
    book.submit(1, A, SELL, 1000, 1)
    assert book.submit(2, A, BUY, 1000, 1) == [(ACCEPTED, 2), (FILL, 2, 1, A, A, 1000, 1, 0)]


def test_fok_with_stp_counts_only_tradeable_makers(book):
    book.submit(1, A, SELL, 1000, 1)
    book.submit(2, B, SELL, 1000, 1)
    # EXPIRE_TAKER stops at the own maker: nothing fillable, so nothing expires either
    assert book.submit(3, A, BUY, 1000, 1, FOK, STP_EXPIRE_TAKER) == [(ACCEPTED, 3), (EXPIRED, 3, 1, REASON_FOK)]
    assert len(book) == 2
    # EXPIRE_MAKER skips it: 1 lot is fillable from B
    assert book.submit(4, A, BUY, 1000, 1, FOK, STP_EXPIRE_MAKER) == [
        (ACCEPTED, 4), (EXPIRED, 1, 1, REASON_STP_MAKER), (FILL, 4, 2, A, B, 1000, 1, 0)]


@pytest.mark.parametrize("args,reason", [
    ((1, A, 2, 1000, 1, GTC, 0), REASON_BAD_PARAM),
    ((1, A, BUY, 1000, 1, 9, 0), REASON_BAD_PARAM),
    ((1, A, BUY, 1000, 1, GTC, 7), REASON_BAD_PARAM),
    ((1, A, BUY, 1000, 0, GTC, 0), REASON_BAD_QUANTITY),
    ((1, A, BUY, 0, 1, GTC, 0), REASON_BAD_PRICE),
    ((1, A, BUY, -5, 1, IOC, 0), REASON_BAD_PRICE),
])
def test_bad_submits_are_rejected_and_change_nothing(book, args, reason):
    assert book.submit(*args) == [(REJECTED, 1, reason)]
    assert len(book) == 0 and book.changed_levels() == []


def test_duplicate_resting_id_rejected(book):
    book.submit(1, A, BUY, 1000, 1)
    assert book.submit(1, A, BUY, 900, 1) == [(REJECTED, 1, REASON_DUPLICATE_ID)]
    assert book.depth(BUY, 5) == [(1000, 1)]


def test_modify_rejections(book):
    assert book.modify(9, 1000, 1) == [(REJECTED, 9, REASON_UNKNOWN_ORDER)]
    book.submit(1, A, BUY, 1000, 1)
    assert book.modify(1, 1000, 0) == [(REJECTED, 1, REASON_BAD_QUANTITY)]
    assert book.modify(1, 0, 1) == [(REJECTED, 1, REASON_BAD_PRICE)]
    assert book.order(1) == (BUY, 1000, 1, 0, A, GTC, 0)


def test_changed_levels_since_last_call(book):
    book.submit(1, A, BUY, 1000, 1)
    book.submit(2, A, SELL, 1010, 2)
    book.submit(3, A, SELL, 1011, 2)
    assert book.changed_levels() == [(BUY, 1000, 1), (SELL, 1010, 2), (SELL, 1011, 2)]
    assert book.changed_levels() == []
    book.submit(4, B, BUY, 1010, 3)  # takes 1010 entirely and rests 1 at 1010
    assert book.changed_levels() == [(BUY, 1010, 1), (SELL, 1010, 0)]
    book.cancel(1)
    assert book.changed_levels() == [(BUY, 1000, 0)]


def test_report_changes_to_names_the_book_at_its_first_change_after_a_drain(book):
    touched = []
    book.submit(1, A, BUY, 1000, 2)
    book.report_changes_to(touched, "BTCUSDT")      # changes already logged: named at once
    assert touched == ["BTCUSDT"]
    book.submit(2, A, BUY, 999, 1)                  # not drained yet: not named again
    assert touched == ["BTCUSDT"]
    assert book.changed_levels() == [(BUY, 999, 1), (BUY, 1000, 2)]
    touched.clear()
    assert book.cancel(9) == [(REJECTED, 9, REASON_UNKNOWN_ORDER)]
    assert touched == []                            # nothing changed: not named
    book.submit(3, B, SELL, 1000, 1)                # a match is the first change
    assert touched == ["BTCUSDT"]
    assert book.changed_levels() == [(BUY, 1000, 1)]
    touched.clear()
    book.modify(1, 1000, 1)                         # a modify down to its fill cancels it
    assert touched == ["BTCUSDT"] and book.changed_levels() == [(BUY, 1000, 0)]
    touched.clear()
    book.submit(5, A, BUY, 990, 3)
    book.changed_levels()
    touched.clear()
    book.modify(5, 990, 2)                          # a same-price reduction keeps its place
    assert touched == ["BTCUSDT"] and book.changed_levels() == [(BUY, 990, 2)]
    touched.clear()
    book.cancel(2)                                  # a cancel is the first change
    assert touched == ["BTCUSDT"] and book.changed_levels() == [(BUY, 999, 0)]
    touched.clear()
    book.submit(4, B, SELL, 1005, 1)                # resting on the other side is the first change
    assert touched == ["BTCUSDT"] and book.changed_levels() == [(SELL, 1005, 1)]


def test_depth_is_aggregated_best_first(book):
    for i, (side, px, q) in enumerate([(BUY, 990, 1), (BUY, 995, 2), (BUY, 995, 3), (SELL, 1005, 4),
                                        (SELL, 1001, 5), (SELL, 1001, 1)]):
        book.submit(i + 1, A, side, px, q)
    assert book.depth(BUY, 10) == [(995, 5), (990, 1)]
    assert book.depth(SELL, 1) == [(1001, 6)]
    assert book.depth(SELL, 0) == []


def test_batch_matches_single_calls(book):
    ops = array("q", [
        OP_SUBMIT, 1, A, SELL, 1000, 5, GTC, 0,
        OP_SUBMIT, 2, B, BUY, 1000, 2, IOC, 0,
        OP_MODIFY, 1, 0, 0, 1000, 4, 0, 0,
        OP_CANCEL, 1, 0, 0, 0, 0, 0, 0,
        OP_CANCEL, 1, 0, 0, 0, 0, 0, 0,
        9, 7, 0, 0, 0, 0, 0, 0,
    ])
    out = book.execute_batch(ops)
    rows = [tuple(out[i:i + REPORT_WIDTH]) for i in range(0, len(out), REPORT_WIDTH)]
    assert rows == [
        (0, ACCEPTED, 1, 0, 0, 0, 0, 0, 0),
        (0, RESTED, 1, 1000, 5, 0, 0, 0, 0),
        (1, ACCEPTED, 2, 0, 0, 0, 0, 0, 0),
        (1, FILL, 2, 1, B, A, 1000, 2, 3),
        (2, MODIFIED, 1, 1000, 4, 2, 1, 0, 0),
        (3, CANCELED, 1, 2, REASON_USER, 0, 0, 0, 0),
        (4, REJECTED, 1, REASON_UNKNOWN_ORDER, 0, 0, 0, 0, 0),
        (5, REJECTED, 7, REASON_BAD_PARAM, 0, 0, 0, 0, 0),
    ]


def test_large_ids_and_prices_are_64_bit(book):
    big = 2**62 + 12345
    assert book.submit(big, -big, BUY, 2**61, 2**40) == [(ACCEPTED, big), (RESTED, big, 2**61, 2**40)]
    assert book.order(big) == (BUY, 2**61, 2**40, 0, -big, GTC, 0)
