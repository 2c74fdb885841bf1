"""Request bodies, with their Content-Encoding decoded here rather than in aiohttp.

aiohttp's HTTP parser decompresses a body as it arrives; a body that does not
decompress then fails inside the parser or on the next read, aiohttp answers a
plain-text 400 (or the handler sees an exception) and logs a traceback.  The
server built by ``exchange.serve.start`` turns that off (``auto_decompress=False``, and
marks the application with :data:`RAW_BODIES`) so that :func:`read_body` decodes
``gzip`` / ``deflate`` / ``br`` itself and answers a body it cannot decode with a
Binance-style 400 that says why.  An application run by another runner (tests,
``scripts/bench_gateway.py``) keeps aiohttp's decoding and :func:`read_body`
only reads.
"""
from __future__ import annotations

import zlib

from aiohttp import web

from exchange.gateway.errors import BinanceError, Request

#: set on an application whose runner leaves Content-Encoding to :func:`read_body`
RAW_BODIES = web.AppKey("paperex_raw_bodies", bool)

#: a decoded body may not be larger than this (the raw body is capped by aiohttp's client_max_size)
MAX_DECODED_BYTES = 1 << 20

try:
    import brotli as _brotli
except ImportError:     # pragma: no cover - brotli comes with aiohttp[speedups]
    _brotli = None


def undecodable(request: web.Request, why: str) -> BinanceError:
    encoding = request.headers.get("Content-Encoding", "identity")
    return Request.BODY_NOT_DECODED(why, repr(encoding))


def _decode(raw: bytes, encoding: str) -> bytes:
    """``raw`` decoded per ``encoding`` (lower case); ValueError says why not."""
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        if encoding == "deflate" and raw[:1] and (raw[0] & 0x0F) != 8:
            wbits = -zlib.MAX_WBITS         # raw deflate without the zlib header (some clients send it)
        d = zlib.decompressobj(wbits)
        try:
            out = d.decompress(raw, MAX_DECODED_BYTES + 1)
        except zlib.error as exc:
            raise ValueError(str(exc)) from None
        if len(out) > MAX_DECODED_BYTES:
            raise ValueError(f"decoded body larger than {MAX_DECODED_BYTES} bytes")
        if not d.eof:
            raise ValueError("compressed stream is truncated")
        if d.unused_data:
            raise ValueError("data after the end of the compressed stream")
        return out
    if encoding == "br" and _brotli is not None:
        d = _brotli.Decompressor()
        try:
            out = d.process(raw, output_buffer_limit=MAX_DECODED_BYTES + 1)
        except _brotli.error as exc:
            raise ValueError(str(exc) or "invalid brotli stream") from None
        if len(out) > MAX_DECODED_BYTES:
            raise ValueError(f"decoded body larger than {MAX_DECODED_BYTES} bytes")
        if not d.is_finished():
            raise ValueError("compressed stream is truncated")
        return out
    supported = "gzip, deflate, " + ("br, " if _brotli is not None else "") + "identity"
    raise ValueError(f"unsupported encoding (use {supported})")


async def read_body(request: web.Request) -> bytes:
    """The request body, decoded; a Binance-style 400 when it cannot be read or decoded."""
    try:
        raw = await request.read()
    except web.HTTPException:
        raise                   # 413 and the like: answered as Binance JSON by the caller
    except Exception as exc:    # a broken chunked body, aiohttp's own decoding error, ...
        # the payload stream keeps the error: mark it finished, or aiohttp reads it
        # again after the answer (to drain the connection) and logs a traceback;
        # the connection closes after the answer
        request.content.feed_eof()
        if request.protocol is not None:
            request.protocol.close()
        raise undecodable(request, exc.__class__.__name__) from None
    if not raw or not request.app.get(RAW_BODIES):
        return raw
    encoding = request.headers.get("Content-Encoding")
    if encoding is None:
        return raw
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    try:
        return _decode(raw, encoding)
    except ValueError as exc:
        raise undecodable(request, str(exc)) from None


__all__ = ["RAW_BODIES", "MAX_DECODED_BYTES", "read_body", "undecodable"]
