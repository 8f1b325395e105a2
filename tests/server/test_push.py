"""POST /sync/v1/push: storing, applying, replaying and refusing changes (SYNC.md "push").

Every test runs on SQLite and on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from sofs_tui.server import failpoints
from sofs_tui.server.db import ReceivedChange, Record, RecordRevision
from sofs_tui.sync.protocol import MAX_PAGE, PushResponse
from tests.server.sync_support import (
    NOW,
    Harness,
    Workspace,
    case_fields,
    change,
    entry_fields,
    new_id,
    person_fields,
)


def _record(harness: Harness, record_id: str) -> Record:
    with harness.session() as session:
        found = session.get(Record, record_id)
        assert found is not None
        return found


def _data(harness: Harness, record_id: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(_record(harness, record_id).data)
    return data


def test_create_applies_rev_1_and_keeps_the_received_change(
    harness: Harness, ws: Workspace
) -> None:
    entry = new_id()
    sent = change(ws.alice, "entry", entry, "create", entry_fields(ws.assessment_id))
    result = harness.push_one(ws.alice, sent)
    assert (result.status, result.rev, result.replayed) == ("applied", 1, False)
    assert result.seq is not None and result.seq > 0
    assert _data(harness, entry)["text"] == "Dad shouts at night."
    with harness.session() as session:
        stored = session.get(ReceivedChange, sent["change_id"])
        assert stored is not None
        assert stored.status == "applied" and stored.case_id == ws.case_id
        assert json.loads(stored.payload)["fields"]["text"] == "Dad shouts at night."


def test_update_from_the_current_rev_applies_the_next_rev(harness: Harness, ws: Workspace) -> None:
    entry = new_id()
    harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, "create", entry_fields(ws.assessment_id))
    )
    result = harness.push_one(
        ws.alice,
        change(ws.alice, "entry", entry, fields={"text": "Dad shouted twice."}, base_rev=1),
    )
    assert (result.status, result.rev) == ("applied", 2)
    assert _data(harness, entry)["text"] == "Dad shouted twice."
    assert _data(harness, entry)["section"] == "harm"  # untouched fields stay
    assert harness.count(RecordRevision, record_id=entry) == 2


def test_replayed_change_answers_the_stored_result_and_applies_once(
    harness: Harness, ws: Workspace
) -> None:
    entry = new_id()
    sent = change(ws.alice, "entry", entry, "create", entry_fields(ws.assessment_id))
    first = harness.push_one(ws.alice, sent)
    again = harness.push_one(ws.alice, sent)
    third = harness.push(ws.alice, sent, sent).results
    assert again.replayed and all(r.replayed for r in third)
    assert {(r.status, r.rev, r.seq) for r in (first, again, *third)} == {("applied", 1, first.seq)}
    assert harness.count(RecordRevision, record_id=entry) == 1
    assert harness.count(ReceivedChange, record_id=entry) == 1


def test_same_change_id_with_other_content_is_refused_and_the_first_kept(
    harness: Harness, ws: Workspace
) -> None:
    entry = new_id()
    sent = change(ws.alice, "entry", entry, "create", entry_fields(ws.assessment_id))
    harness.push_one(ws.alice, sent)
    forged = {**sent, "fields": entry_fields(ws.assessment_id, "Something else entirely.")}
    result = harness.push_one(ws.alice, forged)
    assert (result.status, result.reason) == ("rejected", "idempotency_mismatch")
    assert _data(harness, entry)["text"] == "Dad shouts at night."
    with harness.session() as session:
        stored = session.get(ReceivedChange, sent["change_id"])
        assert stored is not None and "Something else" not in stored.payload


def test_device_seq_gap_is_held_until_the_missing_change_arrives(
    harness: Harness, ws: Workspace
) -> None:
    first_id, second_id = new_id(), new_id()
    missing = change(ws.alice, "entry", first_id, "create", entry_fields(ws.assessment_id, "One."))
    after = change(ws.alice, "entry", second_id, "create", entry_fields(ws.assessment_id, "Two."))
    held = harness.push(ws.alice, after)
    assert (held.results[0].status, held.results[0].reason) == ("held", "gap")
    assert held.last_device_seq == missing["device_seq"] - 1
    assert harness.count(Record, id=second_id) == 0

    filled = harness.push(ws.alice, missing)
    assert filled.results[0].status == "applied"
    assert filled.last_device_seq == after["device_seq"]
    assert _data(harness, second_id)["text"] == "Two."  # the held one applied in order
    replay = harness.push_one(ws.alice, after)
    assert (replay.status, replay.replayed) == ("applied", True)


def test_reused_device_seq_with_a_new_change_id_is_refused(harness: Harness, ws: Workspace) -> None:
    first = change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id))
    harness.push_one(ws.alice, first)
    reuse = change(
        ws.alice,
        "entry",
        new_id(),
        "create",
        entry_fields(ws.assessment_id),
        seq=first["device_seq"],
    )
    result = harness.push_one(ws.alice, reuse)
    assert (result.status, result.reason) == ("rejected", "seq_reused")
    assert harness.count(Record, id=reuse["id"]) == 0
    assert harness.count(ReceivedChange, change_id=reuse["change_id"]) == 1  # kept all the same


def test_control_characters_are_rejected_as_invalid(harness: Harness, ws: Workspace) -> None:
    entry = new_id()
    bad = entry_fields(ws.assessment_id, "Mum said \x1b[31mno\x1b[0m.")
    result = harness.push_one(ws.alice, change(ws.alice, "entry", entry, "create", bad))
    assert (result.status, result.reason) == ("rejected", "invalid")
    assert harness.count(Record, id=entry) == 0
    assert harness.count(ReceivedChange, record_id=entry) == 1


def test_malformed_batch_answers_422_without_echoing_what_was_sent(
    harness: Harness, ws: Workspace
) -> None:
    secret = "Mum disclosed the address 12 Secret Lane"
    sent = change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id))
    sent["fields"]["text"] = [secret]  # not a scalar
    sent["op"] = secret  # not an op
    response = harness.push_raw(ws.alice, [sent])
    assert response.status_code == 422
    assert "Secret Lane" not in response.text
    assert harness.count(ReceivedChange, device_id=ws.alice.device_id) == 1  # the assessment only


def test_schema_1_entry_create_is_upcast_with_an_undecided_audience(
    harness: Harness, ws: Workspace
) -> None:
    entry = new_id()
    fields = entry_fields(ws.assessment_id)
    del fields["audience"]  # written by an app from before entries had an audience
    result = harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, "create", fields), schema=1
    )
    assert result.status == "applied"
    assert _data(harness, entry)["audience"] == "undecided"


def test_schema_below_the_minimum_is_held_with_its_payload(harness: Harness, ws: Workspace) -> None:
    entry = new_id()
    sent = change(ws.alice, "entry", entry, "create", entry_fields(ws.assessment_id))
    result = harness.push_one(ws.alice, sent, schema=0)
    assert (result.status, result.reason) == ("held", "schema")
    with harness.session() as session:
        stored = session.get(ReceivedChange, sent["change_id"])
        assert stored is not None and "Dad shouts" in stored.payload


def manager_reopens(harness: Harness, ws: Workspace) -> None:
    """The manager reopens the workspace's assessment, signed off at rev 2."""
    reopen = change(
        ws.manager, "assessment", ws.assessment_id, fields={"status": "draft"}, base_rev=2
    )
    assert harness.push_one(ws.manager, reopen).status == "applied"


