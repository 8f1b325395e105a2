"""Fractional positions for ordering entries inside a section.

A position is a string key; sorting keys as plain strings gives the order. A new key can
always be made between two others, so inserting or moving one entry never renumbers its
neighbours, and two devices inserting at the same place never collide on the same row
(ties break on the entry id, see `sort_key`).
"""

from __future__ import annotations

_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE = len(_DIGITS)
_VALUE = {c: i for i, c in enumerate(_DIGITS)}


def _check(key: str) -> None:
    if not key or any(c not in _VALUE for c in key) or key.endswith(_DIGITS[0]):
        raise ValueError(f"not a position key: {key!r}")


def position_between(before: str | None, after: str | None) -> str:
    """A key that sorts strictly after `before` and strictly before `after`.

    `None` means the start (for `before`) or the end (for `after`) of the section.
    """
    if before is not None:
        _check(before)
    if after is not None:
        _check(after)
        if before is not None and not before < after:
            raise ValueError("before must sort before after")
    low = before or ""
    high = after
    result: list[str] = []
    i = 0
    while True:
        lo_digit = _VALUE[low[i]] if i < len(low) else 0
        hi_digit = _VALUE[high[i]] if high is not None and i < len(high) else _BASE
        if hi_digit - lo_digit > 1:
            result.append(_DIGITS[(lo_digit + hi_digit) // 2])
            return "".join(result)
        # No room at this digit: keep the lower digit and look one place further. Once we
        # have moved strictly below `high`, it no longer limits the next digits.
        result.append(_DIGITS[lo_digit])
        if high is not None and lo_digit < hi_digit:
            high = None
        i += 1


def positions_for(count: int) -> list[str]:
    """`count` evenly spread keys, in order, for laying out a fresh section."""
    keys: list[str] = []
    previous: str | None = None
    for _ in range(count):
        previous = position_between(previous, None)
        keys.append(previous)
    return keys


def sort_key(position: str, record_id: str) -> tuple[str, str]:
    """The order of entries: by position, then by id so concurrent inserts stay stable."""
    return (position, record_id)
