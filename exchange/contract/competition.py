"""A trading competition's rules: the ``--competition FILE`` codec (JSON or TOML).

The file, strictly parsed (an unknown key is an error naming the file and the key)::

    name = "Hackathon #3"
    starting_balance = "10000"        # USDT, the same for every team
    symbols = ["BTCUSDT"]             # what teams may trade (default: every listed symbol)
    max_leverage = 20                 # teams may not set a higher leverage
    at_end = "mark"                   # "mark": positions are valued at the mark price;
                                      # "close": closed by reduce-only market orders
    keys_file = "team-keys.json"      # where team API keys are written (relative to this
                                      # file; default: competition-keys.json beside it)
    scenario = "crash"                # optional: the synthetic flow's scenario and seed
    seed = 7

    [window]
    start = "2026-12-06T02:00:00Z"    # ISO 8601, epoch ms, or "+90s" / "+5m" / "+1h"
    end = "+2h"                       # (relative forms: from the server's start)
    clock = "venue"                   # "venue" (the exchange's clock) or "wall"

    [[teams]]
    name = "alpha"
    key_algorithm = "ED25519"         # optional: HMAC_SHA256 (default), ED25519 or RSA

``Competition.definition()`` is the canonical JSON journaled in the
``OpenCompetition`` command: resolved absolute window, money in integer units,
team account ids.  A projection rebuilt from the journal reads it back with
``Competition.from_definition``.
"""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Optional

from exchange.units import MONEY_SCALE

FORMAT = "paperex-competition/1"
AT_END = ("mark", "close")
WINDOW_CLOCKS = ("venue", "wall")
KEY_ALGORITHMS = ("HMAC_SHA256", "ED25519", "RSA")     # Binance's API key types
SCENARIOS = ("calm", "trend", "crash", "squeeze", "funding-spike")
_TOP_KEYS = {"name", "starting_balance", "symbols", "max_leverage", "at_end", "keys_file", "scenario",
             "seed", "window", "teams"}
