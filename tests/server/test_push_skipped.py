"""POST /sync/v1/push with `skipped_seqs`: device sequence numbers a device will never send
(a change it keeps back, flagged: too large for the service, or not expressible). The service
counts them as passed, so the device's later changes do not wait for them as a "gap" (F22);
a change that did arrive under a declared number always wins.

Every test runs on SQLite and on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from sofs_tui.server.db import Device, ReceivedChange, Record
from sofs_tui.sync.protocol import MAX_SKIPPED_SEQS, OutcomeItem, PushResponse
from tests.server.sync_support import (
    Actor,
    Harness,
    Workspace,
    change,
    entry_fields,
    new_id,
)


def _post(harness: Harness, actor: Actor, changes: list[dict[str, Any]], skipped: Any) -> Any:
    harness.as_(actor)
    body = {
        "device_id": actor.device_id,
        "batch_id": str(uuid.uuid4()),
        "schema_version": 2,
        "changes": changes,
        "skipped_seqs": skipped,
    }
    return harness.client.post("/sync/v1/push", json=body)


def _push(
    harness: Harness, actor: Actor, *changes: dict[str, Any], skipped: list[int]
) -> PushResponse:
    response = _post(harness, actor, list(changes), skipped)
    assert response.status_code == 200, response.text
    return PushResponse.model_validate_json(response.text)


def _entry(ws: Workspace, text: str, **kwargs: Any) -> dict[str, Any]:
    return change(
        ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id, text), **kwargs
    )


def _text(harness: Harness, record_id: str) -> object:
    with harness.session() as session:
        found = session.get(Record, record_id)
        return None if found is None else json.loads(found.data)["text"]


def _last_device_seq(harness: Harness, actor: Actor) -> int:
    with harness.session() as session:
        device = session.get(Device, actor.device_id)
        assert device is not None
        return int(device.last_device_seq)


def test_a_seq_declared_never_sent_is_passed_and_the_next_change_applies(
    harness: Harness, ws: Workspace
) -> None:
    kept_back = _entry(ws, "Far too long to send.")  # seq 2: flagged on the laptop, never sent
    after = _entry(ws, "Sent after it.")  # seq 3
    answer = _push(harness, ws.alice, after, skipped=[kept_back["device_seq"]])
    assert (answer.results[0].status, answer.results[0].reason) == ("applied", None)
    assert answer.last_device_seq == after["device_seq"] == 3
    assert _text(harness, after["id"]) == "Sent after it."
    assert _last_device_seq(harness, ws.alice) == 3
    assert harness.count(ReceivedChange, change_id=kept_back["change_id"]) == 0
    following = _entry(ws, "And the one after.")  # seq 4: in sequence now
    assert _push(harness, ws.alice, following, skipped=[2]).results[0].status == "applied"


def test_without_the_declaration_the_next_change_waits_as_a_gap(
    harness: Harness, ws: Workspace
) -> None:
    _entry(ws, "Never sent, never declared.")  # seq 2
    after = _entry(ws, "Sent after it.")
    answer = _push(harness, ws.alice, after, skipped=[])
    assert (answer.results[0].status, answer.results[0].reason) == ("held", "gap")
    assert answer.last_device_seq == 1
    assert _text(harness, after["id"]) is None


def test_a_change_held_as_a_gap_applies_when_a_later_push_declares_the_gap(
    harness: Harness, ws: Workspace
) -> None:
    kept_back = _entry(ws, "Far too long to send.")  # seq 2
    waiting = _entry(ws, "Sent by an older app, before it declared anything.")  # seq 3
    held = _push(harness, ws.alice, waiting, skipped=[])
    assert (held.results[0].status, held.results[0].reason) == ("held", "gap")
    _, cursor = harness.pull_all(ws.alice)

    later = _entry(ws, "The next change, declaring seq 2.")  # seq 4
    answer = _push(harness, ws.alice, later, skipped=[kept_back["device_seq"]])
    assert answer.results[0].status == "applied"
    assert answer.last_device_seq == 4
    assert _text(harness, waiting["id"]) == "Sent by an older app, before it declared anything."
    assert _text(harness, later["id"]) == "The next change, declaring seq 2."
    with harness.session() as session:
        stored = session.get(ReceivedChange, waiting["change_id"])
        assert stored is not None and (stored.status, stored.reason) == ("applied", "")
    # The laptop hears of it through the pull stream, as of any held change that applies later.
    items, _ = harness.pull_all(ws.alice, cursor)
    outcomes = [i for i in items if isinstance(i, OutcomeItem)]
    assert [(str(o.change_id), o.status) for o in outcomes] == [(waiting["change_id"], "applied")]
    replay = harness.push(ws.alice, waiting).results[0]
    assert (replay.status, replay.replayed) == ("applied", True)


def test_declaring_a_seq_the_service_received_changes_nothing(
    harness: Harness, ws: Workspace
) -> None:
    missing = _entry(ws, "Still on its way.")  # seq 2, not sent yet
    arrived = _entry(ws, "Arrived, waiting for seq 2.")  # seq 3: held as a gap
    assert _push(harness, ws.alice, arrived, skipped=[]).results[0].reason == "gap"
    # A declaration naming the change that arrived cannot pass it (nor the seq before it).
    later = _entry(ws, "Declares seq 3 by mistake.")  # seq 4
    answer = _push(harness, ws.alice, later, skipped=[arrived["device_seq"]])
    assert (answer.results[0].status, answer.results[0].reason) == ("held", "gap")
    assert answer.last_device_seq == 1
    assert _text(harness, arrived["id"]) is None
    # A declaration naming a change in the same batch: the change is applied, not skipped.
    both = _push(harness, ws.alice, missing, skipped=[missing["device_seq"]])
    assert both.results[0].status == "applied"
    assert both.last_device_seq == 4
    assert _text(harness, missing["id"]) == "Still on its way."
    assert _text(harness, arrived["id"]) == "Arrived, waiting for seq 2."
    assert _text(harness, later["id"]) == "Declares seq 3 by mistake."
    # Declaring seqs the service has long passed, or ones far ahead, changes nothing either.
    next_one = _entry(ws, "In sequence.")  # seq 5
    answer = _push(harness, ws.alice, next_one, skipped=[1, 2, 3, 4, 9])
    assert answer.results[0].status == "applied" and answer.last_device_seq == 5


def test_a_declared_seq_passes_only_where_the_sequence_reaches_it(
    harness: Harness, ws: Workspace
) -> None:
    _entry(ws, "Never sent, never declared.")  # seq 2
    kept_back = _entry(ws, "Declared.")  # seq 3
    after = _entry(ws, "Waits for seq 2.")  # seq 4
    answer = _push(harness, ws.alice, after, skipped=[kept_back["device_seq"]])
    assert (answer.results[0].status, answer.results[0].reason) == ("held", "gap")
    assert answer.last_device_seq == 1


def test_trailing_declared_seqs_advance_the_device(harness: Harness, ws: Workspace) -> None:
    sent = _entry(ws, "Sent.")  # seq 2
    answer = _push(harness, ws.alice, sent, skipped=[3, 4])  # seqs 3 and 4 kept back
    assert answer.last_device_seq == 4
    following = _entry(ws, "After them.", seq=5)
    assert _push(harness, ws.alice, following, skipped=[]).results[0].status == "applied"


@pytest.mark.parametrize(
    "skipped",
    [[0], [-1], ["2"], [2.5], [2**31], list(range(1, MAX_SKIPPED_SEQS + 2)), "2"],
)
def test_malformed_declarations_are_refused(harness: Harness, ws: Workspace, skipped: Any) -> None:
    response = _post(harness, ws.alice, [_entry(ws, "Sent.")], skipped)
    assert response.status_code == 422
    assert harness.count(ReceivedChange, device_id=ws.alice.device_id) == 1  # the workspace's