def test_signed_off_assessment_refuses_changes_until_a_manager_reopens_it(
    harness: Harness, ws: Workspace
) -> None:
    entry = new_id()
    harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, "create", entry_fields(ws.assessment_id))
    )
    sign = change(ws.alice, "assessment", ws.assessment_id, fields={"status": "final"}, base_rev=1)
    assert harness.push_one(ws.alice, sign).status == "applied"

    edit = change(ws.alice, "entry", entry, fields={"text": "Later thoughts."}, base_rev=1)
    late = change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id, "New."))
    worker_reopen = change(
        ws.alice, "assessment", ws.assessment_id, fields={"status": "draft"}, base_rev=2
    )
    results = harness.push(ws.alice, edit, late, worker_reopen).results
    assert [(r.status, r.reason) for r in results] == [("rejected", "record_locked")] * 3
    assert _data(harness, entry)["text"] == "Dad shouts at night."

    manager_reopens(harness, ws)
    again = change(ws.alice, "entry", entry, fields={"text": "Later thoughts."}, base_rev=1)
    assert harness.push_one(ws.alice, again).status == "applied"


def voice_fields(case_id: str, recorded_on: str, **extra: object) -> dict[str, object]:
    return {
        "case_id": case_id, "child_id": new_id(), "tool": "three_houses", "part": "worries",
        "text": "Dad shouts at night.", "written_by": "Sam", "recorded_on": recorded_on,
        "consent_to_share": False, "consent_note": "", "deleted": False,
    } | extra  # fmt: skip


