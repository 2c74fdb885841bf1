"""Exceptions raised by the USD-M client (spec §3)."""
from __future__ import annotations

from typing import Any, Mapping, Optional

__all__ = ["BinanceAPIError", "RateLimitError", "ServerError", "StreamError", "error_from_response"]

# -1007: "Send status unknown; execution status unknown."
_UNKNOWN_CODES = {-1007}
_UNKNOWN_503 = "Unknown error, please check your request or try again later."


class BinanceAPIError(Exception):
    """An error answer: HTTP ``status`` + Binance ``code`` (``None`` if the body was not JSON) + ``msg``."""

    def __init__(self, status: int, code: Optional[int], msg: str,
                 headers: Optional[Mapping[str, str]] = None, body: Any = None) -> None:
        super().__init__(f"HTTP {status} code={code} msg={msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.headers = dict(headers or {})
        self.body = body

    @property
    def execution_unknown(self) -> bool:
        """True when the order may or may not have been placed (-1007, or 503 "Unknown error")."""
        return self.code in _UNKNOWN_CODES or (self.status == 503 and _UNKNOWN_503 in (self.msg or ""))

    def __reduce__(self):  # picklable
        return (type(self), (self.status, self.code, self.msg, self.headers, self.body))


class RateLimitError(BinanceAPIError):
    """HTTP 429 (too many requests) or 418 (IP banned, ``banned`` is True); ``retry_after`` in seconds."""

    def __init__(self, status: int, code: Optional[int], msg: str,
                 headers: Optional[Mapping[str, str]] = None, body: Any = None) -> None:
        super().__init__(status, code, msg, headers, body)
        self.banned = status == 418
        ra = None
        for k, v in self.headers.items():
            if k.lower() == "retry-after":
                try:
                    ra = float(v)
                except ValueError:
                    ra = None
        self.retry_after: Optional[float] = ra


class ServerError(BinanceAPIError):
    """HTTP 5xx.  Check :attr:`execution_unknown` before retrying an order."""


class StreamError(Exception):
    """A websocket control request (SUBSCRIBE/UNSUBSCRIBE) was answered with an error."""

    def __init__(self, code: Any, msg: str) -> None:
        super().__init__(f"stream error code={code} msg={msg}")
        self.code = code
        self.msg = msg


def error_from_response(status: int, data: Any, text: str,
                        headers: Optional[Mapping[str, str]] = None) -> BinanceAPIError:
    code: Optional[int] = None
    msg = text or ""
    if isinstance(data, dict):
        raw_code = data.get("code")
        try:
            code = int(raw_code) if raw_code is not None else None
        except (TypeError, ValueError):
            code = None
        msg = str(data.get("msg", msg))
    if status in (418, 429):
        cls = RateLimitError
    elif status >= 500:
        cls = ServerError
    else:
        cls = BinanceAPIError
    return cls(status, code, msg, headers, data if data is not None else text)
