"""An in-memory service that speaks the real protocol models, behind httpx.MockTransport.

Small but honest: change ids are idempotency keys (a replay returns the stored result, another
payload under the same id is refused), `base_rev` / `base_change_id` decide conflicts, every
accepted change and conflict goes into a pull log in seq order, tokens rotate. Faults are
queued per path: a canned response, a raised transport error, or "commit, then lose the
answer". The real service's end-to-end tests live elsewhere; this lets the client be tested
alone.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from sofs_tui.sync.entities import ENTITIES
from sofs_tui.sync.protocol import (
    ChangeResult,
    ConflictItem,
    DeviceResponse,
    InfoResponse,
    Limits,
    OutcomeItem,
    PullItem,
    PullResponse,
    PushRequest,
    PushResponse,
    RecordItem,
    RefreshRequest,
    SchemaRange,
    ScopeItem,
    TokenRequest,
    TokenResponse,
)

PASSWORD = "service password"
URL = "https://sofs.test"
SERVER_TIME = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@dataclass
class Rec:
    entity: str
    case_id: str
    rev: int
    data: dict[str, Any]
    deleted: bool = False


@dataclass
class Fault:
    method: str
    path: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raise_: type[httpx.TransportError] | None = None
    after: bool = False  # run the real handler first, then fail (committed, never heard)
    content_type: str = "application/json"


def _json(model: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status,
        content=model.model_dump_json(by_alias=True).encode(),
        headers={"content-type": "application/json"},
    )


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps({"detail": detail}).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


class FakeServer:
    def __init__(self, clock: Callable[[], datetime] = lambda: SERVER_TIME) -> None:
        self.clock = clock
        self.records: dict[str, Rec] = {}
        self.received: dict[str, tuple[str, ChangeResult]] = {}
        self.log: list[PullItem] = []
        self.seq = 0
        self.epoch = "epoch-1"
        self.devices: dict[str, int] = {}
        self.revoked_devices: set[str] = set()
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.refusing_refresh = False
        self.faults: list[Fault] = []
        self.requests: list[httpx.Request] = []
        self.pushes: list[PushRequest] = []
        self.applied_changes: list[str] = []  # change ids in the order they took effect
        self.gone_cursors: set[str] = set()
        self.out_of_scope: set[str] = set()
        self.max_batch: int | None = None
        self.schema = SchemaRange(min=1, max=2, current=2)
        self.push_gate: asyncio.Event | None = None
        #: Applied once to the next push answer (after the changes took effect).
        self.tamper_push: Callable[[PushResponse], PushResponse] | None = None
        self.active_pushes = 0
        self.most_active_pushes = 0
        self._tokens = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- faults and server-side actions used by tests ----------------------------------------

    def fail(self, method: str, path: str, **kwargs: Any) -> None:
        self.faults.append(Fault(method, path, **kwargs))

    def issue_tokens(self) -> TokenResponse:
        self._tokens += 1
        access, refresh = f"access-{self._tokens}", f"refresh-{self._tokens}"
        self.access.add(access)
        self.refresh.add(refresh)
        return TokenResponse(
            access_token=access,
            refresh_token=refresh,
            expires_in=900,
            username="t.worker",
            role="worker",
        )

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def put(
        self, entity: str, record_id: str, data: dict[str, Any], *, deleted: bool = False
    ) -> int:
        """Another device's change, already applied: a new revision and a log item."""
        rec = self.records.get(record_id)
        if rec is None:
            rec = Rec(entity, self._case_of(entity, record_id, data), 0, {})
            self.records[record_id] = rec
        rec.data = rec.data | {k: v for k, v in data.items() if k != "deleted"}
        rec.deleted = deleted
        rec.rev += 1
        self._log_record(record_id)
        return rec.rev

    def revoke(self, case_id: str) -> None:
        self.seq += 1
        self.log.append(ScopeItem(seq=self.seq, op="revoke", case_id=case_id))

    def gain(self, case_id: str) -> None:
        self.seq += 1
        snapshot = [self._record_item(i) for i, r in self.records.items() if r.case_id == case_id]
        self.log.append(ScopeItem(seq=self.seq, op="gain", case_id=case_id, snapshot=snapshot))

    def outcome(self, change_id: str, status: str, rev: int | None = None) -> None:
        self.seq += 1
        self.log.append(
            OutcomeItem(
                seq=self.seq,
                change_id=uuid.UUID(change_id),
                status=status,
                rev=rev,
            )
        )

    def requests_to(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    # --- routing -------------------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for fault in self.faults:
            if fault.method == request.method and request.url.path.startswith(fault.path):
                self.faults.remove(fault)
                if fault.after:
                    await self._route(request)
                if fault.raise_ is not None:
                    raise fault.raise_("injected", request=request)
                assert fault.status is not None
                return httpx.Response(
                    fault.status,
                    content=fault.body,
                    headers={"content-type": fault.content_type, **fault.headers},
                )
        return await self._route(request)

    async def _route(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if (method, path) == ("GET", "/sync/v1/info"):
            return _json(
                InfoResponse(
                    protocol_versions=[1],
                    schema_versions=self.schema,
                    server_epoch=self.epoch,
                    server_time=self.clock(),
                    limits=Limits(max_batch_changes=100, max_batch_bytes=1_048_576, max_page=500),
                )
            )
        if (method, path) == ("POST", "/auth/token"):
            login = TokenRequest.model_validate_json(request.content)
            if login.password != PASSWORD:
                return _error(401, "invalid credentials")
            return _json(self.issue_tokens())
        if (method, path) == ("POST", "/auth/refresh"):
            body = RefreshRequest.model_validate_json(request.content)
            if self.refusing_refresh or body.refresh_token not in self.refresh:
                return _error(401, "invalid refresh token")
            self.refresh.discard(body.refresh_token)
            return _json(self.issue_tokens())
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.access:
            return _error(401, "not signed in")
        if method == "PUT" and path.startswith("/sync/v1/devices/"):
            device_id = path.rsplit("/", 1)[1]
            return _json(
                DeviceResponse(
                    device_id=uuid.UUID(device_id), last_device_seq=self.devices.get(device_id, 0)
                )
            )
        if (method, path) == ("POST", "/sync/v1/push"):
            return await self._push(request)
        if (method, path) == ("GET", "/sync/v1/changes"):
            return self._pull(request)
        return _error(404, "not found")

    async def _push(self, request: httpx.Request) -> httpx.Response:
        push = PushRequest.model_validate_json(request.content)
        if str(push.device_id) in self.revoked_devices:
            return _error(403, "device_revoked")
        if self.max_batch is not None and len(push.changes) > self.max_batch:
            return _error(413, "Request body too large")
        self.active_pushes += 1
        self.most_active_pushes = max(self.most_active_pushes, self.active_pushes)
        try:
            if self.push_gate is not None:
                await self.push_gate.wait()
            self.pushes.append(push)
            results = [
                self._apply(push, c) for c in sorted(push.changes, key=lambda c: c.device_seq)
            ]
        finally:
            self.active_pushes -= 1
        device = str(push.device_id)
        seqs = [self.devices.get(device, 0), *(c.device_seq for c in push.changes)]
        self.devices[device] = max(seqs)
        answer = PushResponse(
            batch_id=push.batch_id,
            device_id=push.device_id,
            server_time=self.clock(),
            last_device_seq=self.devices[device],
            results=results,
        )
        if self.tamper_push is not None:
            answer, self.tamper_push = self.tamper_push(answer), None
        return _json(answer)

    def _apply(self, push: PushRequest, change: Any) -> ChangeResult:
        change_id = str(change.change_id)
        if change_id in self.received:
            sha, stored = self.received[change_id]
            if sha != change.payload_sha256:
                return ChangeResult(
                    change_id=change.change_id, status="rejected", reason="idempotency_mismatch"
                )
            return stored.model_copy(update={"replayed": True})
        result = self._decide(change)
        self.received[change_id] = (change.payload_sha256, result)
        return result

    def _decide(self, change: Any) -> ChangeResult:
        cid = change.change_id
        base = change.base_rev
        if change.base_change_id is not None:
            prior = self.received.get(str(change.base_change_id))
            if prior is None or prior[1].status != "applied":
                return ChangeResult(change_id=cid, status="held", reason="dependency")
            base = prior[1].rev
        fields = dict(change.fields)
        rec = self.records.get(change.id)
        case_id = rec.case_id if rec else self._case_of(change.entity, change.id, fields)
        if case_id in self.out_of_scope:
            return ChangeResult(change_id=cid, status="rejected", reason="out_of_scope")
        if rec is None and change.op != "create":
            return ChangeResult(change_id=cid, status="held", reason="dependency")
        if rec is not None and base != rec.rev:
            conflict_id = uuid.uuid4()
            self.seq += 1
            self.log.append(
                ConflictItem(
                    seq=self.seq,
                    conflict_id=conflict_id,
                    entity=change.entity,
                    record_id=change.id,
                    case_id=rec.case_id,
                    status="open",
                    base_rev=base,
                    current_rev=rec.rev,
                    theirs=rec.data | {"deleted": rec.deleted},
                    incoming=fields,
                    incoming_op=change.op,
                    author="t.worker",
                    client_time=change.client_time,
                    detected_at=self.clock(),
                )
            )
            return ChangeResult(
                change_id=cid, status="conflict", conflict_id=conflict_id, current_rev=rec.rev
            )
        if rec is None:
            rec = Rec(change.entity, case_id, 0, {})
            self.records[change.id] = rec
        rec.data = rec.data | {k: v for k, v in fields.items() if k != "deleted"}
        rec.deleted = bool(fields.get("deleted", rec.deleted))
        rec.rev += 1
        self.applied_changes.append(str(cid))
        self._log_record(change.id)
        for conflict_id in change.resolves:
            self._resolve(conflict_id)
        return ChangeResult(change_id=cid, status="applied", rev=rec.rev, seq=self.seq)

    def _resolve(self, conflict_id: uuid.UUID) -> None:
        for item in self.log:
            if isinstance(item, ConflictItem) and item.conflict_id == conflict_id:
                self.seq += 1
                self.log.append(item.model_copy(update={"seq": self.seq, "status": "resolved"}))
                return

    def _pull(self, request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        limit = int(request.url.params.get("limit", "500"))
        if cursor in self.gone_cursors:
            return _error(410, "resync required")
        if cursor is None or cursor.startswith("snap:"):
            return self._snapshot(cursor, limit)
        start = int(cursor)
        later = [item for item in self.log if item.seq > start]
        items = later[:limit]
        next_cursor = str(items[-1].seq) if items else cursor
        return _json(
            PullResponse(
                items=items,
                next_cursor=next_cursor,
                has_more=len(later) > limit,
                server_time=self.clock(),
                server_epoch=self.epoch,
            )
        )

    def _snapshot(self, cursor: str | None, limit: int) -> httpx.Response:
        """Cursor absent: every current record (in id order), then the log's position."""
        ids = sorted(self.records)
        offset = int(cursor.removeprefix("snap:")) if cursor else 0
        chunk = ids[offset : offset + limit]
        more = offset + limit < len(ids)
        return _json(
            PullResponse(
                items=[self._record_item(i) for i in chunk],
                next_cursor=f"snap:{offset + limit}" if more else str(self.seq),
                has_more=more,
                server_time=self.clock(),
                server_epoch=self.epoch,
            )
        )

    # --- helpers -------------------------------------------------------------------------------

    def _record_item(self, record_id: str) -> RecordItem:
        rec = self.records[record_id]
        return RecordItem(
            seq=self.seq,
            entity=rec.entity,
            id=record_id,
            case_id=rec.case_id,
            rev=rec.rev,
            deleted=rec.deleted,
            data=dict(rec.data),
        )

    def _log_record(self, record_id: str) -> None:
        self.seq += 1
        self.log.append(self._record_item(record_id))

    def _case_of(self, entity: str, record_id: str, data: dict[str, Any]) -> str:
        spec = ENTITIES[entity]
        if spec.parent is None:
            return record_id
        parent_id = data.get(spec.parent[0])
        parent = self.records.get(parent_id) if isinstance(parent_id, str) else None
        if parent is not None:
            return parent.case_id
        return parent_id if spec.parent[1] == "case" and isinstance(parent_id, str) else "unknown"
