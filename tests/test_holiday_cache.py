"""The bank-holiday cache (`sofs_tui.holiday_cache`): a start-up that reads it knows the years
around today without importing `holidays`, with the same answers; a cache from another
`holidays` release, a damaged file or missing years are ignored, and the answer then still
comes from `holidays`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from sofs_tui import holiday_cache
from sofs_tui.domain import calendar
from tests.support.fresh_python import run_fresh_python

TODAY = date(2026, 11, 27)


@pytest.fixture(autouse=True)
def _forget_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from a calendar that remembers nothing (the cache is process-wide)."""
    monkeypatch.setattr(calendar, "_remembered", {})
    calendar.bank_holidays.cache_clear()


def test_a_saved_cache_gives_the_same_days_in_a_process_that_never_imports_holidays(
    tmp_path: Path,
) -> None:
    cache = tmp_path / holiday_cache.CACHE_NAME
    holiday_cache.save(cache, TODAY)
    expected = {year: sorted(map(str, calendar.bank_holidays(year))) for year in (2025, 2026)}
    probe = (
        "import json, sys\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from sofs_tui import holiday_cache\n"
        "from sofs_tui.domain import calendar\n"
        f"assert holiday_cache.load(Path({str(cache)!r}), date(2026, 11, 27))\n"
        "days = {y: sorted(map(str, calendar.bank_holidays(y))) for y in (2025, 2026)}\n"
        "print(json.dumps({'days': days, 'imported': 'holidays' in sys.modules}))\n"
    )
    found = json.loads(run_fresh_python(probe))
    assert found["imported"] is False
    assert found["days"] == {str(year): days for year, days in expected.items()}
    assert "2026-12-25" in found["days"]["2026"] and "2026-12-28" in found["days"]["2026"]


def test_a_cache_from_another_holidays_release_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / holiday_cache.CACHE_NAME
    holiday_cache.save(cache, TODAY)
    document = json.loads(cache.read_text())
    document["source"] = "__version__ = '0.1'|1|1"
    document["years"]["2026"] = ["2026-03-03"]  # would be wrong, if it were believed
    cache.write_text(json.dumps(document))
    assert not holiday_cache.load(cache, TODAY)
    assert date(2026, 3, 3) not in calendar.bank_holidays(2026)
    assert date(2026, 12, 25) in calendar.bank_holidays(2026)


@pytest.mark.parametrize(
    "content", ["", "not json", "[]", '{"source": null}', '{"years": {"2026": [1]}}']
)
def test_a_damaged_cache_is_ignored(tmp_path: Path, content: str) -> None:
    cache = tmp_path / holiday_cache.CACHE_NAME
    cache.write_text(content)
    assert not holiday_cache.load(cache, TODAY)
    assert calendar.remembered_years() == frozenset()


def test_a_cache_without_the_years_around_today_is_not_used(tmp_path: Path) -> None:
    cache = tmp_path / holiday_cache.CACHE_NAME
    holiday_cache.save(cache, date(2020, 6, 1))  # 2018-2022
    assert not holiday_cache.load(cache, TODAY)
    assert holiday_cache.load(cache, date(2020, 1, 1))
    # Years the cache does not hold are still asked of `holidays`.
    assert date(2026, 12, 25) in calendar.bank_holidays(2026)


def test_no_cache_file_is_no_cache(tmp_path: Path) -> None:
    assert not holiday_cache.load(tmp_path / "missing.json", TODAY)


def test_saving_where_it_cannot_write_leaves_nothing_behind(tmp_path: Path) -> None:
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    holiday_cache.save(blocked / holiday_cache.CACHE_NAME, TODAY)  # no exception
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file, not a folder"]
