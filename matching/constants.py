"""Integer codes shared by the Cython book, the reference book and their callers.

Everything in ``matching`` is integers: prices are ticks, quantities are lots,
order ids and owners are signed 64-bit integers.  The codes below are the whole
vocabulary of the book's reports; the venue turns them into events.

Report records (tuples, first element is the kind):

    (ACCEPTED, order_id)
    (FILL, taker_id, maker_id, taker_owner, maker_owner, price, qty, maker_remaining)
    (RESTED, order_id, price, remaining)
    (EXPIRED, order_id, remaining, reason)
    (CANCELED, order_id, remaining, reason)
    (REJECTED, order_id, reason)
    (MODIFIED, order_id, price, quantity, remaining, kept_priority)

``quantity`` is the order's total (original) quantity, ``remaining`` the part
not yet filled.  A submit reports ACCEPTED, then its fills (in the order they
happened, each maker that self-trade prevention expired reported as EXPIRED at
the point it was met), then exactly one of RESTED or EXPIRED when quantity is
left, or nothing more when it filled completely.  A modify reports MODIFIED,
and when the order lost its queue position (price change or quantity increase)
it is re-entered like a taker: fills, then RESTED or EXPIRED.
"""
from __future__ import annotations

# sides
BUY = 0
SELL = 1

# order kinds: limit orders by time in force, and market
GTC = 0
IOC = 1
FOK = 2
GTX = 3  # post-only: never takes liquidity
MARKET = 4

# self-trade prevention, decided by the taker's mode (Binance semantics)
STP_NONE = 0
STP_EXPIRE_TAKER = 1
STP_EXPIRE_MAKER = 2
STP_EXPIRE_BOTH = 3

# report kinds
ACCEPTED = 1
FILL = 2
RESTED = 3
EXPIRED = 4
CANCELED = 5
REJECTED = 6
MODIFIED = 7

# reasons carried by EXPIRED / CANCELED / REJECTED
REASON_IOC = 1            # IOC remainder after matching
REASON_FOK = 2            # FOK could not fill completely: nothing traded
REASON_GTX = 3            # post-only order would have taken liquidity
REASON_NO_LIQUIDITY = 4   # market order remainder, the book ran dry
REASON_STP_TAKER = 5      # self-trade prevention expired the taker
REASON_STP_MAKER = 6      # self-trade prevention expired the maker
REASON_USER = 7           # canceled on request
REASON_MODIFY_FILLED = 8  # modify to a quantity not above the filled quantity
REASON_DUPLICATE_ID = 9   # submit with an id that is resting already
REASON_UNKNOWN_ORDER = 10  # cancel/modify of an id that is not resting
REASON_BAD_QUANTITY = 11  # quantity <= 0
REASON_BAD_PRICE = 12     # limit price <= 0
REASON_BAD_PARAM = 13     # side, kind or STP mode out of range

# batch entry point: one operation is OP_WIDTH int64 words
#   [op, order_id, owner, side, price, qty, kind, stp]
# cancel uses [OP_CANCEL, order_id, 0...]; modify [OP_MODIFY, order_id, 0, 0, price, qty, 0, 0]
OP_SUBMIT = 1
OP_CANCEL = 2
OP_MODIFY = 3
OP_WIDTH = 8
# batch reports: REPORT_WIDTH int64 words [op_index, kind, f1..f7], unused fields 0
REPORT_WIDTH = 9

REPORT_NAMES = {ACCEPTED: "ACCEPTED", FILL: "FILL", RESTED: "RESTED", EXPIRED: "EXPIRED",
                CANCELED: "CANCELED", REJECTED: "REJECTED", MODIFIED: "MODIFIED"}
