"""A pull page's records are applied in runs (store/sync_apply.py: one read of what a run
needs, one executemany per table for its new rows). The end state must be the one the
record-by-record rules give: here a page applied whole is compared with the same items applied
one page each, and the converters with `sync_rows.to_column`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from sofs_tui.store import mapping, sync_local
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import Actor, Store, open_with_key
from sofs_tui.store.sync_apply import column_converters
from sofs_tui.store.sync_rows import SYNC_COLUMNS, to_column
from sofs_tui.store.tables import SYNCED_TABLES, Entry, LocalConflict, Shadow
from sofs_tui.store.types import StrEnumType
from sofs_tui.sync.protocol import PullItem, PullResponse, RecordItem, ScopeItem
from tests.conftest import FakeClock
from tests.sync.fake_server import SERVER_TIME

CASE, OTHER_CASE, ASSESSMENT, LATE_ASSESSMENT = (str(uuid.uuid4()) for _ in range(4))
CLEAN, DIRTY, TWICE, AGAIN, ORPHAN, GONE, ELSEWHERE = (str(uuid.uuid4()) for _ in range(7))


def _page(items: list[PullItem], cursor: str) -> PullResponse:
    return PullResponse(
        items=items, next_cursor=cursor, has_more=False, server_time=SERVER_TIME, server_epoch="e"
    )


def _case(case_id: str, reference: str, rev: int = 1) -> RecordItem:
    data = {"reference": reference, "family_name": "Far", "lead_worker": "x", "team": "T",
            "status": "open", "opened_on": "2026-11-01", "closed_on": None}  # fmt: skip
    return RecordItem(
        seq=rev, entity="case", id=case_id, case_id=case_id, rev=rev, deleted=False, data=data
    )


def _assessment(assessment_id: str, case_id: str, rev: int = 1) -> RecordItem:
    data = {"case_id": case_id, "title": "Mapping", "status": "draft", "zero_wording": "0",
            "ten_wording": "10", "signed_off_by": "", "signed_off_at": None, "reopened_by": "",
            "reopened_at": None, "reopen_reason": ""}  # fmt: skip
    return RecordItem(
        seq=rev, entity="assessment", id=assessment_id, case_id=case_id, rev=rev,
        deleted=False, data=data,
    )  # fmt: skip


def _entry(
    entry_id: str, text: str, rev: int = 1, *, assessment: str = ASSESSMENT, case: str = CASE,
    deleted: bool = False,
) -> RecordItem:  # fmt: skip
    data = {"assessment_id": assessment, "section": "harm", "text": text, "source": "",
            "agreement": "not_asked", "disputed_by": "", "position": "V", "goal_for_id": None,
            "audience": "undecided"}  # fmt: skip
    return RecordItem(
        seq=rev, entity="entry", id=entry_id, case_id=case, rev=rev, deleted=deleted, data=data
    )


def _state(store: Store) -> dict[str, Any]:
    """Every synced row, shadow and conflict mirror (not the outbox or the device's meta,
    whose ids are the store's own)."""
    tables: list[Any] = [*SYNCED_TABLES, Shadow, LocalConflict]
    with store.read() as session:
        return {
            table.__tablename__: sorted(
                json.dumps(row.model_dump(mode="json"), sort_keys=True)
                for row in session.exec(select(table)).all()
            )
            for table in tables
        }


@pytest.fixture
def stores(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Store, Store]]:
    opened = []
    for name in ("whole", "itemwise"):
        store = open_with_key(
            tmp_path / name / "store.db",
            DataKey.generate(),
            Actor("t.worker", "worker"),
            create=True,
        )
        store.clock = clock
        opened.append(store)
    yield opened[0], opened[1]
    for store in opened:
        store.lock()