def test_the_childs_words_a_signed_off_mapping_holds_stay_as_signed_off_until_reopened(
    harness: Harness, ws: Workspace
) -> None:
    """A device that had not heard of the sign-off cannot change or delete the child's words
    it holds (the app refuses the same locally); consent may still change, and words first
    stored after the sign-off, even the same day, stay editable."""
    held = new_id()
    day = NOW.date().isoformat()
    harness.push_one(
        ws.alice, change(ws.alice, "child_voice", held, "create", voice_fields(ws.case_id, day))
    )
    signed_at = NOW + timedelta(hours=1)
    sign = change(
        ws.alice,
        "assessment",
        ws.assessment_id,
        fields={"status": "final", "signed_off_at": signed_at.isoformat()},
        base_rev=1,
    )
    assert harness.push_one(ws.alice, sign).status == "applied"
    later = new_id()
    made_later = change(ws.alice, "child_voice", later, "create", voice_fields(ws.case_id, day))
    made_later["client_time"] = (signed_at + timedelta(hours=1)).isoformat()
    assert harness.push_one(ws.alice, made_later).status == "applied"

    edit = change(ws.bob, "child_voice", held, fields={"text": "Dad is kind."}, base_rev=1)
    delete = change(ws.bob, "child_voice", held, "delete", {"deleted": True}, base_rev=1)
    results = harness.push(ws.bob, edit, delete).results
    assert [(r.status, r.reason) for r in results] == [("rejected", "record_locked")] * 2
    assert _data(harness, held)["text"] == "Dad shouts at night."

    consent = change(ws.bob, "child_voice", held, fields={"consent_to_share": True}, base_rev=1)
    newer = change(ws.bob, "child_voice", later, fields={"text": "Mum helps."}, base_rev=1)
    assert [r.status for r in harness.push(ws.bob, consent, newer).results] == ["applied"] * 2
    assert _data(harness, held)["consent_to_share"] is True
    assert _data(harness, later)["text"] == "Mum helps."

    manager_reopens(harness, ws)
    again = change(ws.bob, "child_voice", held, fields={"text": "Dad is kind."}, base_rev=2)
    assert harness.push_one(ws.bob, again).status == "applied"


def test_F18_change_to_a_case_out_of_scope_is_stored_not_applied_and_shown_to_the_manager(
    harness: Harness, ws: Workspace
) -> None:
    other_team = harness.team()
    stranger = harness.actor(other_team)
    entry = new_id()
    sent = change(
        stranger, "entry", entry, "create", entry_fields(ws.assessment_id, "Offline note.")
    )
    result = harness.push_one(stranger, sent)
    assert (result.status, result.reason) == ("rejected", "out_of_scope")
    assert harness.count(Record, id=entry) == 0

    harness.as_(ws.manager)
    queue = harness.client.get("/sync/v1/held").json()["items"]
    assert [(i["change_id"], i["case_id"], i["reason"]) for i in queue] == [
        (sent["change_id"], ws.case_id, "out_of_scope")
    ]
    assert queue[0]["fields"]["text"] == "Offline note."
    assert queue[0]["author"] == stranger.principal.username

    harness.as_(ws.alice)
    assert harness.client.get("/sync/v1/held").status_code == 403
    other_manager = harness.actor(other_team, "manager", manages=(other_team,))
    harness.as_(other_manager)
    assert harness.client.get("/sync/v1/held").json()["items"] == []


