"""`/sync/v1`: the handshake, device registration, push, pull and the views of what the server
holds (SYNC reference §3). Request and response shapes are `sofs_tui.sync.protocol`'s.

Every route but /info needs a bearer token (auth.require_principal). Every id in a path is
checked against the caller's scope and answers 404 with no data when it is not theirs (R30);
paths and queries carry ids, cursors and enums only, never names (R34). Every response carries
`server_time`, so the client can warn about a wrong clock without trusting its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sofs_tui.server import apply, pull, scope_events
from sofs_tui.server.auth import PROTECTED_RESPONSES, require_principal
from sofs_tui.server.db import Device
from sofs_tui.server.deps import clock_dependency, engine_dependency, get_session
from sofs_tui.server.migrate import server_epoch
from sofs_tui.server.principal import Principal
from sofs_tui.server.push_state import CASE_SCOPE, CONFLICT, RECEIVED, RECORD, REVISION
from sofs_tui.server.scope import can_see_case, visible_cases_clause
from sofs_tui.sync.entities import ENTITIES
from sofs_tui.sync.protocol import (
    DEFAULT_PAGE,
    MAX_BATCH_BYTES,
    MAX_BATCH_CHANGES,
    MAX_PAGE,
    PROTOCOL_VERSION,
    SCHEMA_CURRENT,
    SCHEMA_MIN,
    Change,
    ChangeResult,
    ChangeStatusResponse,
    ConflictListResponse,
    DeviceRegistration,
    DeviceResponse,
    ErrorResponse,
    HeldChange,
    HeldListResponse,
    HistoryResponse,
    InfoResponse,
    Limits,
    PullResponse,
    PushRequest,
    PushResponse,
    RevisionItem,
    SchemaRange,
)

router = APIRouter(prefix="/sync/v1", tags=["sync"])

PrincipalDep = Annotated[Principal, Depends(require_principal)]
SessionDep = Annotated[Session, Depends(get_session)]
EngineDep = Annotated[Engine, Depends(engine_dependency)]
ClockDep = Annotated[Callable[[], datetime], Depends(clock_dependency)]
RecordId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")]
ClientSchema = Annotated[
    int, Header(alias="Client-Schema", description="The entity schema the app speaks")
]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    words = {
        400: "The body is not JSON",
        404: "Not found, or not in your scope",
        403: "Device revoked, or not allowed",
        410: "Cursor from another epoch or no longer served: resync from scratch",
        426: "Your app's schema is too old: upgrade the app",
    }
    answers = dict(PROTECTED_RESPONSES)
    for code in codes:
        answers[code] = {"model": ErrorResponse, "description": words[code]}
    return answers


def _json(model: BaseModel) -> Response:
    # The models are built and validated already: serialise once, skip FastAPI's second pass.
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


def _not_found() -> HTTPException:
    return HTTPException(status_code=404, detail="not_found")


@router.get("/info", response_model=InfoResponse, response_model_by_alias=True)
def info(engine: EngineDep, clock: ClockDep) -> Response:
    """The handshake: protocol and schema versions served, the epoch, limits, the time."""
    with engine.connect() as connection:
        epoch = server_epoch(connection)
    return _json(
        InfoResponse(
            protocol_versions=[PROTOCOL_VERSION],
            schema_versions=SchemaRange(min=SCHEMA_MIN, max=SCHEMA_CURRENT, current=SCHEMA_CURRENT),
            server_epoch=epoch,
            server_time=clock(),
            limits=Limits(
                max_batch_changes=MAX_BATCH_CHANGES,
                max_batch_bytes=MAX_BATCH_BYTES,
                max_page=MAX_PAGE,
            ),
        )
    )


@router.put("/devices/{device_id}", response_model=DeviceResponse, responses=_errors(400, 404))
def register_device(
    device_id: UUID,
    registration: DeviceRegistration,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
) -> DeviceResponse:
    """Register this device for the signed-in user, or refresh its details (idempotent). The
    answer's `last_device_seq` tells a reinstalled app where the server's record of it ends."""
    now, key = clock(), str(device_id)
    for _attempt in range(2):
        device = session.get(Device, key, with_for_update=True)
        if device is None:
            device = Device(id=key, user_id=principal.user_id, registered_at=now)
        elif device.user_id != principal.user_id:
            raise _not_found()
        elif device.revoked:
            raise HTTPException(status_code=403, detail="device_revoked")
        device.label = registration.label
        device.app_version = registration.app_version
        device.schema_version = registration.schema_version
        device.last_seen_at = now
        session.add(device)
        try:
            session.commit()
        except IntegrityError:  # registered by a concurrent request a moment ago
            session.rollback()
            continue
        return DeviceResponse(
            device_id=device_id, last_device_seq=device.last_device_seq, server_time=now
        )
    raise HTTPException(status_code=409, detail="device_busy")


@router.post("/push", response_model=PushResponse, responses=_errors(400, 404))
def push_changes(
    batch: PushRequest, principal: PrincipalDep, session: SessionDep, clock: ClockDep
) -> Response:
    """Store and apply a batch of changes; one result per change. A result of any status means
    the server holds the change durably, except `rejected: idempotency_mismatch`."""
    try:
        return _json(apply.push(session, principal, batch, clock()))
    except apply.DeviceRefused as refused:
        raise HTTPException(status_code=refused.status_code, detail=refused.detail) from None


#: What the handshake says, on every pull answer too, so that a client which skipped /info
#: (nothing to push, synced with this service before) still learns of a version change from
#: the one request it makes. Headers, not body fields: older clients refuse unknown fields.
SERVED_HEADERS = {
    "Sync-Protocols": ",".join(map(str, [PROTOCOL_VERSION])),
    "Sync-Schema-Min": str(SCHEMA_MIN),
    "Sync-Schema-Max": str(SCHEMA_CURRENT),
}
_SERVED_DOCS = {
    "Sync-Protocols": "Protocol versions served, comma-separated (as /info's protocol_versions)",
    "Sync-Schema-Min": "Oldest entity schema served (as /info's schema.min)",
    "Sync-Schema-Max": "Newest entity schema served (as /info's schema.max)",
}


@router.get(
    "/changes",
    response_model=PullResponse,
    responses={
        200: {
            "headers": {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in _SERVED_DOCS.items()
            }
        },
        **_errors(410, 426),
    },
)
def pull_changes(
    principal: PrincipalDep,
    engine: EngineDep,
    clock: ClockDep,
    client_schema: ClientSchema = SCHEMA_CURRENT,
    cursor: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    limit: Annotated[int, Query(ge=1, description=f"Capped at {MAX_PAGE}")] = DEFAULT_PAGE,
) -> Response:
    """The next page of the stream after `cursor`; without one, a snapshot of your scope."""
    if client_schema < SCHEMA_MIN:
        raise HTTPException(status_code=426, detail="upgrade_required")
    try:
        body = pull.pull_page_json(engine, principal, cursor, limit, clock(), client_schema)
    except pull.CursorGone:
        raise HTTPException(status_code=410, detail="resync_required") from None
    # Written as the PullResponse JSON already (pull.py): no model to build, nothing to encode.
    return Response(body, media_type="application/json", headers=SERVED_HEADERS)


@router.get("/changes/{change_id}", response_model=ChangeStatusResponse, responses=_errors(404))
def change_status(
    change_id: UUID, principal: PrincipalDep, session: SessionDep, clock: ClockDep
) -> ChangeStatusResponse:
    """What the server holds for one of your own changes ("did it arrive?")."""
    row = (
        session.connection()
        .execute(
            select(RECEIVED.c.result, RECEIVED.c.received_at).where(
                RECEIVED.c.change_id == str(change_id), RECEIVED.c.user_id == principal.user_id
            )
        )
        .first()
    )
    if row is None:
        raise _not_found()
    return ChangeStatusResponse(
        result=ChangeResult.model_validate(json.loads(row.result)),
        received_at=row.received_at,
        server_time=clock(),
    )


@router.get("/conflicts", response_model=ConflictListResponse, responses=_errors())
def conflicts(
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    status: Literal["open", "resolved"] = "open",
    limit: Annotated[int, Query(ge=1, description=f"Capped at {MAX_PAGE}")] = MAX_PAGE,
) -> Response:
    """Conflicts in your scope, newest first (a manager: every case of their teams)."""
    visible = select(CASE_SCOPE.c.case_id).where(visible_cases_clause(principal))
    rows = session.connection().execute(
        select(CONFLICT)
        .where(CONFLICT.c.case_id.in_(visible), CONFLICT.c.status == status)
        .order_by(CONFLICT.c.detected_at.desc(), CONFLICT.c.id)
        .limit(min(limit, MAX_PAGE))
    )
    items = [pull.conflict_item(row, 0) for row in rows]
    return _json(ConflictListResponse(items=items, server_time=clock()))


@router.get("/held", response_model=HeldListResponse, responses=_errors())
def held_changes(
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    limit: Annotated[int, Query(ge=1, description=f"Capped at {MAX_PAGE}")] = MAX_PAGE,
) -> Response:
    """For managers: changes stored but not applied in their teams' cases, newest first: those
    to cases reassigned while their author was offline, and those still waiting."""
    if not principal.is_manager:
        raise HTTPException(status_code=403, detail="managers_only")
    users = scope_events.USERS
    visible = select(CASE_SCOPE.c.case_id).where(visible_cases_clause(principal))
    waiting = (RECEIVED.c.status == "held") | (
        (RECEIVED.c.status == "rejected") & (RECEIVED.c.reason == "out_of_scope")
    )
    rows = session.connection().execute(
        select(RECEIVED, users.c.username)
        .join(users, users.c.id == RECEIVED.c.user_id)
        .where(RECEIVED.c.case_id.in_(visible), waiting)
        .order_by(RECEIVED.c.received_at.desc(), RECEIVED.c.change_id)
        .limit(min(limit, MAX_PAGE))
    )
    items = []
    for row in rows:
        change = Change.model_validate_json(row.payload)
        items.append(
            HeldChange(
                change_id=change.change_id,
                entity=row.entity,
                record_id=row.record_id,
                case_id=row.case_id,
                op=change.op,
                status=row.status,
                reason=row.reason,
                author=row.username,
                device_id=row.device_id,
                client_time=change.client_time,
                received_at=row.received_at,
                fields=dict(change.fields),
            )
        )
    return _json(HeldListResponse(items=items, server_time=clock()))


@router.get(
    "/records/{entity}/{record_id}/history", response_model=HistoryResponse, responses=_errors(404)
)
def record_history(
    entity: Annotated[str, Path(max_length=40, pattern=r"^[a-z_]+$")],
    record_id: RecordId,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Every revision of a record in your scope, and every conflict on it, oldest first."""
    if entity not in ENTITIES:
        raise _not_found()
    connection = session.connection()
    record = connection.execute(select(RECORD).where(RECORD.c.id == record_id)).first()
    if record is None or record.entity != entity:
        raise _not_found()
    if not can_see_case(session, principal, record.case_id):
        raise _not_found()
    revisions = [
        RevisionItem(
            rev=row.rev,
            kind=row.kind,
            deleted=bool(row.deleted),
            data=json.loads(row.data),
            author=row.author,
            device_id=row.device_id,
            change_id=row.change_id,
            client_time=row.client_time,
            received_at=row.received_at,
        )
        for row in connection.execute(
            select(REVISION).where(REVISION.c.record_id == record_id).order_by(REVISION.c.rev)
        )
    ]
    found = connection.execute(
        select(CONFLICT)
        .where(CONFLICT.c.record_id == record_id)
        .order_by(CONFLICT.c.detected_at, CONFLICT.c.id)
    )
    return _json(
        HistoryResponse(
            entity=entity,
            id=record_id,
            case_id=record.case_id,
            rev=record.rev,
            deleted=bool(record.deleted),
            revisions=revisions,
            conflicts=[pull.conflict_item(row, 0) for row in found],
            server_time=clock(),
        )
    )
