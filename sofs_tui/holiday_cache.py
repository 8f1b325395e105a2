"""England and Wales bank holidays as `holidays` worked them out, kept in the state folder, so
a start-up that needs deadlines at once (the caseload's first page) need not import `holidays`
first: that import loads every country it knows, about 0.15 s.

Public dates only, no case data. The file names the `holidays` release that wrote it; another
release (or a file that does not read back) is ignored, and years it does not hold are asked
of `holidays` as before (`domain.calendar.bank_holidays`), so it can only ever save time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
from datetime import date
from pathlib import Path

from sofs_tui.domain import calendar

CACHE_NAME = "bank_holidays.json"
#: Years kept around the current one: conferences and their deadlines fall in these.
YEARS_BEFORE, YEARS_AFTER = 2, 2


def source_of_truth() -> str | None:
    """Which `holidays` release is installed (its version and its UK calendar file), read
    from the files without importing it; None if it cannot be found."""
    try:
        spec = importlib.util.find_spec("holidays")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    package = Path(spec.origin).parent
    try:
        version = (package / "version.py").read_text(encoding="utf-8").strip()
        uk = (package / "countries" / "united_kingdom.py").stat()
    except OSError:
        return None
    return f"{version}|{uk.st_size}|{uk.st_mtime_ns}"


def _years_around(today: date) -> range:
    return range(today.year - YEARS_BEFORE, today.year + YEARS_AFTER + 1)


def load(path: Path, today: date) -> bool:
    """Hand the cached years to the calendar; False if there is no usable cache for the
    years around `today` (then `save` it once `holidays` has been imported)."""
    source = source_of_truth()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if source is None or document.get("source") != source:
            return False
        years = {
            int(year): [date.fromisoformat(day) for day in days]
            for year, days in document["years"].items()
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return False
    if not set(_years_around(today)) <= set(years):
        return False
    calendar.remember_bank_holidays(years)
    return True


def save(path: Path, today: date) -> None:
    """Write the years around `today` as `holidays` gives them (imports it: call from a
    background thread). Written whole or not at all; a failure only costs the time later."""
    source = source_of_truth()
    if source is None:
        return
    years = _years_around(today)
    document = {
        "source": source,
        "years": {
            str(year): sorted(day.isoformat() for day in calendar.bank_holidays(year))
            for year in years
        },
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(document), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
