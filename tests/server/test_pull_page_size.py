"""How big a pull page is: a thousand records in one answer by default, never more items than
the client asked for, and never past the byte bound; a page cut short by either bound loses
and repeats nothing (SYNC.md "pull"; invariants 7 and 8; protocol Limits.max_page)."""

from __future__ import annotations

from typing import Any

import pytest

from sofs_tui.server import pull
from sofs_tui.server.db import CaseScope
from sofs_tui.sync.protocol import DEFAULT_PAGE, MAX_PAGE, ConflictItem, RecordItem, ScopeItem
from tests.server.sync_support import (
    Actor,
    Harness,
    Workspace,
    case_fields,
    change,
    entry_fields,
    new_id,
)


def _entries(harness: Harness, ws: Workspace, count: int, text: str = "Entry") -> list[str]:
    ids = [new_id() for _ in range(count)]
    for start in range(0, count, 100):
        sent = [
            change(ws.alice, "entry", i, "create", entry_fields(ws.assessment_id, f"{text} {n}."))
            for n, i in enumerate(ids[start : start + 100], start)
        ]
        assert {r.status for r in harness.push(ws.alice, *sent).results} == {"applied"}
    return ids


def _record_ids(items: list[Any]) -> list[str]:
    return [i.id for i in items if isinstance(i, RecordItem)]


def test_a_thousand_records_come_in_one_page_at_the_default_size(
    harness: Harness, ws: Workspace
) -> None:
    assert DEFAULT_PAGE == MAX_PAGE == 1000
    assert harness.client.get("/sync/v1/info").json()["limits"]["max_page"] == MAX_PAGE
    _, cursor = harness.pull_all(ws.bob)
    ids = _entries(harness, ws, 1000)
    page = harness.pull(ws.bob, cursor)  # no `limit`: the service's default
    assert sorted(_record_ids(page.items)) == sorted(ids)
    assert not page.has_more
    snapshot = harness.pull(ws.bob)  # a first sync: the snapshot, a thousand a page too
    rest = harness.pull(ws.bob, snapshot.next_cursor)
    assert (len(snapshot.items), snapshot.has_more, len(rest.items)) == (1000, True, 1)
    assert sorted(_record_ids([*snapshot.items, *rest.items])) == sorted([ws.assessment_id, *ids])


def test_a_client_asking_for_a_smaller_page_gets_pages_of_that_size(
    harness: Harness, ws: Workspace
) -> None:
    _, cursor = harness.pull_all(ws.bob)
    ids = _entries(harness, ws, 7)
    sizes, seen = [], []
    while True:
        page = harness.pull(ws.bob, cursor, limit=3)
        sizes.append(len(page.items))
        seen += _record_ids(page.items)
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert sizes == [3, 3, 1] and seen == ids


@pytest.mark.parametrize("from_snapshot", [False, True], ids=["after a cursor", "snapshot"])
def test_a_page_stops_at_the_byte_bound_and_the_next_goes_on_without_gaps(
    harness: Harness, ws: Workspace, monkeypatch: pytest.MonkeyPatch, from_snapshot: bool
) -> None:
    _, cursor = harness.pull_all(ws.bob)
    ids = _entries(harness, ws, 9, text="x" * 400)
    monkeypatch.setattr(pull, "PAGE_BYTES", 2_000)  # about four entries' text
    start = None if from_snapshot else cursor
    sizes, seen = [], []
    while True:
        page = harness.pull(ws.bob, start, limit=MAX_PAGE)
        sizes.append(len(page.items))
        seen += _record_ids(page.items)
        start = page.next_cursor
        if not page.has_more:
            break
    expected = sorted([ws.assessment_id, *ids]) if from_snapshot else ids
    assert (sorted(seen) if from_snapshot else seen) == expected  # each once, in order
    assert len(sizes) > 2 and max(sizes) <= 4


def test_a_gain_with_its_conflicts_waits_for_the_next_page_rather_than_overfill_one(
    harness: Harness, ws: Workspace
) -> None:
    """A page's items never outnumber the client's `limit` once it holds anything: an older
    app validates pages against its own maximum. (A gain alone on a page is still sent whole:
    a page always moves on.)"""
    [entry] = _entries(harness, ws, 1)
    harness.push_one(ws.alice, change(ws.alice, "entry", entry, fields={"text": "A"}, base_rev=1))
    clash = harness.push_one(
        ws.bob, change(ws.bob, "entry", entry, fields={"text": "B"}, base_rev=1)
    )
    assert clash.status == "conflict"
    other_team = harness.team()
    carol = harness.actor(other_team)
    _, cursor = harness.pull_all(carol)
    # Carol creates a case (its record, then her gain of it), then gets Alice's case with its
    # open conflict: three log rows, four items.
    harness.push_one(carol, change(carol, "case", new_id(), "create", case_fields()))
    _move_case(harness, ws.case_id, other_team, carol)

    first = harness.pull(carol, cursor, limit=3)
    assert [i.type for i in first.items] == ["record", "scope"] and first.has_more
    rest = harness.pull(carol, first.next_cursor, limit=3)
    [gain, conflict] = rest.items
    assert isinstance(gain, ScopeItem) and (gain.op, gain.case_id) == ("gain", ws.case_id)
    assert isinstance(conflict, ConflictItem) and conflict.conflict_id == clash.conflict_id
    assert not rest.has_more


def _move_case(harness: Harness, case_id: str, team_id: str, lead: Actor) -> None:
    """What `sofs admin case reassign` does: move the case, then tell the stream who changed."""
    with harness.session() as session:
        scope = session.get(CaseScope, case_id)
        assert scope is not None
        before = pull.principals_for(session, scope.team_id, scope.lead_user_id)
        scope.team_id, scope.lead_user_id = team_id, lead.user_id
        session.add(scope)
        session.flush()
        after = pull.principals_for(session, scope.team_id, scope.lead_user_id)
        pull.record_scope_change(session, case_id, before, after)
        session.commit()
