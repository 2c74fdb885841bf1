"""Normalized market-data records produced by the recording readers.

Every reader in :mod:`exchange.flow.readers` turns a recorded file into a
stream of the immutable record types below (NamedTuples, like the contract's
records: a frozen dataclass pays one ``object.__setattr__`` per field when it is
made, about four times a NamedTuple's cost, on every line of a tape), ordered by
**exchange time** (``ts_ms``, Unix epoch milliseconds, UTC).  The types carry no venue
semantics: prices and quantities stay **decimal strings** exactly as the file
wrote them, so nothing is lost to floats; the replay driver converts them to
integer ticks/lots with the symbol's ``tickSize``/``stepSize``.

String rules (applied by :func:`dec`):

* a plain decimal already in the file (``"61800.30"``, ``"-0.0001"``, ``"9682"``)
  is kept byte for byte, trailing zeros included;
* anything else that is a finite number (a JSON float such as freqtrade's
  ``7267451.9000000004``, an exponent form ``"1e-05"``, ``"+1"``, ``".5"``) is
  normalized to plain positional notation without exponent (``"7267451.9"``,
  ``"0.00001"``, ``"1"``, ``"0.5"``); floats use their shortest round-trip text;
* a book-level quantity that is zero (``"0.000"``, ``0``) becomes exactly
  ``"0"``, so ``qty == "0"`` means "delete this level" (see :func:`dec_qty`).

Time rules: ``ts_ms`` is the exchange's *event* time -- Binance ``E`` when the
payload has one, else the transaction/trade time ``T`` (CSV trades carry only
``T``), tardis ``timestamp`` (µs, floored to ms).  Where Binance also sends the
matching-engine time ``T`` it is kept as ``tx_ms``.  Finished candles are
stamped at their close time (``ts_ms == close_ms``), the first moment their
values were known, so a replay never looks ahead.  Local receive times of the
recorders are dropped: the recorder clocks are skewed (see shared/data/README.md).
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import NamedTuple, Optional, Tuple, Union

__all__ = [
    "Level", "Levels",
    "Trade", "BookTicker", "DepthSnapshot", "DepthDiff", "BookDepthBand",
    "MarkPrice", "IndexPrice", "FundingRate", "Kline", "Record", "RECORD_TYPES",
    "dec", "dec_qty", "is_zero", "levels", "all_plain", "plain_seen",
    "BUY", "SELL",
]

BUY = "BUY"
SELL = "SELL"

#: one price level: (price, quantity), both decimal strings
Level = Tuple[str, str]
#: levels as the file listed them (Binance: bids best-first, asks best-first)
Levels = Tuple[Level, ...]


class Trade(NamedTuple):
    """A print: a taker order filled ``qty`` at ``price``.

    ``taker_side`` is the aggressor (``"BUY"`` lifted the ask, ``"SELL"`` hit the
    bid); Binance's ``m`` / ``is_buyer_maker`` = true maps to ``"SELL"``.
    ``kind`` is ``"trade"`` (one match), ``"aggTrade"`` (Binance aggregate of
    fills of one taker at one price; ``first_trade_id``/``last_trade_id`` set)
    or ``"liquidation"`` (tardis liquidations files).  ``trade_type`` is Binance's
    ``X`` (``MARKET``, ``INSURANCE_FUND``, ``ADL``, ``NA``) when the source has it.
    ``trade_id`` is an int for Binance, the source's id text otherwise (BitMEX
    uses UUIDs), ``None`` if the source has no id.  ``taker_side`` is ``None``
    only where the source says it does not know (tardis side ``unknown``).
    """
    ts_ms: int
    symbol: str
    price: str
    qty: str
    taker_side: Optional[str]
    trade_id: Union[int, str, None]
    tx_ms: Optional[int] = None
    kind: str = "trade"
    first_trade_id: Optional[int] = None
    last_trade_id: Optional[int] = None
    trade_type: Optional[str] = None


class BookTicker(NamedTuple):
    """Best bid and offer.  ``update_id`` is Binance's book update id ``u``, which
    is on the same sequence as the depth diffs' ``first_id``/``last_id``.  A side
    may be ``None`` only where the source says the side is empty (tardis quotes)."""
    ts_ms: int
    symbol: str
    bid_px: Optional[str]
    bid_qty: Optional[str]
    ask_px: Optional[str]
    ask_qty: Optional[str]
    update_id: Optional[int] = None
    tx_ms: Optional[int] = None


class DepthSnapshot(NamedTuple):
    """The book at one moment: replace everything known about ``symbol``.

    ``last_update_id`` is Binance's ``lastUpdateId`` (``None`` for sources without
    ids).  ``top_n`` is set when the source is a fixed top-N view (tardis
    ``book_snapshot_5``/``_25``): a price missing from it is *beyond the view*,
    not necessarily deleted.  A REST ``limit=1000`` snapshot has ``top_n=None``.
    """
    ts_ms: int
    symbol: str
    last_update_id: Optional[int]
    bids: Levels
    asks: Levels
    tx_ms: Optional[int] = None
    top_n: Optional[int] = None


class DepthDiff(NamedTuple):
    """Incremental book update: set each listed level to its absolute quantity;
    ``qty == "0"`` deletes the level.  Binance ids: ``first_id`` = ``U``,
    ``last_id`` = ``u``, ``prev_last_id`` = ``pu`` (the previous diff's ``u``;
    ``pu != previous u`` means a gap).  ``None`` where the source has no ids."""
    ts_ms: int
    symbol: str
    first_id: Optional[int]
    last_id: Optional[int]
    prev_last_id: Optional[int]
    bids: Levels
    asks: Levels
    tx_ms: Optional[int] = None


class BookDepthBand(NamedTuple):
    """One row of Binance's ``bookDepth`` download: cumulative depth within
    ``percentage`` % of the mid (negative = bid side), in base asset
    (``depth``) and quote (``notional``).  Not a price level."""
    ts_ms: int
    symbol: str
    percentage: str
    depth: str
    notional: str


class MarkPrice(NamedTuple):
    ts_ms: int
    symbol: str
    value: str


class IndexPrice(NamedTuple):
    ts_ms: int
    symbol: str
    value: str


class FundingRate(NamedTuple):
    """A funding rate as a decimal fraction (``"0.0001"`` = 0.01 %).

    ``settled`` is True for history rows (the rate actually applied at
    ``funding_time_ms``, then ``ts_ms == funding_time_ms``) and False for the
    live estimate of the next funding (``markPriceUpdate.r``, tardis
    ``derivative_ticker.funding_rate``), where ``funding_time_ms`` is the next
    funding time when known.  ``interval_hours`` when the source gives it."""
    ts_ms: int
    symbol: str
    value: str
    funding_time_ms: Optional[int] = None
    settled: bool = False
    interval_hours: Optional[int] = None


class Kline(NamedTuple):
    """A candle.  ``kind``: ``"trade"`` (ordinary klines), ``"mark"``, ``"index"``
    or ``"premium"`` (Binance mark/index/premium-index price klines).
    ``open_ms``/``close_ms`` are Binance's open and close times (close =
    open + interval - 1 ms).  ``closed`` is False only for a still-forming bar
    from the websocket (``k.x`` false); then ``ts_ms`` is the event time ``E``.
    Fields a source lacks are ``None`` (freqtrade mark candles have no volume)."""
    ts_ms: int
    symbol: str
    interval: Optional[str]
    open_ms: int
    close_ms: int
    open: str
    high: str
    low: str
    close: str
    volume: Optional[str]
    closed: bool = True
    kind: str = "trade"
    trades: Optional[int] = None
    quote_volume: Optional[str] = None
    taker_buy_volume: Optional[str] = None
    taker_buy_quote_volume: Optional[str] = None


Record = Union[Trade, BookTicker, DepthSnapshot, DepthDiff, BookDepthBand,
               MarkPrice, IndexPrice, FundingRate, Kline]
RECORD_TYPES = (Trade, BookTicker, DepthSnapshot, DepthDiff, BookDepthBand,
                MarkPrice, IndexPrice, FundingRate, Kline)


# ---------------------------------------------------------------------------
# decimal-string normalization

_plain = re.compile(r"\d+(?:\.\d+)?").fullmatch
_signed_plain = re.compile(r"-?\d+(?:\.\d+)?").fullmatch


def dec(v) -> str:
    """Validate and normalize one price/quantity/rate to a plain decimal string.

    Fast path: a str that already is a plain unsigned decimal is returned as is
    (no Decimal object built).  Raises ``ValueError`` for anything that is not a
    finite number (``""``, ``"abc"``, ``"NaN"``, ``None``, ``True``)."""
    if type(v) is str and _plain(v):
        return v
    return _dec_slow(v)


# Quote and trade values already found plain.  A quote's four prices and sizes
# have almost always been seen before, and one C-level set lookup each is
# cheaper than joining them for a regex.  Bounded.
_PLAIN_SEEN: set = set()
_PLAIN_SEEN_MAX = 200_000
#: ``plain_seen(values)``: True when every value was found plain before (then
#: :func:`all_plain` is True too); the readers' inline first try, no Python call.
#: Raises TypeError for an unhashable value.
plain_seen = _PLAIN_SEEN.issuperset


def all_plain(*values) -> bool:
    """True when every value is a str that :func:`dec` would return unchanged
    (a set lookup per value seen before, a short match for the others)."""
    seen = _PLAIN_SEEN
    try:
        if seen.issuperset(values):
            return bool(values)
        for v in values:        # (a quote has a new value in every other line: no sets built)
            if v not in seen and not _plain(v):
                return False
    except TypeError:           # an unhashable value, or not a str
        return False
    if len(seen) > _PLAIN_SEEN_MAX:
        seen.clear()
    seen.update(values)
    return True


_flat = chain.from_iterable
_NOT_PLAIN = str.maketrans("", "", "0123456789.,")      # translate() leaves what is not allowed
_DIGITS = b"0123456789"


def _all_plain_joined(joined: str, n: int) -> bool:
    """``joined`` is ``n`` plain decimals separated by commas.  Checked with string
    methods: a regex over the whole row grows the matcher's backtracking stack
    per value and costs twice as much on a depth diff's ~140 values.  (A value
    with two dots leaves ``..`` once the digits are deleted: a C table pass
    over the ASCII bytes, cheaper than searching the text for dot-digits-dot.)"""
    return (bool(joined) and not joined.translate(_NOT_PLAIN) and joined.count(",") == n - 1
            and ",," not in joined and ",." not in joined and ".," not in joined
            and joined[0] not in ".," and joined[-1] not in ".,"
            and b".." not in joined.encode().translate(None, _DIGITS))


def levels(raw) -> Levels:
    """Validate and normalize a list of ``[price, qty]`` pairs (JSON or rows) into
    a tuple of ``(price, qty)`` string tuples; zero quantities become ``"0"``.

    The common case (every value a plain decimal string) costs one pass of
    string methods over the joined values; anything else goes through
    :func:`dec` per value.  Raises ``ValueError`` on malformed levels."""
    try:
        out = tuple([(p, q if q.strip("0.") else "0") for p, q in raw])
        if not out or _all_plain_joined(",".join(_flat(raw)), 2 * len(out)):
            return out
    except (TypeError, ValueError, AttributeError):
        pass
    res = []
    for lv in raw:
        if type(lv) not in (list, tuple) or len(lv) != 2:
            raise ValueError(f"a level must be [price, qty], got {lv!r}")
        res.append((dec(lv[0]), dec_qty(lv[1])))
    return tuple(res)


def _dec_slow(v) -> str:
    t = type(v)
    if t is str:
        s = v.strip()
        if _signed_plain(s):
            return s
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {v!r}") from None
        if not d.is_finite():
            raise ValueError(f"not a finite number: {v!r}")
        return format(d, "f")
    if t is int:
        return str(v)
    if t is float:
        if not math.isfinite(v):
            raise ValueError(f"not a finite number: {v!r}")
        r = repr(v)
        if "e" in r or "E" in r:
            return format(Decimal(r), "f")
        if r.endswith(".0"):
            r = r[:-2]          # 9682.0 -> "9682" (floats from JSON/CSV numbers)
        return r
    raise ValueError(f"not a decimal number: {v!r}")


def dec_qty(v) -> str:
    """:func:`dec` for a book-level quantity; any zero becomes exactly ``"0"``."""
    s = dec(v)
    return s if s.strip("0.-") else "0"


def is_zero(s: str) -> bool:
    """True for a normalized decimal string equal to zero (``"0"``, ``"0.000"``)."""
    return not s.strip("0.-")
