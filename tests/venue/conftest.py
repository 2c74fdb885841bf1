import pytest

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue import Venue
from exchange.contract import codes as C
from exchange.contract.commands import CreateAccount, Deposit, NewOrder, SetIndexPrice

USDT = 100_000_000          # money units per USDT
BTC = "BTCUSDT"             # tick 0.10, step 0.001 -> notional_unit 10_000
ETH = "ETHUSDT"             # tick 0.01, step 0.001 -> notional_unit 1_000


def px(usdt: str | int, tick=10) -> int:
    """BTC price in ticks (tick 0.10): px(50000) == 500_000."""
    from decimal import Decimal
    return int(Decimal(str(usdt)) * tick)


def lots(qty: str | int) -> int:
    from decimal import Decimal
    return int(Decimal(str(qty)) * 1000)


def kinds(events):
    return [type(e).__name__ for e in events]


def only(events, cls):
    return [e for e in events if isinstance(e, cls)]


def limit(account, side, qty, price, symbol=BTC, tif=C.GTC, **kw):
    return NewOrder(account, symbol, side, C.LIMIT, tif, qty, price, **kw)


def market(account, side, qty, symbol=BTC, **kw):
    return NewOrder(account, symbol, side, C.MARKET, C.GTC, qty, 0, **kw)


def funded_venue(btc_index: int = 50000) -> Venue:
    """Accounts 1..3 with 100,000 USDT each; the BTC index at ``btc_index`` USDT."""
    v = Venue(DEFAULT_INSTRUMENTS)
    for a in (1, 2, 3):
        v.apply(0, CreateAccount(a))
        v.apply(0, Deposit(a, 100_000 * USDT))
    v.apply(0, SetIndexPrice(BTC, px(btc_index)))
    return v


@pytest.fixture
def venue():
    """Accounts 1..3 with 100,000 USDT each; BTC and ETH index/mark at 50,000 / 3,000."""
    v = funded_venue()
    v.apply(0, SetIndexPrice(ETH, 300_000))
    return v


@pytest.fixture
def bare():
    return Venue(DEFAULT_INSTRUMENTS)
