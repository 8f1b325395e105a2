"""The pull page written as JSON directly (pull.record_json, pull_page_json) says exactly what
the protocol models say; every pull answer repeats the handshake's versions in its headers."""

from __future__ import annotations

import json

from sqlalchemy import select

from sofs_tui.server import pull
from sofs_tui.server.push_state import RECORD
from sofs_tui.sync.protocol import PullResponse, RecordItem
from tests.server.sync_support import (
    NOW,
    Harness,
    Workspace,
    change,
    entry_fields,
    new_id,
)

TRICKY = 'Quote " backslash \\ tab\t new\nline é 😀 </script> \u2028'


def test_record_json_is_the_record_items_json(harness: Harness, ws: Workspace) -> None:
    entry = new_id()
    fields = entry_fields(ws.assessment_id, TRICKY)
    assert harness.push_one(
        ws.alice, change(ws.alice, "entry", entry, "create", fields)
    ).status == ("applied")
    with harness.engine.connect() as connection:
        rows = list(connection.execute(select(RECORD)))
    assert {row.id for row in rows} >= {entry, ws.assessment_id}
    conflicts = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"]
    for row in rows:
        for schema in (1, 2):
            for open_ids in ([], conflicts):
                written = pull.record_json(row, 7, open_ids, schema)
                made = pull.record_item(row, 7, open_ids, schema)
                assert RecordItem.model_validate_json(written) == made
                assert json.loads(written) == json.loads(made.model_dump_json())


def test_a_page_written_directly_equals_the_models_page(harness: Harness, ws: Workspace) -> None:
    sent = [
        change(ws.alice, "entry", new_id(), "create", entry_fields(ws.assessment_id, f"E {n}"))
        for n in range(5)
    ]
    harness.push(ws.alice, *sent)
    cursor = None
    while True:
        body = pull.pull_page_json(harness.engine, ws.bob.principal, cursor, 3, NOW)
        page = PullResponse.model_validate_json(body)
        assert json.loads(body) == json.loads(page.model_dump_json(by_alias=True))
        assert pull.pull_page(harness.engine, ws.bob.principal, cursor, 3, NOW) == page
        cursor = page.next_cursor
        if not page.has_more:
            break


def test_every_pull_answer_repeats_the_handshakes_versions(harness: Harness, ws: Workspace) -> None:
    info = harness.client.get("/sync/v1/info").json()
    harness.as_(ws.bob)
    answer = harness.client.get("/sync/v1/changes")
    assert answer.status_code == 200
    assert answer.headers["Sync-Protocols"] == ",".join(map(str, info["protocol_versions"]))
    assert int(answer.headers["Sync-Schema-Min"]) == info["schema"]["min"]
    assert int(answer.headers["Sync-Schema-Max"]) == info["schema"]["max"]
    documented = harness.client.get("/openapi.json").json()
    ok = documented["paths"]["/sync/v1/changes"]["get"]["responses"]["200"]
    assert set(ok["headers"]) == {"Sync-Protocols", "Sync-Schema-Min", "Sync-Schema-Max"}
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PullResponse"
    }