def test_a_page_applied_whole_ends_as_its_items_applied_one_by_one(
    stores: tuple[Store, Store],
) -> None:
    first: list[PullItem] = [
        _case(CASE, "C-1"),
        _assessment(ASSESSMENT, CASE),
        *(_entry(i, f"First {i[:4]}.") for i in (CLEAN, DIRTY, GONE)),
        _case(OTHER_CASE, "C-2"),
        _assessment(ELSEWHERE, OTHER_CASE),
    ]
    page: list[PullItem] = [
        _entry(ORPHAN, "Before its assessment.", assessment=LATE_ASSESSMENT),
        _entry(CLEAN, "Their edit.", 2),
        _entry(DIRTY, "Their edit of my draft.", 2),
        _entry(CLEAN, "A stale copy.", 1),
        _entry(TWICE, "New here.", 1),
        _entry(TWICE, "New here, then edited.", 2),  # twice in one run
        ScopeItem(seq=20, op="revoke", case_id=OTHER_CASE),
        _entry(AGAIN, "New in this run.", 1),
        _assessment(LATE_ASSESSMENT, CASE),
        _entry(GONE, "Deleted there.", 2, deleted=True),
        ScopeItem(
            seq=30,
            op="gain",
            case_id=CASE,
            snapshot=[_entry(CLEAN, "Their edit.", 2), _entry(AGAIN, "Edited since.", 2)],
        ),
    ]
    for store in stores:
        sync_local.apply_page(store, _page(first, "1"))
        mapping.save_entry(store, ASSESSMENT, entry_id=DIRTY, text="My unsent draft.")
    whole, itemwise = stores
    sync_local.apply_page(whole, _page(page, "2"))
    for item in page:
        sync_local.apply_page(itemwise, _page([item], "2"))
    assert _state(whole) == _state(itemwise)
    with whole.read() as session:
        texts = {row.id: (row.text, row.deleted) for row in session.exec(select(Entry)).all()}
    assert texts[CLEAN] == ("Their edit.", False)
    assert texts[DIRTY] == ("My unsent draft.", False)
    assert texts[TWICE] == ("New here, then edited.", False)
    assert texts[AGAIN] == ("Edited since.", False)
    assert texts[ORPHAN] == ("Before its assessment.", False)
    assert texts[GONE][1] is True
    revoked = str(_state(whole))  # the revoked case and its assessment are gone
    assert OTHER_CASE not in revoked and ELSEWHERE not in revoked


def test_applying_a_page_of_new_records_twice_changes_nothing(stores: tuple[Store, Store]) -> None:
    store, _ = stores
    items: list[PullItem] = [_case(CASE, "C-1"), _assessment(ASSESSMENT, CASE)]
    items += [_entry(str(uuid.uuid4()), f"Entry {n}.") for n in range(50)]
    first = sync_local.apply_page(store, _page(items, "1"))
    before = _state(store)
    again = sync_local.apply_page(store, _page(items, "1"))
    assert (first.received, again.received) == (52, 0)
    assert _state(store) == before and len(before["entry"]) == 50


SAMPLES: list[Any] = [
    None, "", "plain", "Line\r\none\x1b[0m \u202eevil\ttab", "2026-11-01",
    "2026-11-01T10:00:00+00:00", 0, 7, 2.5, True, False,
]  # fmt: skip


def _outcome(call: Any) -> Any:
    try:
        return ("value", call())
    except (ValueError, TypeError) as exc:
        return ("error", type(exc))


@pytest.mark.parametrize("table", SYNCED_TABLES, ids=lambda t: t.__tablename__)
def test_the_cached_converters_are_to_column(table: Any) -> None:
    converters = column_converters(table)
    names = [name for name in table.model_fields if name not in SYNC_COLUMNS]
    assert sorted(converters) == sorted(names)
    for name in names:
        kind = table.__table__.columns[name].type
        values = list(SAMPLES)
        if isinstance(kind, StrEnumType):
            values += [member.value for member in kind.enum_cls]
        for value in [*values, date(2026, 11, 1)]:
            cached = _outcome(lambda n=name, v=value: converters[n](v))
            plain = _outcome(lambda n=name, v=value: to_column(table, n, v))
            assert cached == plain, (table.__tablename__, name, value)