_WINDOW_KEYS = {"start", "end", "clock"}
_TEAM_KEYS = {"name", "key_algorithm"}
_RELATIVE = re.compile(r"^\+(\d+)(ms|s|m|h|d)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_TEAM_NAME = re.compile(r"^[A-Za-z0-9 _.\-]{1,32}$")


class CompetitionError(ValueError):
    """A competition file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Team:
    name: str
    account_id: int = 0             # set when the competition opens
    key_algorithm: str = "HMAC_SHA256"


@dataclass(frozen=True)
class Competition:
    name: str
    starting_balance: int           # money units
    start_ms: int
    end_ms: int
    window_clock: str               # "venue" | "wall"
    symbols: tuple[str, ...]
    max_leverage: int
    at_end: str                     # "mark" | "close"
    teams: tuple[Team, ...]
    scenario: Optional[str] = None
    seed: Optional[int] = None
    keys_file: Optional[str] = field(default=None, compare=False)

    def in_window(self, venue_ms: int, wall_ms: int) -> bool:
        t = venue_ms if self.window_clock == "venue" else wall_ms
        return self.start_ms <= t < self.end_ms

    def team_of(self, account_id: int) -> Optional[Team]:
        for t in self.teams:
            if t.account_id == account_id:
                return t
        return None

    def definition(self) -> str:
        """Canonical JSON (sorted keys, no spaces): what OpenCompetition journals."""
        return json.dumps({
            "format": FORMAT, "name": self.name, "starting_balance": self.starting_balance,
            "window": {"start_ms": self.start_ms, "end_ms": self.end_ms, "clock": self.window_clock},
            "symbols": list(self.symbols), "max_leverage": self.max_leverage, "at_end": self.at_end,
            "scenario": self.scenario, "seed": self.seed,
            "teams": [{"name": t.name, "account_id": t.account_id, "key_algorithm": t.key_algorithm}
                      for t in self.teams],
        }, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_definition(cls, text: str) -> "Competition":
        d = json.loads(text)
        if d.get("format") != FORMAT:
            raise CompetitionError(f"not a {FORMAT} definition")
        w = d["window"]
        return cls(d["name"], d["starting_balance"], w["start_ms"], w["end_ms"], w["clock"],
                   tuple(d["symbols"]), d["max_leverage"], d["at_end"],
                   tuple(Team(t["name"], t["account_id"], t["key_algorithm"]) for t in d["teams"]),
                   d.get("scenario"), d.get("seed"))


def load(path: "str | Path", *, now_venue_ms: int, now_wall_ms: int,
         symbols: "list[str] | tuple[str, ...]", max_leverage: int = 125) -> Competition:
    """Read and check ``path`` (``.toml`` is TOML, anything else JSON).  Relative window
    times are resolved against the clock the window uses; ``symbols`` are the listed
    instruments; ``max_leverage`` the highest leverage any of them allows."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise CompetitionError(f"{p}: cannot read ({e.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8")) if p.suffix.lower() == ".toml" else json.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CompetitionError(f"{p}: not valid {'TOML' if p.suffix.lower() == '.toml' else 'JSON'}: {e}") \
            from None
    return parse(data, source=str(p), now_venue_ms=now_venue_ms, now_wall_ms=now_wall_ms,
                 symbols=symbols, max_leverage=max_leverage)


def parse(data: Any, *, source: str, now_venue_ms: int, now_wall_ms: int,
          symbols: "list[str] | tuple[str, ...]", max_leverage: int = 125) -> Competition:
    def fail(key: str, why: str) -> CompetitionError:
        return CompetitionError(f"{source}: {key}: {why}")

    if not isinstance(data, dict):
        raise CompetitionError(f"{source}: the top level must be a table/object")
    _no_unknown(data, _TOP_KEYS, "", fail)
    for key in ("name", "starting_balance", "window", "teams"):
        if key not in data:
            raise fail(key, "missing (required)")
    name = data["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise fail("name", "must be a non-empty string of at most 64 characters")
    balance = _money(data["starting_balance"], fail)
    sym_list = data.get("symbols", list(symbols))
    if not isinstance(sym_list, list) or not sym_list or not all(isinstance(s, str) for s in sym_list):
        raise fail("symbols", "must be a non-empty list of symbol names")
    for s in sym_list:
        if s not in symbols:
            raise fail("symbols", f"{s!r} is not a listed symbol (listed: {', '.join(sorted(symbols))})")
    if len(set(sym_list)) != len(sym_list):
        raise fail("symbols", "lists a symbol twice")
    lev = data.get("max_leverage", max_leverage)
    if type(lev) is not int or not 1 <= lev <= max_leverage:
        raise fail("max_leverage", f"must be an integer from 1 to {max_leverage}")
    at_end = data.get("at_end", "mark")
    if at_end not in AT_END:
        raise fail("at_end", f"must be one of {', '.join(AT_END)}")
    keys_file = data.get("keys_file")
    if keys_file is not None and (not isinstance(keys_file, str) or not keys_file):
        raise fail("keys_file", "must be a file name")
    scenario = data.get("scenario")
    if scenario is not None and scenario not in SCENARIOS:
        raise fail("scenario", f"must be one of {', '.join(SCENARIOS)}")
    seed = data.get("seed")
    if seed is not None and (type(seed) is not int or seed < 0):
        raise fail("seed", "must be a non-negative integer")

    window = data["window"]
    if not isinstance(window, dict):
        raise fail("window", "must be a table/object with start, end and clock")
    _no_unknown(window, _WINDOW_KEYS, "window.", fail)
    clock = window.get("clock", "venue")
    if clock not in WINDOW_CLOCKS:
        raise fail("window.clock", f"must be one of {', '.join(WINDOW_CLOCKS)}")
    now = now_venue_ms if clock == "venue" else now_wall_ms
    for key in ("start", "end"):
        if key not in window:
            raise fail(f"window.{key}", "missing (required)")
    start = _time(window["start"], now, lambda why: fail("window.start", why))
    end = _time(window["end"], now, lambda why: fail("window.end", why))
    if end <= start:
        raise fail("window.end", "must be after window.start")

    teams_raw = data["teams"]
    if not isinstance(teams_raw, list) or not teams_raw:
        raise fail("teams", "must be a non-empty list of teams")
    teams = []
    seen: set[str] = set()
    for i, t in enumerate(teams_raw):
        where = f"teams[{i}]"
        if not isinstance(t, dict):
            raise fail(where, "must be a table/object")
        _no_unknown(t, _TEAM_KEYS, f"{where}.", fail)
        tname = t.get("name")
        if not isinstance(tname, str) or not _TEAM_NAME.match(tname):
            raise fail(f"{where}.name", "must be 1-32 letters, digits, spaces, '_', '.' or '-'")
        if tname.lower() in seen:
            raise fail(f"{where}.name", f"team {tname!r} is listed twice")
        seen.add(tname.lower())
        algo = t.get("key_algorithm", "HMAC_SHA256")
        if algo not in KEY_ALGORITHMS:
            raise fail(f"{where}.key_algorithm", f"{algo!r} is not one of {', '.join(KEY_ALGORITHMS)}")
        teams.append(Team(tname, 0, algo))
    return Competition(name.strip(), balance, start, end, clock, tuple(sym_list), lev, at_end, tuple(teams),
                       scenario, seed, keys_file)


def _no_unknown(d: dict, allowed: set, prefix: str, fail) -> None:
    for key in d:
        if key not in allowed:
            raise fail(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _money(v: Any, fail) -> int:
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        raise fail("starting_balance", "must be a decimal string or an integer (USDT)")
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise fail("starting_balance", f"{v!r} is not a decimal number") from None
    units = d * MONEY_SCALE
    if not d.is_finite() or d <= 0 or units != units.to_integral_value() or d > Decimal(10) ** 12:
        raise fail("starting_balance", "must be a positive amount with at most 8 decimals")
    return int(units)


def _time(v: Any, now: int, fail) -> int:
    if type(v) is int:
        if v < 0:
            raise fail("must not be negative")
        return v
    if isinstance(v, datetime):                 # TOML's own date-times
        dt = v if v.tzinfo else v.replace(tzinfo=timezone.utc)
        return int(dt.timestamp() * 1000)
    if not isinstance(v, str):
        raise fail("must be ISO 8601, epoch milliseconds or +N(ms|s|m|h|d)")
    m = _RELATIVE.match(v.strip())
    if m:
        return now + int(m.group(1)) * _UNIT_MS[m.group(2)]
    try:
        dt = datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"{v!r} is not ISO 8601, epoch milliseconds or +N(ms|s|m|h|d)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1000)
