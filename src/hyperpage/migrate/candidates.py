"""Candidate types of a generic column (boolean, JSON, date, timestamp): which values SQLite proves fit, and
the value-by-value check in Python of the others. One value that does not fit keeps the column's wider type.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hyperpage.migrate.plan import Reject, quote_ident
from hyperpage.migrate.typing_rules import BOOL_TEXT, Profile, json_problem, parse_ts, to_date

SCAN_CHUNK = 20_000


def candidate_kinds(declared: str) -> tuple[bool, bool, bool, bool]:
    """(boolean, JSON, date, timestamp) by the declared type (upper case); all False: not a candidate column."""
    return (
        "BOOL" in declared or declared in ("BIT", "TINYINT(1)"),
        "JSON" in declared,
        declared.startswith("DATE") and "TIME" not in declared,
        "TIMESTAMP" in declared or "DATETIME" in declared,
    )


def epoch_divisor(p: Profile) -> int:
    """Integers in a timestamp column are Unix epoch seconds, milliseconds or microseconds, by their magnitude."""
    biggest = max(abs(p.min_int or 0), abs(p.max_int or 0))
    return 1_000_000 if biggest >= 10**14 else 1000 if biggest >= 10**11 else 1


def ints_fit(p: Profile, declared: str) -> bool:
    """A timestamp column's integers are all epoch values in range: its min and max are (the check is monotone)."""
    if not (candidate_kinds(declared)[3] and p.n_int):
        return True
    divisor = epoch_divisor(p)
    # SQLite's integer division truncates toward zero, as the known_good() check of each value does
    return all(
        v is not None and MIN_EPOCH <= (abs(v) // divisor) * (1 if v >= 0 else -1) <= MAX_EPOCH
        for v in (p.min_int, p.max_int)
    )


def all_proven(p: Profile, declared: str) -> None:
    """Every value is one SQLite proved fits the candidate type: none needs reading in Python."""
    is_ts = candidate_kinds(declared)[3]
    p.bool_ok = p.json_ok = p.date_ok = p.ts_ok = True
    if is_ts and p.n_int:
        p.epoch_divisor = epoch_divisor(p)
    p.ts_plain = is_ts and not (p.n_int or p.n_real)  # text of the forms SQLite proved: COPY takes it as is


def scan_candidates(conn: sqlite3.Connection, table: str, name: str, declared: str, p: Profile) -> None:
    """Check every value of boolean, JSON and date/time candidates: one bad value keeps the wider type."""
    is_bool, is_json, is_date, is_ts = candidate_kinds(declared)
    if not (is_bool or is_json or is_date or is_ts):
        return
    p.bool_ok = p.json_ok = p.date_ok = p.ts_ok = True
    if p.n_blob or p.bad_utf8 or p.nul_text:
        p.bool_ok = p.json_ok = p.date_ok = p.ts_ok = False
        p.json_problem = p.ts_problem = "holds blobs or undecodable text"
        return
    c = quote_ident(name)
    if is_ts and p.n_int:
        p.epoch_divisor = epoch_divisor(p)
    good = known_good(c, is_bool, is_json, is_date, is_ts, p.epoch_divisor)
    cur = conn.execute(
        f"SELECT DISTINCT {c} FROM {quote_ident(table)} WHERE {c} IS NOT NULL"
        + (f" AND {unproven(good)}" if good else "")
    )
    bad = checked = 0
    while chunk := cur.fetchmany(SCAN_CHUNK):
        checked += len(chunk)
        for (value,) in chunk:
            ok, problem = _check(value, is_bool, is_json, is_date, p.epoch_divisor)
            if not ok:
                bad += 1
                p.sub_microsecond += "below the microsecond" in problem
                if len(p.examples) < 3:
                    p.examples.append(repr(value)[:40])
                p.json_problem = p.json_problem or problem
                p.ts_problem = p.ts_problem or problem
    # every value text of the forms SQLite proved: PostgreSQL reads each as parse_ts would, COPY can take them
    p.ts_plain = is_ts and not checked and not (p.n_int or p.n_real)
    if bad:
        p.bool_ok = p.json_ok = p.date_ok = p.ts_ok = False
        p.ts_problem = f"{bad} distinct values do not parse, e.g. {', '.join(p.examples)}"
        p.json_problem = f"{bad} distinct values are not jsonb-safe, e.g. {p.json_problem}"


_D = "[0-9]"
_YMD = f"{_D * 4}-{_D * 2}-{_D * 2}"
_HMS = f"{_D * 2}:{_D * 2}:{_D * 2}"
MIN_EPOCH, MAX_EPOCH = -62135596800, 253402300799  # 0001-01-01 and 9999-12-31 23:59:59, Python's range


def unproven(good: str) -> str:
    """SQL true where `good` is not (false or NULL). A CASE condition, not NOT coalesce(...): SQLite stops at the
    first true OR branch only where it jumps on a condition; as a value it computes every branch (7x slower)."""
    return f"CASE WHEN {good} THEN 0 ELSE 1 END"


def known_good(c: str, is_bool: bool, is_json: bool, is_date: bool, is_ts: bool, divisor: int | None) -> str:
    """SQL true for values SQLite proves fit the candidate type, so only the others are checked in Python.

    First the cheapest proofs of the commonest forms: datetime(julianday(x)) = x holds exactly for canonical
    'YYYY-MM-DD HH:MM:SS' text of a real day and time (julianday() normalises Feb 30 or 24:00, and the text must
    come back unchanged), a fifteenth of the cost of the checks below. (json_patch('{}', x) = json(x) does NOT
    prove an object free of duplicate keys: SQLite 3.40 keeps both members, so JSON keeps json_each().)
    With `divisor` None integers in a timestamp column count as proven: the caller checks their range (min, max).

    The common forms only, each stricter than the Python check: a boolean as 0/1 or t/f/true/false; a timestamp
    as YYYY-MM-DD[ T]HH:MM:SS with 0, 3 or 6 fraction digits or a bare date, on a real calendar day of years
    1-9999 (days up to 28 need no look at the calendar; julianday() normalises Feb 30, so a later day must come
    back unchanged), hours below 24, minutes and seconds below 60, ASCII only and no U+0000 (so a proven value is
    valid UTF-8 that PostgreSQL can store); an epoch integer in range; JSON that
    json_valid() accepts, without \\u0000 and without a key twice in one object (only text with a "{" can have a
    key; only one "{" at the start is one object, which json_each() lists; anything else gets json_tree()).
    """
    day = (
        f"substr({c}, 1, 4) <> '0000' AND (substr({c}, 9, 2) BETWEEN '01' AND '28' AND substr({c}, 6, 2) "
        f"BETWEEN '01' AND '12' OR date(julianday(substr({c}, 1, 10))) = substr({c}, 1, 10))"
    )
    canonical = f"typeof({c}) = 'text' AND {c} >= '0001' AND "
    # GLOB, length() and the day's substr() read text only up to a U+0000 ('2024-01-01\x00junk' GLOBs as a
    # date), where the canonical form's = compares every byte: the other forms need this guard, since a proven
    # date/time column's text is not read again for U+0000 and invalid UTF-8 (profile._chunked)
    no_nul = f"instr({c}, char(0)) = 0"
    if is_ts:
        forms = (
            f"substr({c}, 1, 19) GLOB '{_YMD}[ T]{_HMS}' AND (length({c}) = 19 OR length({c}) IN (23, 26) AND "
            f"substr({c}, 20, 1) = '.' AND substr({c}, 21) NOT GLOB '*[^0-9]*')"
        )
        clock = f"substr({c}, 12, 2) < '24' AND substr({c}, 15, 2) < '60' AND substr({c}, 18, 2) < '60'"
        epoch = f" AND {c} / {divisor} BETWEEN {MIN_EPOCH} AND {MAX_EPOCH}" if divisor is not None else ""
        return (
            f"({canonical}datetime(julianday({c})) = {c}) "
            f"OR (typeof({c}) = 'text' AND {no_nul} AND (({forms}) AND {clock} OR {c} GLOB '{_YMD}') AND {day}) "
            f"OR (typeof({c}) = 'integer'{epoch})"
        )
    if is_date:
        return (
            f"({canonical}date(julianday({c})) = {c}) OR (typeof({c}) = 'text' AND {no_nul} AND {c} GLOB '{_YMD}' "
            f"AND {day})"
        )
    if is_bool:
        return (
            f"typeof({c}) = 'integer' AND {c} IN (0, 1) "
            f"OR typeof({c}) = 'text' AND lower({c}) IN ('0', '1', 't', 'f', 'true', 'false')"
        )
    if is_json:
        safe = f"CASE WHEN json_valid({c}) THEN {c} ELSE '[]' END"  # SQLite may run the subquery on any value
        return (
            f"typeof({c}) = 'text' AND json_valid({c}) AND instr({c}, '\\u0000') = 0 AND CASE "
            f"WHEN instr({c}, '{{') = 0 THEN 1 "
            f"WHEN substr(ltrim({c}), 1, 1) = '{{' AND instr(substr(ltrim({c}), 2), '{{') = 0 THEN "
            f"(SELECT count(*) = count(DISTINCT key) FROM json_each({safe})) "
            f"ELSE NOT EXISTS (SELECT 1 FROM json_tree({safe}) j WHERE j.parent IS NOT NULL GROUP BY j.parent, j.key "
            "HAVING count(*) > 1) END"
        )
    return ""


def _check(value: Any, is_bool: bool, is_json: bool, is_date: bool, divisor: int) -> tuple[bool, str]:
    if is_bool:
        ok = (isinstance(value, int) and value in (0, 1)) or (isinstance(value, str) and value.lower() in BOOL_TEXT)
        return ok, "not a boolean"
    if is_json:
        problem = json_problem(value)
        return not problem, problem
    try:
        to_date(value) if is_date else parse_ts(value, divisor)
    except (Reject, ValueError, OverflowError) as exc:
        return False, str(exc)
    return True, ""
