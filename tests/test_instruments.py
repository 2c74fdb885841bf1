"""Instrument defaults, integer conversions and config loading."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from exchange.contract.instruments import (
    DEFAULT_INSTRUMENTS, Bracket, Instrument, OffGridError, build_brackets, instrument_from_config,
    load_instruments, validate_brackets,
)

M = 100_000_000


def test_btc_defaults():
    b = DEFAULT_INSTRUMENTS["BTCUSDT"]
    assert (b.tick_size, b.step_size) == (Decimal("0.10"), Decimal("0.001"))
    assert b.notional_unit == 10_000
    assert (b.min_price_ticks, b.max_price_ticks) == (5_568, 45_297_640)
    assert (b.min_qty_lots, b.max_qty_lots) == (1, 1_000_000)
    assert (b.market_min_qty_lots, b.market_max_qty_lots) == (1, 120_000)
    assert b.min_notional_money == 50 * M
    assert (b.maker_fee_rate, b.taker_fee_rate) == (20_000, 50_000)
    assert b.liquidation_fee_rate == 1_250_000
    assert b.interest_rate_rate == 10_000
    assert (b.funding_cap_rate, b.funding_floor_rate) == (300_000, -300_000)
    assert b.funding_interval_hours == 8 and b.funding_interval_ms == 28_800_000
    assert (b.percent_price_up_rate, b.percent_price_down_rate) == (105_000_000, 95_000_000)
    assert b.market_take_bound_rate == 5_000_000 and b.trigger_protect_rate == 5_000_000
    assert b.max_num_orders == 200
    assert b.max_leverage == 150 and len(b.brackets) == 12
    assert b.impact_margin_notional == 30_000 * M
    assert b.brackets[1] == Bracket(2, 100, 300_000 * M, 800_000 * M, 500_000, 300 * M)


def test_eth_defaults():
    e = DEFAULT_INSTRUMENTS["ETHUSDT"]
    assert e.notional_unit == 1_000
    assert (e.min_price_ticks, e.max_price_ticks) == (3_986, 30_617_700)
    assert e.max_qty_lots == 10_000_000 and e.market_max_qty_lots == 2_000_000
    assert e.min_notional_money == 20 * M
    assert e.brackets[-1].cum == 280_507_000 * M


def test_conversions_and_grid():
    b = DEFAULT_INSTRUMENTS["BTCUSDT"]
    assert b.price_to_ticks("60000.1") == 600_001
    assert b.price_to_ticks(Decimal("60000.10")) == 600_001
    assert b.ticks_to_price(600_001) == "60000.10"
    assert b.qty_to_lots("0.015") == 15
    assert b.lots_to_qty(15) == "0.015"
    assert b.notional(600_000, -6_000) == 360_000 * M
    with pytest.raises(OffGridError):
        b.price_to_ticks("60000.15")
    with pytest.raises(OffGridError):
        b.qty_to_lots("0.0015")
    with pytest.raises(ValueError):
        b.price_to_ticks("abc")
    assert b.price_in_range(5_568) and not b.price_in_range(5_567)
    assert b.percent_price_bounds(600_000) == (570_000, 630_000)
    assert b.percent_price_bounds(600_001) == (570_001, 630_001)   # 570,000.95 up, 630,001.05 down
    assert b.market_take_bounds(600_000) == (570_000, 630_000)


def test_instruments_are_hashable_and_cached():
    b = DEFAULT_INSTRUMENTS["BTCUSDT"]
    assert hash(b) == hash(b)
    assert b.notional_unit is b.notional_unit


def _btc_cfg(**over):
    cfg = {
        "symbol": "SOLUSDT", "baseAsset": "SOL", "tickSize": "0.0100", "stepSize": "1",
        "minPrice": "0.4200", "maxPrice": "6857", "minQty": "1", "maxQty": "1000000",
        "marketMaxQty": "5000", "minNotional": "5",
        "brackets": [
            {"notionalFloor": "0", "notionalCap": "100000", "initialLeverage": 100, "maintMarginRatio": "0.005"},
            {"notionalFloor": "100000", "notionalCap": "500000", "initialLeverage": 50,
             "maintMarginRatio": "0.01", "cum": "500"},
        ],
    }
    cfg.update(over)
    return cfg


def test_load_config(tmp_path):
    p = tmp_path / "symbols.json"
    p.write_text(json.dumps({"symbols": [_btc_cfg(fundingIntervalHours=4, takerFee="0.0004")]}))
    inst = load_instruments(p)
    assert set(inst) == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    s = inst["SOLUSDT"]
    assert s.notional_unit == 1_000_000
    assert s.price_precision == 2 and s.quantity_precision == 0
    assert s.interest_rate == Decimal("0.00005")            # 0.01 % x 4/8
    assert s.funding_cap == Decimal("0.00375")               # 0.75 x 0.5 %
    assert s.taker_fee_rate == 40_000 and s.maker_fee_rate == 20_000
    assert s.market_min_qty_lots == 1 and s.market_max_qty_lots == 5_000
    assert s.brackets[1].cum == 500 * M
    assert s.ticks_to_price(4_200) == "42.00"
    only = load_instruments(p, include_defaults=False)
    assert set(only) == {"SOLUSDT"}


def test_load_config_bare_list_and_json_numbers(tmp_path):
    p = tmp_path / "symbols.json"
    # JSON numbers are read as Decimal, so 0.01 stays exact
    p.write_text(json.dumps([_btc_cfg()]).replace('"0.0100"', "0.01"))
    assert load_instruments(p)["SOLUSDT"].tick_size == Decimal("0.01")


@pytest.mark.parametrize("over, message", [
    ({"tickSize": "0.015"}, "maxPrice: 6857 is not a multiple of 0.015"),
    ({"stepSize": "0.000000001", "minQty": "1", "tickSize": "0.0000001", "minPrice": "0", "maxPrice": "0"},
     "not an integer"),
    ({"minQty": "0.5"}, "minQty"),
    ({"minQty": "10", "maxQty": "5"}, "minQty <= maxQty"),
    ({"tickSize": "abc"}, "not a decimal"),
    ({"tickSize": "-1"}, "positive"),
    ({"makerFee": "0.000000001"}, "finer"),
    ({"makerFee": "-0.001"}, "maker rebate"),
    ({"multiplierUp": "0.9"}, "PERCENT_PRICE"),
    ({"fundingIntervalHours": 3}, "fundingIntervalHours"),
    ({"fundingIntervalHours": "8"}, "integer"),
    ({"fundingCap": "-0.01"}, "fundingFloor <= 0 <= fundingCap"),
    ({"pricePrecision": 1}, "pricePrecision"),
    ({"symbol": "sol-usdt"}, "upper-case"),
    ({"tickSize": True}, "decimal string"),
    ({"brackets": []}, "non-empty"),
    ({"brackets": [{"notionalFloor": "0", "notionalCap": "100", "initialLeverage": 10}]}, "maintMarginRatio"),
    ({"brackets": [{"notionalFloor": "0", "notionalCap": "100", "initialLeverage": 10,
                    "maintMarginRatio": "0.01", "foo": 1}]}, "unknown key"),
    ({"brackets": [{"notionalFloor": "0", "notionalCap": "100000", "initialLeverage": 100,
                    "maintMarginRatio": "0.005"},
                   {"notionalFloor": "100000", "notionalCap": "500000", "initialLeverage": 50,
                    "maintMarginRatio": "0.01", "cum": "450"}]}, "continuity"),
    ({"brackets": [{"notionalFloor": "0", "notionalCap": "100000", "initialLeverage": 100,
                    "maintMarginRatio": "0.005"},
                   {"notionalFloor": "200000", "notionalCap": "500000", "initialLeverage": 50,
                    "maintMarginRatio": "0.01"}]}, "previous notionalCap"),
    ({"brackets": [{"notionalFloor": "0", "notionalCap": "100000", "initialLeverage": 100,
                    "maintMarginRatio": "0.005"},
                   {"notionalFloor": "100000", "notionalCap": "500000", "initialLeverage": 125,
                    "maintMarginRatio": "0.01"}]}, "initialLeverage must not increase"),
    ({"brackets": [{"notionalFloor": "0", "notionalCap": "100000", "initialLeverage": 100,
                    "maintMarginRatio": "0.005"},
                   {"notionalFloor": "100000", "notionalCap": "500000", "initialLeverage": 50,
                    "maintMarginRatio": "0.004"}]}, "must not decrease"),
    ({"brackets": [{"notionalFloor": "10", "notionalCap": "100000", "initialLeverage": 100,
                    "maintMarginRatio": "0.005"}]}, "start at notional 0"),
    ({"bogus": 1}, "unknown key"),
])
def test_config_errors(tmp_path, over, message):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"symbols": [_btc_cfg(**over)]}))
    with pytest.raises(ValueError, match=message) as e:
        load_instruments(p)
    assert str(p) in str(e.value)


def test_config_missing_key(tmp_path):
    cfg = _btc_cfg()
    del cfg["minNotional"]
    p = tmp_path / "bad.json"
    p.write_text(json.dumps([cfg]))
    with pytest.raises(ValueError, match="SOLUSDT: missing required key.*minNotional"):
        load_instruments(p)


def test_config_file_level_errors(tmp_path):
    p = tmp_path / "x.json"
    with pytest.raises(ValueError, match="cannot read"):
        load_instruments(p)
    p.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_instruments(p)
    p.write_text(json.dumps({"instruments": []}))
    with pytest.raises(ValueError, match="top level"):
        load_instruments(p)
    p.write_text(json.dumps([_btc_cfg(), _btc_cfg()]))
    with pytest.raises(ValueError, match="defined twice"):
        load_instruments(p)
    p.write_text(json.dumps(["SOLUSDT"]))
    with pytest.raises(ValueError, match="must be an object"):
        load_instruments(p)


def test_instrument_from_config_directly():
    assert instrument_from_config(_btc_cfg()).symbol == "SOLUSDT"
    with pytest.raises(ValueError, match="must be an object"):
        instrument_from_config(["SOLUSDT"])


def test_config_may_replace_a_default(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps([_btc_cfg(symbol="BTCUSDT", baseAsset="BTC")]))
    assert load_instruments(p)["BTCUSDT"].min_notional == Decimal("5")


def test_build_and_validate_brackets():
    bs = build_brackets([("0", "50000", 125, "0.004"), ("50000", "250000", 100, "0.005")])
    assert bs[1].cum == 50 * M
    with pytest.raises(ValueError, match="continuity"):
        validate_brackets((bs[0], Bracket(2, 100, 50_000 * M, 250_000 * M, 500_000, 49 * M)))
    with pytest.raises(ValueError, match="empty"):
        validate_brackets(())
    with pytest.raises(ValueError, match="numbered"):
        validate_brackets((Bracket(2, 100, 0, 10, 500_000, 0),))


def test_instrument_rejects_uneven_notional_unit():
    base = DEFAULT_INSTRUMENTS["BTCUSDT"]
    import dataclasses
    with pytest.raises(ValueError, match="BTCUSDT: tickSize\\*stepSize"):
        dataclasses.replace(base, tick_size=Decimal("0.00001"), step_size=Decimal("0.0001"),
                            min_price=Decimal("0"), max_price=Decimal("0"), price_precision=5,
                            quantity_precision=4)
    assert isinstance(base, Instrument)


def test_config_round_trip_gives_an_equal_instrument():
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS, instrument_from_config, instrument_to_config
    for inst in DEFAULT_INSTRUMENTS.values():
        cfg = instrument_to_config(inst)
        assert all(not isinstance(v, float) for v in cfg.values())
        assert instrument_from_config(cfg) == inst
