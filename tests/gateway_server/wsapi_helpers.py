"""A minimal WebSocket API client for the tests: HMAC, Ed25519 or RSA per-request signatures."""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding

_ids = itertools.count(1)


def payload(params: dict) -> str:
    """Binance's WebSocket API signature payload: sorted key=value pairs, raw values."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()))


class Signer:
    """Signs a payload string with an HMAC secret or a PEM private key (base64 for the latter)."""

    def __init__(self, secret: str | None = None, private_pem: str | None = None) -> None:
        self.secret = secret
        self.key = serialization.load_pem_private_key(private_pem.encode(), None) if private_pem else None

    def __call__(self, text: str) -> str:
        if self.key is None:
            return hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            raw = self.key.sign(text.encode())
        else:
            raw = self.key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode()

    def rest_query(self, params: dict) -> str:
        """A signed REST query string: the signature URL-encoded (base64 has + / =)."""
        qs = urlencode(dict(params, timestamp=int(time.time() * 1000)))
        return f"{qs}&signature={quote(self(qs), safe='')}"


class WsApi:
    """One /ws-fapi/v1 connection (an aiohttp ClientWebSocketResponse)."""

    def __init__(self, ws, api_key: str | None = None, signer: Signer | None = None) -> None:
        self.ws = ws
        self.api_key = api_key
        self.signer = signer

    async def send(self, frame) -> dict:
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))
        msg = await self.ws.receive(timeout=10)
        return json.loads(msg.data)

    async def call(self, method: str, params: dict | None = None, *, signed: bool = False, rid=None,
                   key: bool = False) -> dict:
        p = dict(params or {})
        if signed:
            p.setdefault("apiKey", self.api_key)
            p.setdefault("timestamp", int(time.time() * 1000))
            p["signature"] = self.signer(payload(p))
        elif key:
            p["apiKey"] = self.api_key
        return await self.send({"id": rid if rid is not None else f"r{next(_ids)}", "method": method,
                                "params": p})
