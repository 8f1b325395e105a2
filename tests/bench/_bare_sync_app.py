"""The yardstick for the sync benchmarks: a bare FastAPI app over the service's own tables.

`POST /bulk` validates the same pydantic `Change` list the service takes and inserts the rows a
push of new records leaves behind (received_change, record, record_revision, change_log), one
executemany per table and one commit per request. `GET /records` selects a case's records and
returns them as JSON the ordinary FastAPI way. No auth, no decisions, no locks: the floor.

Run by the benchmarks as `uvicorn tests.bench._bare_sync_app:create_app --factory` (the same
server stack as `sofs serve`), over `BARE_DATABASE_URL` through the service's `make_engine`,
so both sides share the database kind and its settings (SQLite WAL + synchronous=FULL).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert, select, text

from sofs_tui.server.db import METADATA, make_engine
from sofs_tui.sync.protocol import Change

RECORD = METADATA.tables["record"]
REVISION = METADATA.tables["record_revision"]
RECEIVED = METADATA.tables["received_change"]
CHANGE_LOG = METADATA.tables["change_log"]
CLOCK = METADATA.tables["sync_clock"]
DEVICE_ID = "00000000-0000-4000-8000-000000000b0e"
USER_ID = "bare-user"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def create_app() -> FastAPI:
    engine = make_engine(os.environ["BARE_DATABASE_URL"])
    if os.environ.get("BARE_CREATE") == "1":
        METADATA.create_all(engine)
        with engine.begin() as connection:
            if connection.execute(select(CLOCK.c.id)).first() is None:
                connection.execute(insert(CLOCK).values(id=1, seq=0))
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bulk")
    def bulk(changes: list[Change], case_id: str) -> dict[str, int]:
        now = datetime.now(UTC)
        received: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        revisions: list[dict[str, Any]] = []
        logs: list[dict[str, Any]] = []
        for change in changes:
            change_id = str(change.change_id)
            payload = change.model_dump_json()
            data = _dumps(dict(change.fields))
            result = {"change_id": change_id, "status": "applied", "rev": 1}
            received.append(
                {"change_id": change_id, "device_id": DEVICE_ID, "device_seq": change.device_seq,
                 "user_id": USER_ID, "entity": change.entity, "record_id": change.id,
                 "case_id": case_id, "payload": payload,
                 "payload_sha256": hashlib.sha256(payload.encode()).hexdigest(),
                 "schema_version": 2, "received_at": now, "status": "applied", "reason": "",
                 "result": _dumps(result)}
            )  # fmt: skip
            records.append(
                {"id": change.id, "entity": change.entity, "case_id": case_id, "rev": 1,
                 "deleted": False, "data": data, "updated_at": now, "updated_by": USER_ID}
            )  # fmt: skip
            revisions.append(
                {"record_id": change.id, "rev": 1, "entity": change.entity, "data": data,
                 "deleted": False, "change_id": change_id, "author": USER_ID,
                 "device_id": DEVICE_ID, "client_time": change.client_time,
                 "received_at": now, "kind": "create"}
            )  # fmt: skip
            logs.append(
                {"kind": "record", "entity": change.entity, "record_id": change.id,
                 "case_id": case_id, "principal_user_id": None, "change_id": change_id,
                 "conflict_id": None}
            )  # fmt: skip
        with engine.begin() as connection:
            connection.execute(insert(RECEIVED), received)
            connection.execute(insert(RECORD), records)
            connection.execute(insert(REVISION), revisions)
            last = connection.execute(
                text("UPDATE sync_clock SET seq = seq + :n WHERE id = 1 RETURNING seq"),
                {"n": len(logs)},
            ).scalar_one()
            first = int(last) - len(logs) + 1
            for offset, row in enumerate(logs):
                row["seq"] = first + offset
            connection.execute(insert(CHANGE_LOG), logs)
        return {"n": len(changes)}

    @app.get("/records")
    def records(case_id: str) -> list[dict[str, Any]]:
        query = (
            select(RECORD.c.id, RECORD.c.entity, RECORD.c.case_id, RECORD.c.rev,
                   RECORD.c.deleted, RECORD.c.data)
            .where(RECORD.c.case_id == case_id)
            .order_by(RECORD.c.id)
        )  # fmt: skip
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            {"id": r.id, "entity": r.entity, "case_id": r.case_id, "rev": r.rev,
             "deleted": bool(r.deleted), "data": json.loads(r.data)}
            for r in rows
        ]  # fmt: skip

    return app
