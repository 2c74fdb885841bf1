"""Layer 2 — the append-only msgpack journal: segment files of CRC-checked ``[seq, ts, kind, payload]``.

The binary format and the recovery rules are specified in :mod:`exchange.journal.format`.

* :class:`JournalWriter` - append, group commit, fsync policy, segment roll, recovery on open
* :class:`JournalReader` / :func:`read_records` - fast sequential reading
* :func:`recover` - cut a torn tail, refuse corruption
"""
from exchange.journal.format import (
    DEFAULT_SEGMENT_BYTES, EVENT_KIND_BASE, FSYNC_POLICIES, MAGIC, VERSION,
    JournalError, Record, TornTail, is_command, is_event, segment_name,
)
from exchange.journal.reader import JournalReader, read_records
from exchange.journal.recovery import DurableMark, RecoveryResult, recover
from exchange.journal.writer import JournalWriter, segment_header

__all__ = [
    "DEFAULT_SEGMENT_BYTES", "EVENT_KIND_BASE", "FSYNC_POLICIES", "MAGIC", "VERSION",
    "JournalError", "Record", "TornTail", "is_command", "is_event", "segment_name",
    "JournalReader", "read_records", "DurableMark", "RecoveryResult", "recover",
    "JournalWriter", "segment_header",
]
