"""The sync protocol's request and response shapes, shared by the client and the service.

Strict on purpose: extra fields are refused, strings are bounded, lists are capped. A page or a
response that does not match is treated by the client as "outcome unknown", never applied.
See SYNC.md and ../shared/reference/sync.md §3 for the endpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sofs_tui.sync.entities import ENTITIES, field_problems

PROTOCOL_VERSION = 1
#: Entity schema versions. 1: entries had no `audience`; 2: they do (the client's migration 2).
SCHEMA_MIN = 1
SCHEMA_CURRENT = 2
MAX_BATCH_CHANGES = 100
MAX_BATCH_BYTES = 1_048_576
MAX_PAGE = 500
DEFAULT_PAGE = 500

Id = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")]
Scalar = str | int | float | bool | None
ChangeStatus = Literal["applied", "conflict", "rejected", "held"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(Strict):
    max_batch_changes: int
    max_batch_bytes: int
    max_page: int


class SchemaRange(Strict):
    min: int
    max: int
    current: int


class InfoResponse(Strict):
    protocol_versions: list[int]
    schema_versions: SchemaRange = Field(alias="schema")
    server_epoch: str
    server_time: datetime
    limits: Limits

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeviceRegistration(Strict):
    label: Annotated[str, Field(max_length=120)]
    app_version: Annotated[str, Field(max_length=40)]
    schema_version: int


class DeviceResponse(Strict):
    device_id: UUID
    last_device_seq: int


class Change(Strict):
    """One saved change from a device's outbox (only the fields that changed)."""

    change_id: UUID
    device_seq: Annotated[int, Field(ge=1)]
    entity: Annotated[str, Field(max_length=40)]
    id: Id
    op: Literal["create", "update", "delete"]
    base_rev: Annotated[int, Field(ge=1)] | None = None
    base_change_id: UUID | None = None
    fields: dict[Annotated[str, Field(max_length=60)], Scalar] = Field(max_length=60)
    resolves: list[UUID] = Field(default_factory=list, max_length=10)
    client_time: datetime
    payload_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, entity: str) -> str:
        if entity not in ENTITIES:
            raise ValueError("unknown entity")
        return entity


class PushRequest(Strict):
    device_id: UUID
    batch_id: UUID
    schema_version: int
    changes: list[Change] = Field(min_length=1, max_length=MAX_BATCH_CHANGES)


class ChangeResult(Strict):
    change_id: UUID
    status: ChangeStatus
    rev: int | None = None
    seq: int | None = None
    replayed: bool = False
    conflict_id: UUID | None = None
    current_rev: int | None = None
    reason: Annotated[str, Field(max_length=60)] | None = None


class PushResponse(Strict):
    batch_id: UUID
    device_id: UUID
    server_time: datetime
    last_device_seq: int
    results: list[ChangeResult]


class RecordItem(Strict):
    type: Literal["record"] = "record"
    seq: int
    entity: str
    id: Id
    case_id: Id
    rev: int
    deleted: bool
    data: dict[str, Scalar]
    open_conflicts: list[UUID] = Field(default_factory=list)


class ScopeItem(Strict):
    type: Literal["scope"] = "scope"
    seq: int
    op: Literal["gain", "revoke"]
    case_id: Id
    snapshot: list[RecordItem] = Field(default_factory=list)


class ConflictItem(Strict):
    type: Literal["conflict"] = "conflict"
    seq: int
    conflict_id: UUID
    entity: str
    record_id: Id
    case_id: Id
    status: Literal["open", "resolved"]
    base_rev: int | None
    current_rev: int
    theirs: dict[str, Scalar]
    incoming: dict[str, Scalar]
    incoming_op: Literal["create", "update", "delete"]
    author: Annotated[str, Field(max_length=120)]
    client_time: datetime
    detected_at: datetime


class OutcomeItem(Strict):
    type: Literal["outcome"] = "outcome"
    seq: int
    change_id: UUID
    status: ChangeStatus
    rev: int | None = None
    reason: str | None = None


PullItem = Annotated[
    RecordItem | ScopeItem | ConflictItem | OutcomeItem, Field(discriminator="type")
]


class PullResponse(Strict):
    items: list[PullItem] = Field(max_length=MAX_PAGE)
    next_cursor: Annotated[str, Field(max_length=200)]
    has_more: bool
    server_time: datetime
    server_epoch: str


class TokenRequest(Strict):
    username: Annotated[str, Field(min_length=1, max_length=120)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    device_id: UUID | None = None


class RefreshRequest(Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class TokenResponse(Strict):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int
    username: str
    role: Literal["worker", "manager", "admin"]


class ErrorResponse(Strict):
    detail: str


def upcast(change: Change, schema_version: int) -> dict[str, Scalar]:
    """Fields of a change written under an older entity schema, as the current schema wants.

    Schema 1 → 2: an entry created before entries had an audience starts as 'undecided'.
    """
    fields: dict[str, Any] = dict(change.fields)
    if schema_version < 2 and change.entity == "entry" and change.op == "create":
        fields.setdefault("audience", "undecided")
    return fields


def change_problems(change: Change) -> list[str]:
    """Why a change's fields cannot be applied (unknown fields, bad values); [] when fine."""
    return field_problems(change.entity, dict(change.fields))
