"""Acknowledged orders: collected where they were acknowledged, checked at test stop.

Every order the exchange answered HTTP 200 to is an ``(accountId, symbol, orderId)``. In a
distributed run (``--master``/``--worker``, and ``--processes`` which is the same thing on one
machine) each worker ships its new acknowledgements and the credentials of its accounts to
the master with Locust's own messages: piggy-backed on the periodic stats report
(``report_to_master`` -> ``worker_report``) during the run, and one ``paperex_final`` message
with the rest and the worker's total when the worker stops. At test stop the master asks
any worker that has not sent its final message yet to stop and send it
(``paperex_flush``), waits for all of them, and checks every acknowledgement against the
exchange (``GET /fapi/v1/allOrders``, paged by orderId, signed with the account's key).

An order the exchange no longer lists (it keeps a bounded closed-order history, as Binance
does) is looked up in the server's journal when its data directory is known
(``--paperex-serve`` or ``--paperex-data-dir``); otherwise it counts as missing.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Any, Iterable, Optional

import gevent

from clients.signing import signed_query

from clients.load.wire import WEIGHT, WeightBudget

__all__ = ["Ledger", "check_acks", "journal_order_ids"]

log = logging.getLogger("paperex.load")


class Ledger:
    """Acknowledgements and account credentials of this process (on the master: of all)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.accounts: dict[int, tuple[str, str]] = {}
        self.acks: list[tuple[int, str, int]] = []
        self._unsent_accounts: list[list] = []
        self._unsent_acks: list[list] = []
        self.total = 0                                   # acknowledged in this process this run
        self.received: dict[str, int] = defaultdict(int)  # master: acks received per worker
        self.finals: dict[str, int] = {}                 # master: worker -> total it reported

    # -- where orders are acknowledged
    def account(self, account_id: int, api_key: str, secret: str) -> None:
        self.accounts[account_id] = (api_key, secret)
        self._unsent_accounts.append([account_id, api_key, secret])

    def ack(self, account_id: int, symbol: str, order_id: int) -> None:
        self.acks.append((account_id, symbol, order_id))
        self._unsent_acks.append([account_id, symbol, order_id])
        self.total += 1

    def take(self) -> dict:
        """What was not shipped to the master yet (and forget having it to ship)."""
        out = {"accounts": self._unsent_accounts, "acks": self._unsent_acks}
        self._unsent_accounts, self._unsent_acks = [], []
        return out

    # -- on the master
    def merge(self, node: str, payload: Optional[dict]) -> None:
        if not payload:
            return
        for aid, key, secret in payload.get("accounts", ()):
            self.accounts[int(aid)] = (key, secret)
        acks = payload.get("acks", ())
        self.acks.extend((int(a), s, int(o)) for a, s, o in acks)
        self.received[node] += len(acks)


def journal_order_ids(data_dir: str, wanted: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The ``(accountId, orderId)`` of ``wanted`` that the server's journal has an order for.

    Read through the command line (``paperex export`` into a temporary SQLite file, its
    ``orders`` table): clients stay on the public side of the layers (ARCHITECTURE.md)."""
    with tempfile.TemporaryDirectory(prefix="paperex-acks-") as tmp:
        db = os.path.join(tmp, "journal.sqlite")
        p = subprocess.run([sys.executable, "-m", "exchange.cli", "export", data_dir, db], capture_output=True,
                           text=True, timeout=3600)
        if p.returncode != 0:
            raise RuntimeError(f"paperex export {data_dir}: {p.stderr.strip()[-500:]}")
        con = sqlite3.connect(db)
        try:
            rows = con.execute("SELECT account_id, order_id FROM orders").fetchall()
        finally:
            con.close()
    return {(int(a), int(o)) for a, o in rows} & wanted


def check_acks(base_url: str, accounts: dict[int, tuple[str, str]], acks: Iterable[tuple[int, str, int]], *,
               weights: WeightBudget, data_dir: Optional[str] = None, page: int = 1000,
               timeout: float = 30.0) -> dict:
    """Look every acknowledged order up on the exchange (``allOrders`` from the smallest
    acknowledged id, 1,000 a page, within the IP weight budget); then, for the ones not
    listed, in the journal when ``data_dir`` is given."""
    import requests   # Locust's dependency; gevent-patched under Locust

    groups: dict[tuple[int, str], set[int]] = defaultdict(set)
    n = 0
    for aid, sym, oid in acks:
        groups[(aid, sym)].add(oid)
        n += 1
    missing: list[tuple[int, str, int]] = []
    errors: list[str] = []
    session = requests.Session()
    t0 = time.time()
    for (aid, sym), ids in sorted(groups.items()):
        cred = accounts.get(aid)
        if cred is None:
            errors.append(f"account {aid}: no credentials reported")
            missing.extend((aid, sym, o) for o in ids)
            continue
        key, secret = cred
        want = set(ids)
        start, last = min(ids), max(ids)
        while want and start <= last:
            weights.wait_for(WEIGHT["GET /fapi/v1/allOrders"])
            qs = signed_query(secret, {"symbol": sym, "orderId": start, "limit": page},
                              timestamp=int(time.time() * 1000), recv_window=10_000)
            try:
                r = session.get(f"{base_url}/fapi/v1/allOrders?{qs}", headers={"X-MBX-APIKEY": key},
                                timeout=timeout)
            except requests.RequestException as exc:
                errors.append(f"allOrders {aid}/{sym}: {exc}")
                break
            weights.observe(r.headers)
            if r.status_code == 429:          # the IP's weight ran out under us: wait as told, then again
                gevent.sleep(float(r.headers.get("Retry-After", "5")))
                continue
            if r.status_code != 200:
                errors.append(f"allOrders {aid}/{sym}: HTTP {r.status_code} {r.text[:200]}")
                break
            rows = r.json()
            for row in rows:
                want.discard(int(row["orderId"]))
            if len(rows) < page:
                break
            start = int(rows[-1]["orderId"]) + 1
        missing.extend((aid, sym, o) for o in sorted(want))
    in_exchange = n - len(missing)
    in_journal = 0
    if missing and data_dir:
        try:
            found = journal_order_ids(data_dir, {(a, o) for a, _, o in missing})
        except (RuntimeError, OSError, sqlite3.Error, subprocess.TimeoutExpired) as exc:
            errors.append(f"journal lookup: {exc}")
            found = set()
        in_journal = len(found)
        missing = [m for m in missing if (m[0], m[2]) not in found]
    return {"acknowledged": n, "acked_in_exchange": in_exchange, "acked_in_journal": in_journal,
            "acked_missing": len(missing), "acked_missing_sample": [list(m) for m in missing[:10]],
            "check_errors": errors[:10], "check_s": round(time.time() - t0, 2)}
