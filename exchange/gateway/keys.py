"""API keys of the accounts, persisted in ``DATA_DIR/keys.json`` so they survive a restart.

The venue knows accounts by integer id; the gateway knows callers by API key.
``PersistentKeyStore`` maps one to the other (``auth.KeyStore`` protocol) and
writes the whole file atomically (temp file + rename) after every change.
Without a data directory it is in-memory only.

File format::

    {"format": "paperex-keys/1",
     "accounts": [{"accountId": 1, "apiKey": "...", "secretKey": "...", "label": "demo"}]}
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Optional

from exchange.gateway.auth import ApiKey

FORMAT = "paperex-keys/1"


def new_api_key() -> str:
    # Binance keys are 64 alphanumerics
    return secrets.token_hex(32)


def new_secret() -> str:
    return secrets.token_hex(32)


class PersistentKeyStore:
    def __init__(self, path: "str | Path | None" = None) -> None:
        self.path = Path(path) if path is not None else None
        self._keys: dict[str, ApiKey] = {}
        self._by_account: dict[int, list[ApiKey]] = {}
        self._labels: dict[int, str] = {}
        if self.path is not None and self.path.exists():
            self._load()

    # ------------------------------------------------------------- storage
    def _load(self) -> None:
        data = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{self.path}: not a paperex key file ({FORMAT})")
        for row in data.get("accounts", []):
            self._add(ApiKey(str(row["apiKey"]), str(row["secretKey"]), int(row["accountId"])),
                      row.get("label", ""))

    def _save(self) -> None:
        if self.path is None:
            return
        rows = []
        for rec in self._keys.values():
            rows.append({"accountId": rec.account_id, "apiKey": rec.api_key, "secretKey": rec.secret,
                         "label": self._labels.get(rec.account_id, "")})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"format": FORMAT, "accounts": rows}, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def _add(self, rec: ApiKey, label: str = "") -> None:
        self._keys[rec.api_key] = rec
        self._by_account.setdefault(rec.account_id, []).append(rec)
        if label:
            self._labels[rec.account_id] = label

    # -------------------------------------------------------------- public
    def lookup(self, api_key: str) -> Optional[ApiKey]:
        return self._keys.get(api_key)

    def create(self, account_id: int, label: str = "", api_key: str | None = None,
               secret: str | None = None) -> ApiKey:
        rec = ApiKey(api_key or new_api_key(), secret or new_secret(), int(account_id))
        self._add(rec, label)
        self._save()
        return rec

    def for_account(self, account_id: int) -> list[ApiKey]:
        return list(self._by_account.get(account_id, ()))

    def by_label(self, label: str) -> Optional[ApiKey]:
        for aid, lab in self._labels.items():
            if lab == label:
                keys = self._by_account.get(aid)
                if keys:
                    return keys[0]
        return None

    def label(self, account_id: int) -> str:
        return self._labels.get(account_id, "")

    def accounts(self) -> list[int]:
        return sorted(self._by_account)

    def __len__(self) -> int:
        return len(self._keys)
