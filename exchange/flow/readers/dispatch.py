"""``open_recording``: sniff what a recorded file is and open the right reader."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Optional

from exchange.flow.readers._base import DEFAULT_REORDER_WINDOW_MS, MergedReader, Reader, UnknownFormatError, read_head
from exchange.flow.readers.binance_csv import BinanceCsvReader, FreqtradeJsonReader, detect_binance_csv
from exchange.flow.readers.binance_tape import BinanceTapeReader, CryptofeedReader
from exchange.flow.readers.tardis import TardisCsvReader, detect_tardis_csv

__all__ = ["open_recording", "open_recordings", "sniff_format", "READERS"]

#: format name -> reader class
READERS = {
    "binance_tape": BinanceTapeReader,
    "cryptofeed": CryptofeedReader,
    "binance_csv": BinanceCsvReader,
    "freqtrade_json": FreqtradeJsonReader,
    "tardis_csv": TardisCsvReader,
}

_TAPE_LINE = re.compile(rb"\d{10,20} [\[{]")
_CRYPTOFEED_WS = re.compile(rb"\d+(?:\.\d*)?: [\[{]")
_CRYPTOFEED_HTTP = re.compile(rb"https?://\S+ -> \d+(?:\.\d*)?: ")
_CRYPTOFEED_CONNECT = re.compile(rb"wss?://\S+ <-> \d")


def sniff_format(path) -> str:
    """The name (a key of :data:`READERS`) of the format of ``path``, decided
    from its first (decompressed) bytes.  Raises :class:`UnknownFormatError`."""
    head = read_head(path)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise UnknownFormatError(path, None, "file is empty")
    if stripped[:1] == b"[":
        return "freqtrade_json"
    first = stripped.split(b"\n", 1)[0]
    if _TAPE_LINE.match(first):
        return "binance_tape"
    if (_CRYPTOFEED_WS.match(first) or _CRYPTOFEED_HTTP.match(first)
            or _CRYPTOFEED_CONNECT.match(first) or first.startswith(b"configuration: {")):
        return "cryptofeed"
    text = first.decode("utf-8", "replace")
    if detect_tardis_csv(text, Path(path).name):
        return "tardis_csv"
    if detect_binance_csv(text):
        return "binance_csv"
    raise UnknownFormatError(path, 1, "unrecognized recording format", text)


def open_recording(path, *, format: Optional[str] = None, on_error: str = "raise",
                   symbol: Optional[str] = None,
                   reorder_window_ms: int = DEFAULT_REORDER_WINDOW_MS, **options) -> Reader:
    """Open one recorded file as an iterator of records ordered by exchange time.

    ``format`` skips sniffing (a key of :data:`READERS`).  ``on_error``:
    ``'raise'`` stops at the first bad row (:class:`RecordingError` naming file
    and line), ``'skip'`` counts it in ``reader.stats.skipped``.  ``symbol``
    overrides the symbol the file (name) implies.  Extra ``options`` go to the
    reader (``interval=``, ``kind=`` for candle files, ``layout=`` for Binance CSV).
    """
    fmt = format or sniff_format(path)
    try:
        cls = READERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; known: {sorted(READERS)}") from None
    return cls(path, on_error=on_error, symbol=symbol, reorder_window_ms=reorder_window_ms, **options)


def open_recordings(paths: Iterable, **kw) -> MergedReader:
    """Several files (e.g. cryptofeed's ``.ws`` and ``.http`` halves, or one
    file per symbol/day) merged into one stream ordered by exchange time."""
    return MergedReader(open_recording(p, **kw) for p in paths)
