"""Conflicts: both versions kept, headers merged per field, deletes never win silently, and a
person's resolution closing them (SYNC.md "conflicts"; F10-F13; R36)."""

from __future__ import annotations

import json

from sqlmodel import select

from sofs_tui.server.db import Conflict, Record
from tests.server.sync_support import (
    Harness,
    Workspace,
    assessment_fields,
    change,
    entry_fields,
    new_id,
)


def _record(harness: Harness, record_id: str) -> tuple[int, bool, dict[str, object]]:
    with harness.session() as session:
        found = session.get(Record, record_id)
        assert found is not None
        return found.rev, found.deleted, json.loads(found.data)


def _conflicts(harness: Harness, record_id: str) -> list[Conflict]:
    with harness.session() as session:
        return list(session.exec(select(Conflict).where(Conflict.record_id == record_id)))


def _entry(harness: Harness, ws: Workspace, text: str = "Dad shouts at night.") -> str:
    entry = new_id()
    result = harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, "create", entry_fields(ws.assessment_id, text))
    )
    assert result.status == "applied"
    return entry


def test_F10_same_entry_edited_on_two_laptops_keeps_both_texts(
    harness: Harness, ws: Workspace
) -> None:
    entry = _entry(harness, ws)
    mine = harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, fields={"text": "Alice's words."}, base_rev=1)
    )
    theirs = harness.push_one(
        ws.bob, change(ws.bob, "entry", entry, fields={"text": "Bob's words."}, base_rev=1)
    )
    assert mine.status == "applied"
    assert (theirs.status, theirs.current_rev) == ("conflict", 2)
    assert _record(harness, entry)[2]["text"] == "Alice's words."  # the current one stays
    [conflict] = _conflicts(harness, entry)
    assert str(conflict.id) == str(theirs.conflict_id)
    assert (conflict.kind, conflict.status, conflict.base_rev) == ("hard", "open", 1)
    assert json.loads(conflict.theirs)["text"] == "Alice's words."
    assert json.loads(conflict.incoming_fields)["text"] == "Bob's words."
    assert conflict.author == ws.bob.principal.username

    harness.as_(ws.manager)
    history = harness.client.get(f"/sync/v1/records/entry/{entry}/history").json()
    texts = [r["data"]["text"] for r in history["revisions"]]
    assert texts == ["Dad shouts at night.", "Alice's words."]
    assert history["conflicts"][0]["incoming"]["text"] == "Bob's words."


def test_F11_two_laptops_appending_entries_never_conflict(harness: Harness, ws: Workspace) -> None:
    a = harness.push_one(
        ws.alice, change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id, "A"))
    )
    b = harness.push_one(
        ws.bob, change(ws.bob, "entry", new_id(), "create", entry_fields(ws.assessment_id, "B"))
    )
    assert (a.status, b.status) == ("applied", "applied")
    assert harness.count(Conflict) == 0


def test_F13_header_fields_changed_apart_merge_with_a_soft_note(
    harness: Harness, ws: Workspace
) -> None:
    title = change(
        ws.alice, "assessment", ws.assessment_id, fields={"title": "Initial"}, base_rev=1
    )
    wording = change(
        ws.bob, "assessment", ws.assessment_id, fields={"zero_wording": "Unsafe"}, base_rev=1
    )
    assert harness.push_one(ws.alice, title).rev == 2
    merged = harness.push_one(ws.bob, wording)
    assert (merged.status, merged.rev) == ("applied", 3)
    rev, _, data = _record(harness, ws.assessment_id)
    assert (rev, data["title"], data["zero_wording"]) == (3, "Initial", "Unsafe")
    [note] = _conflicts(harness, ws.assessment_id)
    assert (note.kind, note.status, note.resolution_change_id) == (
        "soft",
        "resolved",
        wording["change_id"],
    )


def test_F13_header_field_changed_twice_is_a_hard_conflict(harness: Harness, ws: Workspace) -> None:
    first = change(
        ws.alice, "assessment", ws.assessment_id, fields={"title": "Initial"}, base_rev=1
    )
    second = change(
        ws.bob,
        "assessment",
        ws.assessment_id,
        fields={"title": "Review", "ten_wording": "Safe"},
        base_rev=1,
    )
    harness.push_one(ws.alice, first)
    result = harness.push_one(ws.bob, second)
    assert result.status == "conflict"
    _, _, data = _record(harness, ws.assessment_id)
    assert (data["title"], data["ten_wording"]) == ("Initial", "")  # nothing half-applied
    [conflict] = _conflicts(harness, ws.assessment_id)
    assert json.loads(conflict.incoming_fields) == {"title": "Review", "ten_wording": "Safe"}


def test_the_same_header_change_made_twice_is_no_conflict(harness: Harness, ws: Workspace) -> None:
    harness.push_one(
        ws.alice,
        change(ws.alice, "assessment", ws.assessment_id, fields={"title": "X"}, base_rev=1),
    )
    same = harness.push_one(
        ws.bob, change(ws.bob, "assessment", ws.assessment_id, fields={"title": "X"}, base_rev=1)
    )
    assert (same.status, same.rev) == ("applied", 2)
    assert harness.count(Conflict) == 0


