"""A change the service holds (not for a gap) and that the device sends again: the service
retries it with the batch, finds it still held, and answers its stored result as a replay. It
used to answer 500 (the stored result was replaced in memory by an empty one; found by
Schemathesis). Runs on SQLite and on PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

from tests.server.sync_support import (
    Harness,
    Workspace,
    change,
    entry_fields,
    new_id,
)


def test_a_held_change_sent_again_answers_its_stored_result(
    harness: Harness, ws: Workspace
) -> None:
    sent = change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id))
    first = harness.push_one(ws.alice, sent, schema=0)  # below the minimum: held, kept
    assert (first.status, first.reason, first.replayed) == ("held", "schema", False)
    again = harness.push_one(ws.alice, sent, schema=0)
    assert (again.status, again.reason, again.replayed) == ("held", "schema", True)
    assert again.model_dump(exclude={"replayed"}) == first.model_dump(exclude={"replayed"})
