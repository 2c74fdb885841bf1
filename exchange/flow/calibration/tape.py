"""What a cascade looked like, learned only from committed results.

:class:`CascadeTape` is a projection: it is fed ``(seq, ts, command, events)``
for every command - live as a sequencer subscriber, or from a journal
(:meth:`CascadeTape.from_journal`) - and keeps per symbol the index path, the
funding estimate, open interest, traded volume per minute, the resting book
(rebuilt from the order events: accepted, filled, modified, canceled,
expired) sampled once a minute, the liquidations and how each was closed
(book, insurance-fund takeover, ADL), and the insurance fund's balance.  It
never reads the venue.  :mod:`.metrics` turns a tape into the calibration
figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from exchange.units import MONEY_SCALE, RATE_SCALE
from exchange.contract import codes as C
from exchange.engine.open_interest import OpenInterest

# event kinds (exchange.venue.events)
_ACCEPTED, _FILLED, _CANCELED, _EXPIRED, _MODIFIED = 1010, 1012, 1013, 1014, 1015
_POSITION, _INDEX, _MARK = 1020, 1030, 1031
_FORCE, _CLOSED_OUT, _FUND = 1041, 1042, 1043
_KINDS = frozenset((_ACCEPTED, _FILLED, _CANCELED, _EXPIRED, _MODIFIED, _POSITION, _INDEX, _MARK,
                    _FORCE, _CLOSED_OUT, _FUND))
_LIMIT = C.LIMIT
_RESTING_TIF = (C.GTC, C.GTX)
_BUY = C.BUY
_CLOSE_TAKEOVER, _CLOSE_ADL = C.CLOSE_TAKEOVER, C.CLOSE_ADL

SAMPLE_MS = 60_000


@dataclass
class SymbolTape:
    tick: float                                   # price of one tick
    unit: int                                     # money units of 1 tick x 1 lot
    index: list = field(default_factory=list)     # (ts, price)
    funding: list = field(default_factory=list)   # (ts, estimate as a fraction per interval)
    mark: float = 0.0
    open_interest: OpenInterest = field(default_factory=OpenInterest)   # in lots (the long side)
    book: list = field(default_factory=list)      # per minute: (ts, best bid, best ask, depth +-0.2 %, +-1 %) USDT
    oi: list = field(default_factory=list)        # per minute: (ts, open interest USDT at mark)
    oi_lots: list = field(default_factory=list)   # per minute: (ts, open interest in lots: contracts)
    volume: dict = field(default_factory=dict)    # minute index -> traded notional USDT
    liquidated: list = field(default_factory=list)   # (ts, via, notional USDT) via = book/insurance/adl


class CascadeTape:
    """Feed it committed results; read :attr:`symbols`, :attr:`insurance`."""

    def __init__(self, instruments: dict) -> None:
        """``instruments``: symbol -> object with ``tick_size`` and ``notional_unit``."""
        from decimal import Decimal
        self.symbols: dict[str, SymbolTape] = {
            sym: SymbolTape(float(Decimal(str(inst.tick_size))), int(inst.notional_unit))
            for sym, inst in instruments.items()}
        self.orders: dict[int, list] = {}         # resting orders: id -> [symbol, side, price, qty, filled]
        self.force: dict[int, tuple] = {}         # liquidation order id -> (account, symbol)
        self.insurance: list = []                 # (ts, balance USDT)
        self.first_ts: Optional[int] = None
        self.last_ts = 0
        self._next_sample = 0

    # ---------------------------------------------------------------- input
    def __call__(self, seq: int, ts: int, command: Any, events: Iterable[Any],
                 book: Optional[dict] = None) -> None:
        if self.first_ts is None:
            self.first_ts = ts
            self._next_sample = ts + SAMPLE_MS
        while ts >= self._next_sample:
            self._sample(self._next_sample)
            self._next_sample += SAMPLE_MS
        self.last_ts = ts
        for ev in events:
            k = ev.KIND
            if k in _KINDS:
                self._event(ts, k, ev)

    def _event(self, ts: int, k: int, ev: Any) -> None:
        if k == _FILLED:
            st = self.symbols.get(ev.symbol)
            if ev.is_maker:
                o = self.orders.get(ev.order_id)
                if o is not None:
                    o[4] = ev.filled_qty
                    if o[4] >= o[3]:
                        del self.orders[ev.order_id]
                if st is not None:       # one maker fill per trade: the traded notional
                    m = ts // SAMPLE_MS
                    st.volume[m] = st.volume.get(m, 0.0) + ev.price * ev.qty * st.unit / MONEY_SCALE
            else:
                o = self.orders.get(ev.order_id)
                if o is not None:
                    o[4] = ev.filled_qty
        elif k == _INDEX:
            st = self.symbols.get(ev.symbol)
            if st is not None:
                st.index.append((ts, ev.price * st.tick))
        elif k == _MARK:
            st = self.symbols.get(ev.symbol)
            if st is not None:
                st.mark = ev.price * st.tick
                st.funding.append((ts, ev.funding_rate / RATE_SCALE))
        elif k == _ACCEPTED:
            if ev.order_type == _LIMIT and ev.time_in_force in _RESTING_TIF and ev.symbol in self.symbols:
                self.orders[ev.order_id] = [ev.symbol, ev.side, ev.price, ev.qty, 0]
        elif k == _CANCELED or k == _EXPIRED:
            self.orders.pop(ev.order_id, None)
        elif k == _MODIFIED:
            o = self.orders.get(ev.order_id)
            if o is not None:
                o[2], o[3], o[4] = ev.price, ev.qty, ev.filled_qty
        elif k == _POSITION:
            st = self.symbols.get(ev.symbol)
            if st is None:
                return
            st.open_interest.position_changed(ev.account_id, ev.position_side, ev.qty)
        elif k == _FORCE:
            st = self.symbols.get(ev.symbol)
            self.force[ev.order_id] = (ev.account_id, ev.symbol)
            if st is not None and ev.filled_qty:
                st.liquidated.append((ts, "book", ev.cum_quote / MONEY_SCALE))
        elif k == _CLOSED_OUT:
            owner = self.force.get(ev.order_id)
            st = self.symbols.get(ev.symbol)
            if owner is None or owner[0] != ev.account_id or st is None:
                return               # the ADL counterparty's side of it, or a hedge netting
            if ev.kind == _CLOSE_TAKEOVER:
                via = "insurance"
            elif ev.kind == _CLOSE_ADL:
                via = "adl"
            else:
                return
            st.liquidated.append((ts, via, ev.price * ev.qty * st.unit / MONEY_SCALE))
        elif k == _FUND:
            self.insurance.append((ts, ev.balance / MONEY_SCALE))

    def _sample(self, ts: int) -> None:
        per: dict[str, tuple[list, list]] = {s: ([], []) for s in self.symbols}
        for sym, side, price, qty, filled in self.orders.values():
            per[sym][0 if side == _BUY else 1].append((price, qty - filled))
        for sym, st in self.symbols.items():
            bids, asks = per[sym]
            st.oi.append((ts, st.open_interest.lots * st.mark * st.unit / st.tick / MONEY_SCALE if st.tick else 0.0))
            st.oi_lots.append((ts, st.open_interest.lots))
            if not bids or not asks:
                st.book.append((ts, 0.0, 0.0, 0.0, 0.0))
                continue
            bb = max(p for p, _ in bids)
            ba = min(p for p, _ in asks)
            mid = (bb + ba) / 2.0
            d02 = d1 = 0
            for p, q in bids:
                if p >= mid * 0.99:
                    d1 += p * q
                    if p >= mid * 0.998:
                        d02 += p * q
            for p, q in asks:
                if p <= mid * 1.01:
                    d1 += p * q
                    if p <= mid * 1.002:
                        d02 += p * q
            u = st.unit / MONEY_SCALE
            st.book.append((ts, bb * st.tick, ba * st.tick, d02 * u, d1 * u))

    def finish(self) -> "CascadeTape":
        """Take the last minute's sample (call once the run is over)."""
        if self.first_ts is not None and self.last_ts >= self._next_sample - SAMPLE_MS:
            self._sample(self.last_ts)
        return self

    # ----------------------------------------------------------- from disk
    @classmethod
    def from_journal(cls, journal_dir: Any, instruments: Optional[dict] = None) -> "CascadeTape":
        """Rebuild a tape from a journal directory (events only)."""
        from exchange.journal import JournalReader
        from exchange.contract.events import event_from_record
        reader = JournalReader(journal_dir)
        if instruments is None:
            from exchange.contract.venue_config import instruments_from_config
            instruments = instruments_from_config(reader.config)
        tape = cls(instruments)
        cur_seq, cur_ts, evs = None, 0, []
        for rec in reader.records(commands=True, events=True):
            if rec.seq != cur_seq:
                if cur_seq is not None:
                    tape(cur_seq, cur_ts, None, evs)
                cur_seq, cur_ts, evs = rec.seq, rec.ts, []
            if rec.kind >= 1000 and rec.kind in _KINDS:
                evs.append(event_from_record([rec.kind, rec.payload]))
        if cur_seq is not None:
            tape(cur_seq, cur_ts, None, evs)
        return tape.finish()
