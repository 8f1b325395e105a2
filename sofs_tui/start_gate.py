"""Who has the interpreter while the caseload's first page is on its way.

From the passphrase's Enter to the first page's paint, the key's derivation, the page's read
and its paint are what the worker waits for. The background warm-up (`case_list.warm_up`)
imports the database layer meanwhile in steps; on two cores its imports would take the
interpreter from the page, so between its steps it waits here while a page is on its way.
Standard library only: the unlock screen calls `hold` before the key's derivation starts.

What start-up loads stays for the whole run, so each stage of it hands that to the cyclic
collector as permanent (`freeze_what_is_loaded`).
"""

from __future__ import annotations

import gc
import threading

#: The most a warm-up step waits for a first page, in case nothing says it was painted.
HOLD_SECONDS = 2.0

_way_clear = threading.Event()
_way_clear.set()
_frozen_stages: set[str] = set()


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


def freeze_what_is_loaded(stage: str) -> None:
    """What is loaded by now (modules, classes, widgets' styles, compiled queries) stays for
    the whole run: keep it out of the cyclic collector's full passes, which would otherwise
    walk it all in the middle of an unlock or a paint (25 ms at the first frame, 0.1 s once
    the database layer is loaded). Once per stage of start-up ("first frame", "first page":
    the caseload screen, the page's reader and the bank holidays; "database layer"): a freeze
    also keeps whatever garbage was waiting for the collector then, so never more often."""
    if stage not in _frozen_stages:
        _frozen_stages.add(stage)
        gc.freeze()
