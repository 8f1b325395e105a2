"""Who has the interpreter while the caseload's first page is on its way.

From the passphrase's Enter to the first page's paint, the key's derivation, the page's read
and its paint are what the worker waits for. The background warm-up (`case_list.warm_up`)
imports the database layer meanwhile in steps; on two cores its imports would take the
interpreter from the page, so between its steps it waits here while a page is on its way.
Standard library only: the unlock screen calls `hold` before the key's derivation starts.
"""

from __future__ import annotations

import threading

#: The most a warm-up step waits for a first page, in case nothing says it was painted.
HOLD_SECONDS = 2.0

_way_clear = threading.Event()
_way_clear.set()


def hold() -> None:
    """A first page is on its way: a background warm-up pauses after its current step."""
    _way_clear.clear()


def release() -> None:
    """The first page is painted, or will not come (wrong passphrase, lock, a full open)."""
    _way_clear.set()


def is_held() -> bool:
    return not _way_clear.is_set()


def wait_for_the_way() -> None:
    """Between two background steps: go on when no first page is on its way, or after
    `HOLD_SECONDS`."""
    _way_clear.wait(HOLD_SECONDS)