def test_case_created_offline_belongs_to_the_creators_team(harness: Harness, ws: Workspace) -> None:
    case_id = new_id()
    result = harness.push_one(ws.bob, change(ws.bob, "case", case_id, "create", case_fields()))
    assert result.status == "applied"
    person = new_id()
    result = harness.push_one(
        ws.alice, change(ws.alice, "person", person, "create", person_fields(case_id))
    )
    assert result.status == "applied"  # Alice is in Bob's team
    stranger = harness.actor(harness.team())
    taken = harness.push_one(
        stranger, change(stranger, "case", case_id, "create", case_fields(family_name="Mine"))
    )
    assert (taken.status, taken.reason) == ("rejected", "out_of_scope")  # no takeover by id


def test_update_to_a_record_nobody_created_is_refused(harness: Harness, ws: Workspace) -> None:
    result = harness.push_one(
        ws.alice, change(ws.alice, "entry", new_id(), fields={"text": "?"}, base_rev=3)
    )
    assert (result.status, result.reason) == ("rejected", "unknown_record")


def test_a_record_cannot_be_moved_to_another_case(harness: Harness, ws: Workspace) -> None:
    other = harness.case(ws.team_id, lead=ws.alice)
    person = new_id()
    harness.push_one(
        ws.alice, change(ws.alice, "person", person, "create", person_fields(ws.case_id))
    )
    moved = harness.push_one(
        ws.alice, change(ws.alice, "person", person, fields={"case_id": other}, base_rev=1)
    )
    assert (moved.status, moved.reason) == ("rejected", "invalid")


def test_F25_poison_change_is_held_while_the_rest_of_the_batch_applies(
    harness: Harness, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    poisoned, healthy = new_id(), new_id()

    def explode(change_id: str, record_id: str) -> None:
        if record_id == poisoned:
            raise RuntimeError("poison")

    monkeypatch.setitem(failpoints.FAILPOINTS, "push.decide", explode)
    create_poison = change(ws.alice, "entry", poisoned, "create", entry_fields(ws.assessment_id))
    create_healthy = change(ws.alice, "entry", healthy, "create", entry_fields(ws.assessment_id))
    edit_poison = change(ws.alice, "entry", poisoned, fields={"text": "More."}, base_rev=1)
    results = harness.push(ws.alice, create_poison, create_healthy, edit_poison).results
    assert [(r.status, r.reason) for r in results] == [
        ("held", "processing"), ("applied", None), ("held", "dependency")
    ]  # fmt: skip
    assert harness.count(Record, id=poisoned) == 0

    monkeypatch.delitem(failpoints.FAILPOINTS, "push.decide")
    later = change(ws.alice, "entry", healthy, fields={"text": "Fine."}, base_rev=1)
    harness.push(ws.alice, later)  # any push retries the device's held changes
    assert _data(harness, poisoned)["text"] == "More."
    replay = harness.push(ws.alice, create_poison, edit_poison).results
    assert [(r.status, r.rev) for r in replay] == [("applied", 1), ("applied", 2)]


def test_database_refusing_one_change_holds_only_that_change(
    harness: Harness, ws: Workspace
) -> None:
    poisoned, healthy = new_id(), new_id()
    with harness.engine.begin() as connection:  # a revision row in the way of the create
        connection.execute(
            text(
                "INSERT INTO record_revision (record_id, rev, entity, data, deleted, author,"
                " received_at, kind) VALUES (:id, 1, 'entry', '{}', false, '', :at, 'create')"
            ),
            {"id": poisoned, "at": "2025-01-01T00:00:00.000000+00:00"},
        )
    results = harness.push(
        ws.alice,
        change(ws.alice, "entry", healthy, "create", entry_fields(ws.assessment_id)),
        change(ws.alice, "entry", poisoned, "create", entry_fields(ws.assessment_id)),
    ).results
    assert [(r.status, r.reason) for r in results] == [("applied", None), ("held", "processing")]
    assert harness.count(Record, id=healthy) == 1 and harness.count(Record, id=poisoned) == 0


def test_F14_chain_of_offline_edits_follows_base_change_id(harness: Harness, ws: Workspace) -> None:
    entry = new_id()
    create = change(ws.alice, "entry", entry, "create", entry_fields(ws.assessment_id, "v1"))
    second = change(
        ws.alice, "entry", entry, fields={"text": "v2"}, base_change_id=create["change_id"]
    )
    harness.push(ws.alice, create)
    third = change(
        ws.alice, "entry", entry, fields={"text": "v3"}, base_change_id=second["change_id"]
    )
    results = harness.push(ws.alice, second, third).results
    assert [(r.status, r.rev) for r in results] == [("applied", 2), ("applied", 3)]
    assert _data(harness, entry)["text"] == "v3"


def test_change_after_a_conflicted_one_waits_as_a_dependency(
    harness: Harness, ws: Workspace
) -> None:
    entry = new_id()
    harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, "create", entry_fields(ws.assessment_id))
    )
    harness.push_one(ws.alice, change(ws.alice, "entry", entry, fields={"text": "A"}, base_rev=1))
    clash = change(ws.bob, "entry", entry, fields={"text": "B"}, base_rev=1)
    follow = change(
        ws.bob, "entry", entry, fields={"text": "B2"}, base_change_id=clash["change_id"]
    )
    results = harness.push(ws.bob, clash, follow).results
    assert [(r.status, r.reason) for r in results] == [("conflict", None), ("held", "dependency")]
    assert _data(harness, entry)["text"] == "A"


