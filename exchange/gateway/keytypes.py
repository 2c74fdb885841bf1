"""API key types besides HMAC: Ed25519 and RSA public keys, as Binance accepts them.

Binance lets an account register a public key instead of receiving a secret; the
client then signs the same payload an HMAC client would (REST: ``totalParams``;
WebSocket API: the sorted ``key=value&...`` string) and sends the **base64**
signature (URL-encoded in a query string):

* Ed25519: ``base64(Ed25519_sign(private, payload))`` (RFC 8032, pure);
* RSA: ``base64(RSASSA-PKCS1-v1_5(SHA-256, payload))``; keys of 2048 bits or more.

``load_public_key`` reads a PEM (``-----BEGIN PUBLIC KEY-----``, SubjectPublicKeyInfo)
and says which type it is; ``verify_public`` checks one signature.  The
``cryptography`` package does the arithmetic (its OpenSSL bindings: ~50 us per
Ed25519 verification).
"""
from __future__ import annotations

import base64
import binascii
from typing import Optional
from urllib.parse import unquote_to_bytes

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

__all__ = ["HMAC", "ED25519", "RSA", "KEY_TYPES", "KeyFormatError", "load_public_key", "public_pem",
           "verify_public", "decode_signature", "MIN_RSA_BITS", "generate_key_pair"]

HMAC = "HMAC"
ED25519 = "ED25519"
RSA = "RSA"
KEY_TYPES = (HMAC, ED25519, RSA)
MIN_RSA_BITS = 2048
#: a PEM longer than this is not a public key anyone sends (RSA 8192 is ~1.5 kB)
MAX_PEM_CHARS = 8192


class KeyFormatError(ValueError):
    """A public key the exchange cannot register; the text says why."""


def load_public_key(pem: str, declared: Optional[str] = None) -> tuple[str, object]:
    """(key type, public key object) of a PEM public key; ``declared`` (``"ED25519"`` /
    ``"RSA"``, any letter case) must agree with what the PEM holds.  Raises KeyFormatError."""
    if not isinstance(pem, str) or not pem.strip():
        raise KeyFormatError("publicKey must be a PEM string (-----BEGIN PUBLIC KEY----- ...).")
    if len(pem) > MAX_PEM_CHARS:
        raise KeyFormatError("publicKey is too long to be a public key.")
    if "PRIVATE KEY" in pem:
        # never store a private key sent by mistake; the client keeps it
        raise KeyFormatError("publicKey is a private key; send the public key (-----BEGIN PUBLIC KEY-----).")
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError, binascii.Error) as e:
        raise KeyFormatError(f"publicKey is not a valid PEM public key ({type(e).__name__}).") from None
    except Exception:           # cryptography's UnsupportedAlgorithm and friends
        raise KeyFormatError("publicKey is not an Ed25519 or RSA public key.") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        kind = ED25519
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise KeyFormatError(f"RSA public key of {key.key_size} bits; at least {MIN_RSA_BITS} are needed.")
        kind = RSA
    else:
        raise KeyFormatError("publicKey is not an Ed25519 or RSA public key.")
    if declared is not None:
        if not isinstance(declared, str) or declared.upper() not in (ED25519, RSA):
            raise KeyFormatError("keyType must be ED25519 or RSA.")
        if declared.upper() != kind:
            raise KeyFormatError(f"keyType {declared} does not match the publicKey, which is {kind}.")
    return kind, key


def public_pem(key: object) -> str:
    """The canonical PEM of a loaded public key (what the key file stores)."""
    return key.public_bytes(serialization.Encoding.PEM,          # type: ignore[attr-defined]
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def decode_signature(raw: "bytes | str", url_encoded: bool) -> Optional[bytes]:
    """The signature bytes of a base64 signature value, or None when it is not base64.
    ``url_encoded``: the value came from a query string or form body (``%2B`` ...);
    a ``+`` left unencoded stays a ``+`` (it is base64's, not a space)."""
    b = raw.encode("ascii", "replace") if isinstance(raw, str) else bytes(raw)
    if url_encoded and b"%" in b:
        b = unquote_to_bytes(b)
    b = b.replace(b" ", b"+")
    try:
        return base64.b64decode(b, validate=True)
    except (binascii.Error, ValueError):
        return None


_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def verify_public(key_type: str, key: object, payload: bytes, signature: bytes) -> bool:
    """True iff ``signature`` (raw bytes) signs ``payload`` under the public ``key``."""
    try:
        if key_type == ED25519:
            key.verify(signature, payload)                       # type: ignore[attr-defined]
        else:
            key.verify(signature, payload, _PKCS1, _SHA256)      # type: ignore[attr-defined]
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def generate_key_pair(key_type: str) -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh Ed25519 or RSA-2048 key pair (the demo account's
    key for ``paperex serve --demo-key``; the private half is the client's, written to a file)."""
    if key_type == ED25519:
        priv = ed25519.Ed25519PrivateKey.generate()
    elif key_type == RSA:
        priv = rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
    else:
        raise ValueError(f"no key pair for key type {key_type!r}")
    private = priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode("ascii")
    return private, public_pem(priv.public_key())
