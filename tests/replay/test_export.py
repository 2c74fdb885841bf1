"""SQLite export: the tables a user queries to explain a run, and incremental re-export."""
import sqlite_utils

from exchange.engine.export import export
from exchange.engine.runtime import Runtime
from exchange.contract.commands import Deposit

from test_replay import T0, USDT, trading_session


def test_export_tables_and_incremental(tmp_path):
    rt = Runtime.virtual(T0, data_dir=tmp_path / "data")
    trading_session(rt, n_orders=200, seed=5)
    first_seq = rt.sequencer.seq
    rt.journal.commit()
    db_path = tmp_path / "out.db"
    summary = export(tmp_path / "data" / "journal", db_path)
    assert summary["last_seq"] == first_seq
    db = sqlite_utils.Database(db_path)
    names = set(db.table_names())
    assert {"commands", "orders", "order_accepted", "order_filled", "position_changed",
            "balance_changed", "income"} <= names
    assert db["commands"].count == first_seq
    fills = list(db.query("select price, qty, fee, side, time from order_filled limit 1"))
    assert fills and 55_000 < fills[0]["price"] < 65_000 and fills[0]["side"] in ("BUY", "SELL")
    # every fill belongs to a known order with a final status
    orphan = list(db.query("select count(*) c from order_filled f left join orders o using(order_id) "
                           "where o.order_id is null"))
    assert orphan[0]["c"] == 0
    statuses = {r["status"] for r in db.query("select distinct status from orders")}
    assert statuses <= {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED", "EXPIRED_IN_MATCH"}
    assert "FILLED" in statuses
    # fees: what the income table says equals the sum of the fills' fees
    fee_fills = db.execute("select round(sum(fee), 8) from order_filled").fetchone()[0]
    fee_income = db.execute("select round(-sum(amount), 8) from income"
                            " where income_type = 'COMMISSION'").fetchone()[0]
    assert fee_fills > 0 and fee_fills == fee_income
    n_fills = db["order_filled"].count

    # the run goes on; exporting again appends only the new part
    rt.sequencer.execute([Deposit(1, 5 * USDT)])
    rt.sequencer.execute([Deposit(2, 7 * USDT)])
    rt.close()
    again = export(tmp_path / "data" / "journal", db_path)
    assert again["from_seq"] == first_seq + 1 and again["last_seq"] == first_seq + 2
    db = sqlite_utils.Database(db_path)
    assert db["commands"].count == first_seq + 2
    assert db["order_filled"].count == n_fills
    deposits = [r["reason"] for r in db.query("select reason from balance_changed where seq > ?", [first_seq])]
    assert deposits == ["DEPOSIT", "DEPOSIT"]
    assert export(tmp_path / "data" / "journal", db_path)["records"] == 0


def test_readme_queries_explain_a_liquidation(tmp_path):
    """The README's 'why was my bot liquidated' queries, on an exported liquidation."""
    import re
    from pathlib import Path

    from exchange.contract import codes as C
    from exchange.contract.commands import (
        CreateAccount, NewOrder, SetIndexPrice, SetLeverage, SetMarkPrice,
    )
    rt = Runtime.virtual(T0, data_dir=tmp_path / "data", timers=False)
    seq = rt.sequencer
    seq.execute([SetIndexPrice("BTCUSDT", 600_000)] +
                [c for a, usdt in ((1, 1_000), (2, 100_000), (3, 100_000))
                 for c in (CreateAccount(a), Deposit(a, usdt * USDT))])
    seq.execute([SetLeverage(1, "BTCUSDT", 100)])
    seq.execute([NewOrder(2, "BTCUSDT", C.SELL, C.LIMIT, C.GTC, 1_000, 600_000)])   # 1 BTC offered
    seq.execute([NewOrder(1, "BTCUSDT", C.BUY, C.MARKET, C.GTC, 1_000, 0)])          # 100x long
    seq.execute([NewOrder(3, "BTCUSDT", C.BUY, C.LIMIT, C.GTC, 5_000, 540_000)])     # bids below
    rt.clock.advance(60_000)
    seq.execute([SetMarkPrice("BTCUSDT", 590_000)])                                  # -1.7%: liquidated
    rt.close()
    db_path = tmp_path / "run.db"
    export(tmp_path / "data" / "journal", db_path)
    db = sqlite_utils.Database(db_path)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"```sql\n(.*?)```", readme, re.S).group(1)
    code = "\n".join(line for line in block.splitlines() if not line.strip().startswith("--"))
    queries = [q.strip() for q in code.split(";") if q.strip()]
    assert len(queries) == 4
    day = "2023-11-14"  # T0's date; the README's times are an example
    results = [list(db.query(q.rstrip(";").replace("2026-11-23", day).replace("03:", "22:")))
               for q in queries]
    forced = results[0]
    assert forced and forced[0]["side"] == "SELL" and forced[0]["bankruptcy_price"] < 60_000
    incomes = {r["income_type"] for r in results[3]}
    assert "REALIZED_PNL" in incomes or "INSURANCE_CLEAR" in incomes


def test_an_interrupted_export_is_finished_without_duplicates(tmp_path):
    rt = Runtime.virtual(T0, data_dir=tmp_path / "data")
    trading_session(rt, n_orders=200, seed=5)
    rt.close()
    journal = tmp_path / "data" / "journal"
    whole = tmp_path / "whole.db"
    export(journal, whole)

    class Interrupted(Exception):
        pass

    def stop_after_two_batches(seq: int) -> None:
        calls.append(seq)
        if len(calls) == 2:
            raise Interrupted        # after the second batch was committed, before the state was

    calls: list = []
    part = tmp_path / "part.db"
    try:
        export(journal, part, batch=50, progress=stop_after_two_batches)
    except Interrupted:
        pass
    db = sqlite_utils.Database(part)
    assert 0 < db["commands"].count and not list(db["_export_state"].rows)   # rows, no state
    export(journal, part)
    a, b = sqlite_utils.Database(whole), sqlite_utils.Database(part)
    tables = set(a.table_names())
    assert tables == set(b.table_names()) and "order_filled" in tables
    for t in sorted(tables - {"_export_state"}):
        order = "order_id" if t == "orders" else "rowid"
        cols = ", ".join(f"[{c.name}]" for c in a[t].columns)
        assert list(a.query(f"select {cols} from [{t}] order by {order}")) == \
            list(b.query(f"select {cols} from [{t}] order by {order}")), t