def test_push_as_someone_elses_or_a_revoked_device_is_refused(
    harness: Harness, ws: Workspace
) -> None:
    sent = change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id))
    borrowed = type(ws.bob)(ws.bob.principal, ws.alice.device_id)
    assert harness.push_raw(borrowed, [sent]).status_code == 404
    revoked = type(ws.bob)(ws.bob.principal, harness.device(ws.bob.principal, revoked=True))
    response = harness.push_raw(revoked, [sent])
    assert (response.status_code, response.json()) == (403, {"detail": "device_revoked"})
    assert harness.count(ReceivedChange, change_id=sent["change_id"]) == 0


def test_device_registration_is_idempotent_and_private(harness: Harness, ws: Workspace) -> None:
    device_id = new_id()
    body = {"label": "laptop", "app_version": "1.0", "schema_version": 2}
    harness.as_(ws.alice)
    first = harness.client.put(f"/sync/v1/devices/{device_id}", json=body)
    again = harness.client.put(f"/sync/v1/devices/{device_id}", json=body | {"label": "renamed"})
    assert first.status_code == again.status_code == 200
    assert again.json()["last_device_seq"] == 0 and again.json()["server_time"]
    harness.as_(ws.bob)
    assert harness.client.put(f"/sync/v1/devices/{device_id}", json=body).status_code == 404
    assert (
        harness.client.put(f"/sync/v1/devices/{ws.alice.device_id}", json=body).status_code == 404
    )

    harness.push(
        ws.alice, change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id))
    )
    harness.as_(ws.alice)
    known = harness.client.put(f"/sync/v1/devices/{ws.alice.device_id}", json=body)
    assert known.json()["last_device_seq"] == ws.alice.seq


def test_change_status_is_visible_to_its_author_only(harness: Harness, ws: Workspace) -> None:
    sent = change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id))
    pushed = harness.push_one(ws.alice, sent)
    harness.as_(ws.alice)
    mine = harness.client.get(f"/sync/v1/changes/{sent['change_id']}")
    assert mine.status_code == 200
    assert mine.json()["result"]["rev"] == pushed.rev and mine.json()["server_time"]
    harness.as_(ws.bob)
    assert harness.client.get(f"/sync/v1/changes/{sent['change_id']}").status_code == 404


def test_info_reports_versions_epoch_and_limits(harness: Harness) -> None:
    body = harness.client.get("/sync/v1/info").json()
    assert body["schema"] == {"min": 1, "max": 2, "current": 2}
    assert body["protocol_versions"] == [1]
    assert body["limits"]["max_page"] == MAX_PAGE and body["server_epoch"] and body["server_time"]


def test_a_batch_of_a_hundred_changes_is_one_transaction(harness: Harness, ws: Workspace) -> None:
    changes = [
        change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id, f"Entry {n}."))
        for n in range(100)
    ]
    response: PushResponse = harness.push(ws.alice, *changes)
    assert {r.status for r in response.results} == {"applied"}
    seqs = [r.seq for r in response.results]
    assert seqs == sorted(seqs) and len(set(seqs)) == 100
    assert response.last_device_seq == ws.alice.seq
    with harness.session() as session:
        clock = session.execute(text("SELECT seq FROM sync_clock")).scalar_one()
        revisions = session.execute(select(RecordRevision.record_id)).all()
    assert clock == seqs[-1] and len(revisions) == 101  # the assessment too
