"""Readers of recorded market data and the format-sniffing dispatcher.

``open_recording(path)`` sniffs the format (gzip/zip transparent, by magic
bytes) and returns a reader; iterating it yields the records of
``exchange.flow.records`` ordered by exchange time.
"""
from exchange.flow.readers._base import (DEFAULT_REORDER_WINDOW_MS, MergedReader, Reader, ReaderStats, RecordingError,
                    UnknownFormatError)
from exchange.flow.readers.binance_csv import BinanceCsvReader, FreqtradeJsonReader
from exchange.flow.readers.binance_tape import BinanceTapeReader, CryptofeedReader
from exchange.flow.readers.dispatch import READERS, open_recording, open_recordings, sniff_format
from exchange.flow.readers.tardis import TardisCsvReader

__all__ = ["open_recording", "open_recordings", "sniff_format", "READERS",
           "Reader", "MergedReader", "ReaderStats", "RecordingError", "UnknownFormatError",
           "DEFAULT_REORDER_WINDOW_MS", "BinanceTapeReader", "CryptofeedReader",
           "BinanceCsvReader", "FreqtradeJsonReader", "TardisCsvReader"]
