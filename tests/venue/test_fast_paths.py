"""The venue's fast paths give exactly what the general code gives.

* ``Liquidation._reindex`` has a fast path for an account with one cross
  position; ``liquidation.reindex_general`` is the code for every account.  After every
  command of random perp sequences, both are run on every account at the same
  state and must return the same due list and the same index entries.
* ``Venue._new_order`` returns at once when the book reports that the order
  rested without trading; the rest of the pipeline (``_process``) must then
  have nothing to do: a venue whose book reports go through ``_process``
  anyway gives the same events and digest.
"""
from hypothesis import HealthCheck, given, settings, strategies as st

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue import Venue
from exchange.contract import codes as C
from exchange.contract.commands import CancelOrder, CreateAccount, Deposit, NewOrder, SetIndexPrice, SetMarkPrice, \
    SetMarginType, SetLeverage, SettleFunding
from exchange.venue.liquidation import reindex_general
from matching import Book
from matching.constants import RESTED

USDT = 100_000_000
BTC = "BTCUSDT"
MARK = 500_000


def _entries(v, acct):
    return sorted((k, item, d) for k, (item, d) in acct.liq.items())


def _check_reindex(v):
    for acct in v.accounts.values():
        v._unindex(acct)
        due_fast = v._reindex(acct)
        fast = _entries(v, acct)
        v._unindex(acct)
        due_general = reindex_general(v.symbols, acct)
        assert due_fast == due_general, acct.account_id
        assert fast == _entries(v, acct), acct.account_id


@st.composite
def commands(draw):
    out = []
    for _ in range(draw(st.integers(20, 120))):
        k = draw(st.integers(0, 9))
        a = draw(st.integers(1, 6))
        if k < 6:
            otype = draw(st.sampled_from([C.LIMIT, C.LIMIT, C.MARKET]))
            side = draw(st.integers(0, 1))
            price = MARK + draw(st.integers(-30, 30)) * 10 if otype == C.LIMIT else 0
            out.append(NewOrder(a, BTC, side, otype, draw(st.sampled_from([C.GTC, C.IOC])),
                                draw(st.sampled_from([1, 5, 50, 500, 3000])), price,
                                draw(st.sampled_from([0, 0, 1]))))
        elif k == 6:
            out.append(SetMarkPrice(BTC, MARK + draw(st.integers(-60_000, 60_000))))
        elif k == 7:
            out.append(CancelOrder(a, BTC, draw(st.integers(1, 60))))
        elif k == 8:
            out.append(SettleFunding(BTC))
        else:
            out.append(draw(st.sampled_from([SetLeverage(a, BTC, 50), SetLeverage(a, BTC, 125),
                                             SetMarginType(a, BTC, C.ISOLATED)])))
    return out


SETUP = [SetIndexPrice(BTC, MARK)] + [c for a in range(1, 7) for c in (CreateAccount(a), Deposit(a, (300 + 4000 * a) * USDT))]


class _ProcessEverything:
    """A book whose 'rested without trading' report is not recognised by the fast path
    (a list subclass is still a list to ``_process``), so every order takes the general path."""

    def __init__(self):
        self.book = Book()

    def submit(self, *args):
        reports = self.book.submit(*args)
        if len(reports) == 2 and reports[1][0] == RESTED:
            reports = [reports[0], reports[1], (0,)]      # kind 0: ignored by _process
        return reports

    def __getattr__(self, name):
        return getattr(self.book, name)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands())
def test_fast_paths_match_general_code(cmds):
    fast = Venue(DEFAULT_INSTRUMENTS)
    general = Venue(DEFAULT_INSTRUMENTS, book_factory=_ProcessEverything)
    for i, c in enumerate(SETUP + cmds):
        ts = i * 3_600_000
        assert fast.apply(ts, c) == general.apply(ts, c)
        _check_reindex(fast)
    assert fast.state_digest() == general.state_digest()
