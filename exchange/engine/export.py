"""SQLite export of a journal (a projection: it reads records, never the venue).

``export(journal_dir, db_path)`` writes:

* one table per event type, named in snake case (``order_filled``,
  ``position_changed``, ``balance_changed``, ``income``, ``mark_price_changed``,
  and whatever event types the venue adds later: liquidations, funding, ADL...),
  each row carrying ``seq``, ``ts`` (ms), ``time`` (ISO 8601 UTC) and the
  event's fields.  Prices, quantities and money are converted to decimal
  values for analysis (REAL); the journal keeps the exact integers;
* ``commands``: every command with its seq, time, type and fields (JSON);
* ``orders``: one row per order with its latest status, so every status change
  in ``order_*`` tables joins to it by ``order_id`` (a foreign key);
* ``_export_state``: how far the export has read.  Exporting again after the
  run continued appends only the records after that seq.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

import sqlite_utils

from exchange.journal import JournalReader, is_command
from exchange.contract.venue_config import instruments_from_config
from exchange.units import MONEY_SCALE

# field name -> how to turn the integer into a decimal value
_PRICE_FIELDS = {"price", "order_price", "avg_price", "stop_price", "activation_price", "mark_price", "index_price",
                 "bankruptcy_price", "liquidation_price", "trigger_price"}
_QTY_FIELDS = {"qty", "order_qty", "remaining", "filled_qty", "executed_qty", "position_qty", "adl_qty"}
_MONEY_FIELDS = {"amount", "fee", "realized_pnl", "wallet_balance", "cross_wallet", "balance_change",
                 "entry_notional", "isolated_wallet", "cum_quote", "max_notional", "insurance_fund",
                 "funding_fee", "clearance_fee", "deficit", "margin", "maint_margin", "payment"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


class _Converter:
    def __init__(self, instruments: dict) -> None:
        self.instruments = instruments
        from exchange.contract import codes as C
        self.enums: dict[str, dict[int, str]] = {
            "side": C.SIDE_NAMES, "position_side": C.POSITION_SIDE_NAMES,
            "margin_type": C.MARGIN_TYPE_NAMES, "order_type": C.ORDER_TYPE_NAMES,
            "time_in_force": C.TIF_NAMES, "status": C.ORDER_STATUS_NAMES,
            "income_type": C.INCOME_TYPE_NAMES, "stp": C.STP_NAMES,
        }
        # "reason" means different things per event; only balance changes have names for it
        self.reasons = {"BalanceChanged": C.BALANCE_REASON_NAMES}

    def row(self, event: Any) -> dict:
        fields = event._asdict()
        inst = self.instruments.get(fields.get("symbol"))
        out: dict[str, Any] = {}
        for name, value in fields.items():
            if isinstance(value, int) and not isinstance(value, bool):
                if name in _MONEY_FIELDS:
                    value = float(Decimal(value) / MONEY_SCALE)
                elif inst is not None and name in _PRICE_FIELDS:
                    value = float(Decimal(value) * inst.tick_size)
                elif inst is not None and name in _QTY_FIELDS:
                    value = float(Decimal(value) * inst.step_size)
                elif name in self.enums and value in self.enums[name]:
                    value = self.enums[name][value]
                elif name == "reason" and value in self.reasons.get(type(event).__name__, {}):
                    value = self.reasons[type(event).__name__][value]
            out[name] = value
        return out


def export(journal_dir: "str | Path", db_path: "str | Path", *,
           progress: Optional[Callable[[int], None]] = None, batch: int = 5000) -> dict:
    """Export (or continue exporting) ``journal_dir`` into ``db_path``; returns counts."""
    from exchange.contract.commands import command_from_record
    from exchange.contract.events import event_from_record

    reader = JournalReader(journal_dir)
    instruments = instruments_from_config(reader.config)
    conv = _Converter(instruments)
    db = sqlite_utils.Database(db_path)
    state = db["_export_state"]
    key = str(Path(journal_dir).resolve())
    last_seq = 0
    if state.exists():
        rows = list(state.rows_where("journal = ?", [key]))
        if rows:
            last_seq = rows[0]["last_seq"]
    pending: dict[str, list[dict]] = {}
    orders: dict[int, dict] = {}
    counts: dict[str, int] = {}
    seen_seq = last_seq
    n = 0

    def flush() -> None:
        for table, rows in pending.items():
            db[table].insert_all(rows, alter=True)
            counts[table] = counts.get(table, 0) + len(rows)
        pending.clear()
        if orders:
            db["orders"].upsert_all(list(orders.values()), pk="order_id", alter=True)
            orders.clear()

    ts = 0
    seq = 0
    with db.conn:
        for rec in reader.records(last_seq + 1):
            seq, ts = rec.seq, rec.ts
            base = {"seq": seq, "ts": ts, "time": _iso(ts)}
            if is_command(rec.kind):
                cmd = command_from_record([rec.kind, rec.payload])
                pending.setdefault("commands", []).append(
                    {**base, "type": type(cmd).__name__, "fields": json.dumps(cmd._asdict())})
            else:
                ev = event_from_record([rec.kind, rec.payload])
                name = type(ev).__name__
                row = {**base, **conv.row(ev)}
                pending.setdefault(_snake(name), []).append(row)
                _track_order(orders, name, row, db)
            seen_seq = seq
            n += 1
            if n % batch == 0:
                flush()
                if progress is not None:
                    progress(seq)
        flush()
        state.upsert({"journal": key, "last_seq": seen_seq}, pk="journal")
    _indexes(db)
    return {"from_seq": last_seq + 1, "last_seq": seen_seq, "records": n, "rows": counts}


def _track_order(orders: dict, name: str, row: dict, db: sqlite_utils.Database) -> None:
    oid = row.get("order_id")
    if oid is None or not name.startswith("Order"):
        return
    cur = orders.get(oid)
    if cur is None:
        if name == "OrderAccepted":
            cur = {k: row[k] for k in ("order_id", "account_id", "symbol", "client_order_id", "side",
                                        "order_type", "time_in_force", "price", "qty", "reduce_only",
                                        "position_side") if k in row}
            cur.update(created_seq=row["seq"], created_time=row["time"], status="NEW", filled_qty=0.0)
        else:
            table = db["orders"]
            found = list(table.rows_where("order_id = ?", [oid])) if table.exists() else []
            cur = dict(found[0]) if found else {"order_id": oid, "account_id": row.get("account_id"),
                                                "symbol": row.get("symbol")}
        orders[oid] = cur
    cur["updated_seq"] = row["seq"]
    cur["updated_time"] = row["time"]
    if name == "OrderFilled":
        cur["status"] = row["status"]
        cur["filled_qty"] = row["filled_qty"]
    elif name == "OrderCanceled":
        cur["status"] = "CANCELED"
    elif name == "OrderExpired":
        cur["status"] = row.get("status", "EXPIRED")
    elif name == "OrderModified":
        cur["price"] = row["price"]
        cur["qty"] = row["qty"]


def _indexes(db: sqlite_utils.Database) -> None:
    names = set(db.table_names())
    for table in names:
        if table.startswith("_") or table == "orders":
            continue
        cols = {c.name for c in db[table].columns}
        existing = {tuple(ix.columns) for ix in db[table].indexes}
        for ix in (("seq",), ("account_id", "ts"), ("symbol", "ts"), ("order_id",)):
            if set(ix) <= cols and ix not in existing:
                db[table].create_index(list(ix), if_not_exists=True)
    if "orders" in names:
        for table in names:
            if table.startswith("order_") and "order_id" in {c.name for c in db[table].columns}:
                fks = {(fk.column, fk.other_table) for fk in db[table].foreign_keys}
                if ("order_id", "orders") not in fks:
                    try:
                        db[table].add_foreign_key("order_id", "orders", "order_id")
                    except Exception:  # an order accepted before an incremental window: keep going
                        pass
