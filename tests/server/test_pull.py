"""GET /sync/v1/changes: snapshots, cursor pages, scope events and what each caller may see
(SYNC.md "pull", "scope"; invariants 7, 8, 10; F19, F21; R37)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from sofs_tui.server import pull
from sofs_tui.server.db import CaseScope
from sofs_tui.server.migrate import rotate_epoch
from sofs_tui.sync.protocol import ConflictItem, OutcomeItem, RecordItem, ScopeItem
from tests.server.sync_support import (
    Actor,
    Harness,
    Workspace,
    change,
    entry_fields,
    new_id,
    workspace,
)


def _entries(harness: Harness, ws: Workspace, count: int, who: Actor | None = None) -> list[str]:
    actor = who or ws.alice
    ids = [new_id() for _ in range(count)]
    sent = [
        change(actor, "entry", i, "create", entry_fields(ws.assessment_id, f"Entry {n}."))
        for n, i in enumerate(ids)
    ]
    assert {r.status for r in harness.push(actor, *sent).results} == {"applied"}
    return ids


def _records(items: list[Any]) -> dict[str, RecordItem]:
    return {i.id: i for i in items if isinstance(i, RecordItem)}


def _reassign(harness: Harness, case_id: str, team_id: str, lead: Actor | None) -> list[int]:
    """What `sofs admin case reassign` does: move the case, then tell the stream who changed."""
    with harness.session() as session:
        scope = session.get(CaseScope, case_id)
        assert scope is not None
        before = pull.principals_for(session, scope.team_id, scope.lead_user_id)
        scope.team_id, scope.lead_user_id = team_id, lead.user_id if lead else None
        session.add(scope)
        session.flush()
        after = pull.principals_for(session, scope.team_id, scope.lead_user_id)
        seqs = pull.record_scope_change(session, case_id, before, after)
        session.commit()
    return seqs


def test_snapshot_then_only_what_changed_after_the_cursor(harness: Harness, ws: Workspace) -> None:
    first = _entries(harness, ws, 2)
    items, cursor = harness.pull_all(ws.bob)
    assert set(_records(items)) == {ws.assessment_id, *first}
    assert _records(items)[first[0]].data["text"] == "Entry 0."

    [later] = _entries(harness, ws, 1)
    page = harness.pull(ws.bob, cursor)
    assert [(i.type, getattr(i, "id", None)) for i in page.items] == [("record", later)]
    assert not page.has_more
    assert harness.pull(ws.bob, page.next_cursor).items == []


def test_cursor_pages_follow_seq_order_without_gaps_or_repeats(
    harness: Harness, ws: Workspace
) -> None:
    _, cursor = harness.pull_all(ws.bob)
    ids = _entries(harness, ws, 7)
    seen: list[RecordItem] = []
    pages = []
    while True:
        page = harness.pull(ws.bob, cursor, limit=3)
        pages.append(len(page.items))
        seen += _records(page.items).values()
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert pages == [3, 3, 1]
    assert [i.id for i in seen] == ids
    assert [i.seq for i in seen] == sorted({i.seq for i in seen})


def test_I8_the_same_page_fetched_twice_is_the_same_page(harness: Harness, ws: Workspace) -> None:
    _, cursor = harness.pull_all(ws.bob)
    _entries(harness, ws, 4)
    first = harness.pull(ws.bob, cursor, limit=2)
    again = harness.pull(ws.bob, cursor, limit=2)
    assert first.items == again.items and first.next_cursor == again.next_cursor


def test_page_size_is_capped(
    harness: Harness, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, cursor = harness.pull_all(ws.bob)
    _entries(harness, ws, 5)
    monkeypatch.setattr(pull, "MAX_PAGE", 3)
    page = harness.pull(ws.bob, cursor, limit=100_000)
    assert (len(page.items), page.has_more) == (3, True)


def test_a_record_changed_twice_in_one_page_comes_once_in_its_newest_state(
    harness: Harness, ws: Workspace
) -> None:
    _, cursor = harness.pull_all(ws.bob)
    [entry] = _entries(harness, ws, 1)
    harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, fields={"text": "Again."}, base_rev=1)
    )
    items = harness.pull(ws.bob, cursor).items
    assert [(i.id, i.rev, i.data["text"]) for i in _records(items).values()] == [
        (entry, 2, "Again.")
    ]
    assert len(items) == 1


def test_snapshot_is_paged_by_id_then_follows_the_log(harness: Harness, ws: Workspace) -> None:
    ids = _entries(harness, ws, 5)
    items, cursor = harness.pull_all(ws.bob, limit=2)
    assert sorted(_records(items)) == sorted([ws.assessment_id, *ids])
    assert len(items) == 6
    [later] = _entries(harness, ws, 1)
    assert list(_records(harness.pull(ws.bob, cursor).items)) == [later]


def test_records_of_another_team_never_appear(harness: Harness, ws: Workspace) -> None:
    other = workspace(harness)
    entry = new_id()
    harness.push_one(
        other.alice,
        change(other.alice, "entry", entry, "create", entry_fields(other.assessment_id)),
    )
    harness.push_one(
        other.alice, change(other.alice, "entry", entry, fields={"text": "A"}, base_rev=1)
    )
    harness.push_one(other.bob, change(other.bob, "entry", entry, fields={"text": "B"}, base_rev=1))
    items, _ = harness.pull_all(ws.bob)
    log_items, _ = harness.pull_all(ws.bob, pull.Cursor(_epoch(harness), 0).encode())
    for item in items + log_items:
        assert getattr(item, "case_id", ws.case_id) == ws.case_id
    assert not [i for i in items + log_items if isinstance(i, ConflictItem)]


def _epoch(harness: Harness) -> str:
    body: str = harness.client.get("/sync/v1/info").json()["server_epoch"]
    return body


def test_F19_gain_brings_a_snapshot_with_records_older_than_the_cursor(
    harness: Harness, ws: Workspace
) -> None:
    entries = _entries(harness, ws, 2)
    harness.push_one(
        ws.alice, change(ws.alice, "entry", entries[0], fields={"text": "A"}, base_rev=1)
    )
    clash = harness.push_one(
        ws.bob, change(ws.bob, "entry", entries[0], fields={"text": "B"}, base_rev=1)
    )
    other_team = harness.team()
    carol = harness.actor(other_team)
    before, carol_cursor = harness.pull_all(carol)
    assert before == []
    _, alice_cursor = harness.pull_all(ws.alice)

    _reassign(harness, ws.case_id, other_team, carol)

    items, carol_cursor = harness.pull_all(carol, carol_cursor)
    [gain] = [i for i in items if isinstance(i, ScopeItem)]
    assert (gain.op, gain.case_id) == ("gain", ws.case_id)
    snapshot = {r.id: r for r in gain.snapshot}
    assert set(snapshot) == {ws.assessment_id, *entries}
    assert snapshot[entries[0]].open_conflicts == [clash.conflict_id]
    assert [i.conflict_id for i in items if isinstance(i, ConflictItem)] == [clash.conflict_id]

    revoked, _ = harness.pull_all(ws.alice, alice_cursor)
    assert [(i.type, i.op, i.case_id) for i in revoked if isinstance(i, ScopeItem)] == [
        ("scope", "revoke", ws.case_id)
    ]
    _entries(harness, ws, 1, who=carol)
    after, _ = harness.pull_all(ws.alice, alice_cursor)
    assert not _records(after)  # out of scope: nothing of that case any more


def test_two_cases_gained_in_one_page_come_as_two_gains(harness: Harness, ws: Workspace) -> None:
    second = workspace(harness)
    other_team = harness.team()
    carol = harness.actor(other_team)
    _, cursor = harness.pull_all(carol)
    _reassign(harness, ws.case_id, other_team, carol)
    _reassign(harness, second.case_id, other_team, None)
    items = harness.pull(carol, cursor).items
    gains = [
        (i.op, i.case_id, [r.id for r in i.snapshot]) for i in items if isinstance(i, ScopeItem)
    ]
    assert gains == [
        ("gain", ws.case_id, [ws.assessment_id]),
        ("gain", second.case_id, [second.assessment_id]),
    ]


def test_new_case_created_offline_gives_its_creator_a_gain(harness: Harness, ws: Workspace) -> None:
    _, cursor = harness.pull_all(ws.bob)
    case_id = new_id()
    from tests.server.sync_support import case_fields

    harness.push_one(ws.bob, change(ws.bob, "case", case_id, "create", case_fields()))
    items = harness.pull(ws.bob, cursor).items
    assert [(i.type, getattr(i, "op", None)) for i in items] == [
        ("record", None),
        ("scope", "gain"),
    ]
    gain = items[1]
    assert isinstance(gain, ScopeItem) and [r.id for r in gain.snapshot] == [case_id]
    alice_items = harness.pull(ws.alice, cursor).items
    assert [i.type for i in alice_items] == ["record"]  # her team's case, not her gain


def test_outcome_of_a_held_change_reaches_its_author_only(harness: Harness, ws: Workspace) -> None:
    _, cursor = harness.pull_all(ws.alice)
    first_id, second_id = new_id(), new_id()
    missing = change(ws.alice, "entry", first_id, "create", entry_fields(ws.assessment_id))
    after = change(ws.alice, "entry", second_id, "create", entry_fields(ws.assessment_id))
    assert harness.push_one(ws.alice, after).status == "held"
    harness.push(ws.alice, missing)
    items, _ = harness.pull_all(ws.alice, cursor)
    outcomes = [i for i in items if isinstance(i, OutcomeItem)]
    assert [(str(o.change_id), o.status, o.rev) for o in outcomes] == [
        (after["change_id"], "applied", 1)
    ]
    bob_items, _ = harness.pull_all(ws.bob, cursor)
    assert not [i for i in bob_items if isinstance(i, OutcomeItem)]


def test_conflicts_travel_in_the_stream_until_resolved(harness: Harness, ws: Workspace) -> None:
    [entry] = _entries(harness, ws, 1)
    _, cursor = harness.pull_all(ws.alice)
    harness.push_one(ws.alice, change(ws.alice, "entry", entry, fields={"text": "A"}, base_rev=1))
    clash = harness.push_one(
        ws.bob, change(ws.bob, "entry", entry, fields={"text": "B"}, base_rev=1)
    )
    items, cursor = harness.pull_all(ws.alice, cursor)
    [conflict] = [i for i in items if isinstance(i, ConflictItem)]
    assert (conflict.status, conflict.theirs["text"], conflict.incoming["text"]) == (
        "open",
        "A",
        "B",
    )
    assert _records(items)[entry].open_conflicts == [clash.conflict_id]
    harness.push_one(
        ws.alice,
        change(
            ws.alice,
            "entry",
            entry,
            fields={"text": "A, B"},
            base_rev=2,
            resolves=(str(clash.conflict_id),),
        ),
    )
    items, _ = harness.pull_all(ws.alice, cursor)
    assert [i.status for i in items if isinstance(i, ConflictItem)] == ["resolved"]
    assert _records(items)[entry].open_conflicts == []


def test_F21_cursor_from_another_epoch_answers_410(harness: Harness, ws: Workspace) -> None:
    _, cursor = harness.pull_all(ws.bob)
    rotate_epoch(harness.engine)
    harness.as_(ws.bob)
    response = harness.client.get("/sync/v1/changes", params={"cursor": cursor})
    assert (response.status_code, response.json()) == (410, {"detail": "resync_required"})
    assert harness.pull(ws.bob).items  # a fresh snapshot works


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        base64.urlsafe_b64encode(b'{"epoch": 1}').decode().rstrip("="),
        "SEQ_FROM_THE_FUTURE",
    ],
)
def test_unusable_cursor_answers_410(harness: Harness, ws: Workspace, cursor: str) -> None:
    if cursor == "SEQ_FROM_THE_FUTURE":
        cursor = pull.Cursor(_epoch(harness), 10_000).encode()
    harness.as_(ws.bob)
    assert harness.client.get("/sync/v1/changes", params={"cursor": cursor}).status_code == 410


def test_app_of_an_older_schema_gets_fields_it_knows(harness: Harness, ws: Workspace) -> None:
    [entry] = _entries(harness, ws, 1)
    harness.as_(ws.bob)
    old = harness.client.get("/sync/v1/changes", headers={"Client-Schema": "1"}).json()
    [item] = [i for i in old["items"] if i["id"] == entry]
    assert "audience" not in item["data"] and item["data"]["text"] == "Entry 0."
    too_old = harness.client.get("/sync/v1/changes", headers={"Client-Schema": "0"})
    assert too_old.status_code == 426


def test_cursor_is_opaque_base64_of_epoch_and_seq(harness: Harness, ws: Workspace) -> None:
    _, cursor = harness.pull_all(ws.bob)
    body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert body == {"epoch": _epoch(harness), "seq": body["seq"]} and body["seq"] > 0
