"""The caseload's first page read before the database layer is loaded (`first_page.py`): the
same rows as `case_summaries`, field by field, over a demo caseload with every awkward case
put in by hand; and it steps aside (None) whenever the full open has to decide.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS, DeadlineState
from sofs_tui.store.case_page import CasePage
from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.first_page import read_first_page
from sofs_tui.store.keys import DataKey
from sofs_tui.store.queries import case_summaries
from sofs_tui.store.store import DB_NAME, Store
from tests.conftest import FakeClock
from tests.support.fresh_python import run_fresh_python

RULES = LONDON_BOROUGH_DEFAULTS
CALENDAR = default_calendar()
DUE_SOON = timedelta(hours=24)


def _first_page(store: Store, store_path: Path, key: DataKey, limit: int = 200) -> CasePage | None:
    return read_first_page(
        store_path / DB_NAME,
        key,
        rules=RULES,
        calendar=CALENDAR,
        now=store.now(),
        due_soon=DUE_SOON,
        limit=limit,
    )


def _summaries(store: Store, limit: int = 200) -> CasePage:
    return case_summaries(
        store, rules=RULES, calendar=CALENDAR, limit=limit, due_soon=DUE_SOON, with_sync=False
    )


def _ids(store: Store, query: str, **values: object) -> list[str]:
    with store.read() as session:
        return [row[0] for row in session.execute(text(query), values)]


def _set(store: Store, table: str, assignments: str, ids: list[str]) -> None:
    assert ids, f"nothing to change in {table}"
    with store.write() as session:
        for row_id in ids:
            session.execute(
                text(f"UPDATE {table} SET {assignments} WHERE id = :id"), {"id": row_id}
            )


def _awkward(store: Store) -> None:
    """Tombstones, ended plans, exemptions, cancelled conferences and repeated shares, each
    among the first page's cases."""
    cases = _ids(store, "SELECT id FROM family_case ORDER BY reference LIMIT 200")
    among = "case_id IN (" + ", ".join(f"'{c}'" for c in cases) + ")"
    _set(store, "family_case", "deleted = 1", cases[:3])
    children = _ids(store, f"SELECT id FROM person WHERE kind = 'child' AND {among}")
    _set(store, "person", "deleted = 1", children[:4])
    planned = _ids(
        store,
        f"SELECT id FROM person WHERE kind = 'child' AND {among} "
        "AND plan_category_latest IS NOT NULL AND deleted = 0",
    )
    _set(store, "person", "plan_end = '2026-10-01'", planned[:4])
    # Children with the same name: each category still shows once, in the same order.
    _set(store, "person", "name = 'Same Name'", children[10:16])
    parents = _ids(
        store,
        f"SELECT id FROM person WHERE kind = 'adult' AND parental_responsibility = 1 AND {among}",
    )
    _set(store, "person", "deleted = 1", parents[:5])
    _set(store, "person", "parental_responsibility = 0", parents[7:12])
    conferences = _ids(
        store, f"SELECT id FROM conference WHERE status = 'planned' AND deleted = 0 AND {among}"
    )
    _set(store, "conference", "status = 'cancelled'", conferences[:3])
    _set(store, "conference", "deleted = 1", conferences[4:7])
    of_conferences = "conference_id IN (" + ", ".join(f"'{c}'" for c in conferences) + ")"
    reports = _ids(store, f"SELECT id FROM report WHERE {of_conferences}")
    _set(store, "report", "deleted = 1", reports[:4])
    _set(store, "report", "qau_reason = 'parent_excluded'", reports[6:10])
    _set(
        store,
        "report",
        "qau_reason = 'parent_excluded', sent_to_qau_at = '2026-11-20T10:00:00.000000+00:00'",
        reports[12:16],
    )
    of_reports = "report_id IN (" + ", ".join(f"'{r}'" for r in reports) + ")"
    shares = _ids(store, f"SELECT id FROM report_share WHERE {of_reports}")
    _set(store, "report_share", "deleted = 1", shares[:5])
    # Reports shared twice with the same parent, earlier the second time: the earlier counts.
    with store.write() as session:
        columns = [row[1] for row in session.execute(text("PRAGMA table_info(report_share)"))]
        copied = ", ".join(
            "'again-' || id"
            if name == "id"
            else "'2026-11-01T08:00:00.000000+00:00'"
            if name == "shared_at"
            else name
            for name in columns
        )
        added = session.execute(
            text(
                f"INSERT INTO report_share ({', '.join(columns)}) SELECT {copied} "
                f"FROM report_share WHERE deleted = 0 AND {of_reports} LIMIT 6"
            )
        )
        assert added.rowcount == 6  # type: ignore[attr-defined]


@pytest.mark.parametrize("limit", [200, 37])
def test_the_first_page_equals_case_summaries_row_by_row(
    store: Store, store_path: Path, clock: FakeClock, limit: int
) -> None:
    key = store.key
    assert key is not None
    fill_demo_caseload(store, 260, seed=11)
    _awkward(store)
    clock.advance(days=3)  # some deadlines pass, some come due soon

    wanted = _summaries(store, limit)
    got = _first_page(store, store_path, key, limit)

    assert got is not None
    assert got.total == wanted.total == 257
    assert len(got.rows) == limit
    for ours, theirs in zip(got.rows, wanted.rows, strict=True):
        assert ours == theirs
    # The page is not trivially empty: it shows what a caseload shows.
    states = {row.nearest.state for row in got.rows if row.nearest}
    assert {DeadlineState.OVERDUE, DeadlineState.DUE} <= states
    assert any(row.categories for row in got.rows)
    assert any(row.reports_unshared for row in got.rows)


def test_an_empty_store_has_an_empty_first_page(store: Store, store_path: Path) -> None:
    assert store.key is not None
    assert _first_page(store, store_path, store.key) == CasePage(0, ())


@pytest.mark.parametrize(
    "change",
    [
        pytest.param("PRAGMA user_version = 4", id="a schema behind the newest"),
        pytest.param("DELETE FROM sync_meta", id="no device record"),
    ],
)
def test_a_store_the_full_open_must_see_to_is_left_to_it(
    store: Store, store_path: Path, change: str
) -> None:
    key = store.key
    assert key is not None
    fill_demo_caseload(store, 5)
    with store.write() as session:
        session.execute(text(change))
    assert _first_page(store, store_path, key) is None


def test_a_wrong_key_or_a_missing_file_is_left_to_the_full_open(
    store: Store, store_path: Path
) -> None:
    assert store.key is not None
    fill_demo_caseload(store, 5)
    assert _first_page(store, store_path, DataKey.generate()) is None
    assert _first_page(store, store_path / "elsewhere", store.key) is None


def test_reading_the_first_page_writes_nothing(store: Store, store_path: Path) -> None:
    key = store.key
    assert key is not None
    fill_demo_caseload(store, 30)
    key = DataKey(bytes.fromhex(key.raw_hex()))  # locking wipes the store's own
    store.lock()  # the file as the app leaves it: no connection open
    db = store_path / DB_NAME
    before = db.read_bytes()
    assert _first_page(store, store_path, key) is not None
    assert db.read_bytes() == before


def test_the_first_page_loads_no_database_layer() -> None:
    """The point of it: SQLAlchemy, SQLModel and the tables come after the page."""
    probe = (
        "import sys, sofs_tui.store.first_page\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', "
        "'pydantic') or m in ('sofs_tui.store.tables', 'sofs_tui.store.store'))\n"
        "print(heavy)"
    )
    found = run_fresh_python(probe).strip()
    assert found == "[]", found