def test_F12_delete_after_a_concurrent_edit_is_a_conflict_and_the_entry_stays(
    harness: Harness, ws: Workspace
) -> None:
    entry = _entry(harness, ws)
    harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, fields={"text": "Edited."}, base_rev=1)
    )
    delete = harness.push_one(
        ws.bob, change(ws.bob, "entry", entry, "delete", {"deleted": True}, base_rev=1)
    )
    assert delete.status == "conflict"
    rev, deleted, data = _record(harness, entry)
    assert (rev, deleted, data["text"]) == (2, False, "Edited.")
    [conflict] = _conflicts(harness, entry)
    assert (conflict.incoming_op, json.loads(conflict.incoming_fields)) == (
        "delete",
        {"deleted": True},
    )


def test_F12_edit_after_a_concurrent_delete_is_a_conflict_and_the_entry_comes_back(
    harness: Harness, ws: Workspace
) -> None:
    entry = _entry(harness, ws)
    gone = harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, "delete", {"deleted": True}, base_rev=1)
    )
    assert (gone.status, gone.rev) == ("applied", 2)
    edit = harness.push_one(
        ws.bob, change(ws.bob, "entry", entry, fields={"text": "Still true."}, base_rev=1)
    )
    assert (edit.status, edit.current_rev) == ("conflict", 3)
    rev, deleted, data = _record(harness, entry)
    assert (rev, deleted, data["text"]) == (3, False, "Dad shouts at night.")
    [conflict] = _conflicts(harness, entry)
    assert json.loads(conflict.theirs)["deleted"] is True
    assert json.loads(conflict.incoming_fields)["text"] == "Still true."


def test_a_resolution_closes_the_conflict_as_an_ordinary_change(
    harness: Harness, ws: Workspace
) -> None:
    entry = _entry(harness, ws)
    harness.push_one(ws.alice, change(ws.alice, "entry", entry, fields={"text": "A"}, base_rev=1))
    clash = harness.push_one(
        ws.bob, change(ws.bob, "entry", entry, fields={"text": "B"}, base_rev=1)
    )
    conflict_id = str(clash.conflict_id)
    stale = harness.push_one(
        ws.bob,
        change(
            ws.bob, "entry", entry, fields={"text": "A and B"}, base_rev=1, resolves=(conflict_id,)
        ),
    )
    assert stale.status == "conflict"  # a resolution from an old rev is itself a conflict
    resolution = change(
        ws.bob, "entry", entry, fields={"text": "A and B"}, base_rev=2, resolves=(conflict_id,)
    )
    result = harness.push_one(ws.bob, resolution)
    assert (result.status, result.rev) == ("applied", 3)
    with harness.session() as session:
        closed = session.get(Conflict, conflict_id)
        assert closed is not None
        assert (closed.status, closed.resolved_by, closed.resolution_change_id) == (
            "resolved", ws.bob.principal.username, resolution["change_id"]
        )  # fmt: skip
        assert closed.resolved_at is not None


def test_sign_off_is_refused_while_the_assessment_has_open_conflicts(
    harness: Harness, ws: Workspace
) -> None:
    entry = _entry(harness, ws)
    harness.push_one(ws.alice, change(ws.alice, "entry", entry, fields={"text": "A"}, base_rev=1))
    clash = harness.push_one(
        ws.bob, change(ws.bob, "entry", entry, fields={"text": "B"}, base_rev=1)
    )
    sign = change(ws.alice, "assessment", ws.assessment_id, fields={"status": "final"}, base_rev=1)
    refused = harness.push_one(ws.alice, sign)
    assert (refused.status, refused.reason) == ("rejected", "open_conflicts")
    harness.push_one(
        ws.alice,
        change(
            ws.alice,
            "entry",
            entry,
            fields={"text": "A"},
            base_rev=2,
            resolves=(str(clash.conflict_id),),
        ),
    )
    again = change(ws.alice, "assessment", ws.assessment_id, fields={"status": "final"}, base_rev=1)
    assert harness.push_one(ws.alice, again).status == "applied"


def test_conflict_list_shows_open_conflicts_in_scope_only(harness: Harness, ws: Workspace) -> None:
    entry = _entry(harness, ws)
    harness.push_one(ws.alice, change(ws.alice, "entry", entry, fields={"text": "A"}, base_rev=1))
    clash = harness.push_one(
        ws.bob, change(ws.bob, "entry", entry, fields={"text": "B"}, base_rev=1)
    )
    harness.as_(ws.manager)
    listed = harness.client.get("/sync/v1/conflicts", params={"status": "open"}).json()["items"]
    assert [(i["conflict_id"], i["incoming"]["text"]) for i in listed] == [
        (str(clash.conflict_id), "B")
    ]

    other_team = harness.team()
    outsider = harness.actor(other_team, "manager", manages=(other_team,))
    harness.as_(outsider)
    assert harness.client.get("/sync/v1/conflicts").json()["items"] == []
    assert harness.client.get(f"/sync/v1/records/entry/{entry}/history").status_code == 404


def test_new_assessment_fields_written_on_two_laptops_conflict_as_a_create(
    harness: Harness, ws: Workspace
) -> None:
    assessment = new_id()
    first = harness.push_one(
        ws.alice,
        change(
            ws.alice, "assessment", assessment, "create", assessment_fields(ws.case_id, title="A")
        ),
    )
    second = harness.push_one(
        ws.bob,
        change(
            ws.bob, "assessment", assessment, "create", assessment_fields(ws.case_id, title="B")
        ),
    )
    assert (first.status, second.status) == ("applied", "conflict")
