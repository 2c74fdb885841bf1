"""Small helpers shared by the CSV readers."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Optional

_INTERVAL = re.compile(r"\d+[smhdwM]")
_INTERVAL_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def interval_ms(interval: Optional[str]) -> Optional[int]:
    """``"5m"`` -> 300000; months (``"1M"``) have no fixed length -> None."""
    if not interval or not _INTERVAL.fullmatch(interval):
        return None
    unit = interval[-1]
    if unit == "M":
        return None
    return int(interval[:-1]) * _INTERVAL_MS[unit]


def interval_in_name(name: str) -> Optional[str]:
    """The first ``<n><unit>`` token of a file name split on ``-_.``."""
    for tok in re.split(r"[-_.]", name):
        if _INTERVAL.fullmatch(tok):
            return tok
    return None


def epoch_ms(text: str) -> int:
    """An integer epoch timestamp in s, ms, µs or ns, scaled to ms by magnitude
    (Binance spot files switched from ms to µs in 2025)."""
    v = int(text)
    if v >= 10**17:
        return v // 1_000_000
    if v >= 10**14:
        return v // 1_000
    if v < 10**11:              # seconds
        return v * 1_000
    return v


def text_ms(text: str) -> int:
    """``2021-12-31 23:01:00.000000`` / ``2023-01-15 23:57:03`` (UTC) -> epoch ms;
    an all-digit value is read as an epoch number."""
    t = text.strip()
    if t.isdigit():
        return epoch_ms(t)
    dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    delta = dt - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1_000 + delta.microseconds // 1_000


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_bool(text: str) -> bool:
    t = text.strip().lower()
    if t == "true":
        return True
    if t == "false":
        return False
    raise ValueError(f"not a boolean: {text!r}")
