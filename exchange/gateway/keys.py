"""API keys of the accounts, persisted in ``DATA_DIR/keys.json`` so they survive a restart.

The venue knows accounts by integer id; the gateway knows callers by API key.
``PersistentKeyStore`` maps one to the other (``auth.KeyStore`` protocol) and
writes the whole file atomically (temp file + rename) after every change.
Without a data directory it is in-memory only.

File format::

    {"format": "paperex-keys/1",
     "accounts": [{"accountId": 1, "apiKey": "...", "secretKey": "...", "label": "demo"},
                  {"accountId": 2, "apiKey": "...", "secretKey": "", "label": "",
                   "keyType": "ED25519", "publicKey": "-----BEGIN PUBLIC KEY-----..."}]}

A row without ``keyType`` is an HMAC key (files written before Ed25519 / RSA keys
existed read unchanged).  Public keys are stored as their PEM, never a private key.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Optional

from exchange.gateway.auth import ApiKey
from exchange.gateway.keytypes import HMAC, load_public_key, public_pem

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
            kind = row.get("keyType", HMAC)
            if kind == HMAC:
                rec = ApiKey(str(row["apiKey"]), str(row["secretKey"]), int(row["accountId"]))
            else:
                kind, key = load_public_key(str(row["publicKey"]), kind)
                rec = ApiKey(str(row["apiKey"]), "", int(row["accountId"]), key_type=kind,
                             public_key=key, public_pem=str(row["publicKey"]))
            self._add(rec, row.get("label", ""))

    def _save(self) -> None:
        if self.path is None:
            return
        rows = []
        for rec in self._keys.values():
            row = {"accountId": rec.account_id, "apiKey": rec.api_key, "secretKey": rec.secret,
                   "label": self._labels.get(rec.account_id, "")}
            if rec.key_type != HMAC:
                row["keyType"] = rec.key_type
                row["publicKey"] = rec.public_pem
            rows.append(row)
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

    def add_public(self, account_id: int, pem: str, key_type: str | None = None, label: str = "") -> ApiKey:
        """Register an Ed25519 / RSA public key for ``account_id`` (a fresh API key, no
        secret).  ``key_type``, when given, must match the PEM (``KeyFormatError``)."""
        kind, key = load_public_key(pem, key_type)
        rec = ApiKey(new_api_key(), "", int(account_id), key_type=kind, public_key=key,
                     public_pem=public_pem(key))
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
