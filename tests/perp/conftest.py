"""Shared fixtures for the perpetual-futures math tests."""
from __future__ import annotations

import pytest

from exchange.contract.instruments import DEFAULT_INSTRUMENTS, build_brackets

M = 100_000_000   # one USDT in money units


@pytest.fixture
def btc():
    return DEFAULT_INSTRUMENTS["BTCUSDT"]


@pytest.fixture
def btc_2021_brackets():
    """BTCUSDT table of 2021, the one behind Binance's published cross example (spec 4.3)."""
    return build_brackets([
        ("0", "50000", 125, "0.004"), ("50000", "250000", 100, "0.005"),
        ("250000", "1000000", 50, "0.01"), ("1000000", "10000000", 20, "0.025"),
        ("10000000", "20000000", 10, "0.05"), ("20000000", "50000000", 5, "0.10"),
    ])


@pytest.fixture
def eth_2021_brackets():
    """ETHUSDT table of 2021: tier 6 (2M-5M) is the 10 % / cum 135,365 of the example."""
    return build_brackets([
        ("0", "10000", 100, "0.005"), ("10000", "100000", 75, "0.0065"),
        ("100000", "500000", 50, "0.01"), ("500000", "1000000", 25, "0.02"),
        ("1000000", "2000000", 10, "0.05"), ("2000000", "5000000", 5, "0.10"),
        ("5000000", "10000000", 4, "0.125"),
    ])
