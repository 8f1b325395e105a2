"""The sync protocol's request and response shapes, shared by the client and the service.

Strict on purpose: extra fields are refused, strings are bounded, lists are capped. A page or a
response that does not match is treated by the client as "outcome unknown", never applied.
See SYNC.md and ../shared/reference/sync.md §3 for the endpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from sofs_tui.domain.text import forbidden_characters
from sofs_tui.sync.entities import ENTITIES, field_problems

PROTOCOL_VERSION = 1
#: Entity schema versions. 1: entries had no `audience`; 2: they do (the client's migration 2).
SCHEMA_MIN = 1
SCHEMA_CURRENT = 2
MAX_BATCH_CHANGES = 100
MAX_BATCH_BYTES = 1_048_576
#: Pull page size in items. The service serves at most its `Limits.max_page` (and a page stops
#: early at the service's byte bound); a client asks for min(its MAX_PAGE, the service's
#: max_page), or DEFAULT_PAGE before a handshake, which a service with a smaller maximum caps.
#: A thousand records (~1.1 MiB of JSON) come in one answer: one request's fixed costs, not two.
MAX_PAGE = 1000
DEFAULT_PAGE = 1000

Id = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")]
Scalar = str | int | float | bool | None
INT32_MAX = 2**31 - 1  # the service's INTEGER columns on PostgreSQL


def _json_integer(value: Any) -> Any:
    # pydantic's lax int takes true and "2"; JSON Schema's integer does not (R31). 2.0 is fine.
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer")
    return value


def _json_text(value: Any) -> Any:
    # pydantic's lax datetime takes a number as a Unix time; the schema promises a string.
    if not isinstance(value, str | datetime):
        raise ValueError("must be an RFC 3339 date-time string")
    return value


def _plain_line(value: str) -> str:
    # Control characters (NUL above all: PostgreSQL text cannot hold it) never get in (R13).
    if forbidden_characters(value, multiline=False):
        raise ValueError("contains control, line-break or direction-changing characters")
    return value


# The same rule as a pattern, so the OpenAPI schema says what is accepted (R31).
_NO_CONTROLS = r"^[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"

#: A short single line a client sends (a device label, a username).
PlainLine = Annotated[str, Field(pattern=_NO_CONTROLS), AfterValidator(_plain_line)]

#: A time a client sends: an RFC 3339 string (never a bare number).
ClientTime = Annotated[datetime, BeforeValidator(_json_text)]

#: Counters and versions from a client: JSON integers that fit the database's columns.
Count = Annotated[int, Field(ge=0, le=INT32_MAX), BeforeValidator(_json_integer)]
Positive = Annotated[int, Field(ge=1, le=INT32_MAX), BeforeValidator(_json_integer)]
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
    label: Annotated[PlainLine, Field(max_length=120)]
    app_version: Annotated[PlainLine, Field(max_length=40)]
    schema_version: Count


class DeviceResponse(Strict):
    device_id: UUID
    last_device_seq: int
    server_time: datetime | None = None


class Change(Strict):
    """One saved change from a device's outbox (only the fields that changed)."""

    change_id: UUID
    device_seq: Positive
    # The enum is documented in the schema (R31: the OpenAPI says what is accepted).
    entity: Annotated[str, Field(max_length=40, json_schema_extra={"enum": sorted(ENTITIES)})]
    id: Id
    op: Literal["create", "update", "delete"]
    base_rev: Positive | None = None
    base_change_id: UUID | None = None
    fields: dict[Annotated[str, Field(max_length=60)], Scalar] = Field(max_length=60)
    resolves: list[UUID] = Field(default_factory=list, max_length=10)
    client_time: ClientTime
    payload_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, entity: str) -> str:
        if entity not in ENTITIES:
            raise ValueError("unknown entity")
        return entity


#: How many never-sent device_seqs one push may declare (PushRequest.skipped_seqs).
MAX_SKIPPED_SEQS = 10_000


class PushRequest(Strict):
    device_id: UUID
    batch_id: UUID
    schema_version: Count
    changes: list[Change] = Field(min_length=1, max_length=MAX_BATCH_CHANGES)
    # Added after protocol 1 shipped: optional, and left out of the body when empty, so older
    # clients and services never see it unless it matters.
    skipped_seqs: list[Positive] = Field(
        default_factory=list,
        max_length=MAX_SKIPPED_SEQS,
        exclude_if=lambda seqs: not seqs,
        description=(
            "Device sequence numbers this device will never send: changes it keeps back, "
            "flagged on the device (too large for the service, or not expressible). The "
            "service counts them as passed when it applies the device's changes in order, so "
            "the changes after them do not wait as 'gap'. A number the service has received "
            "a change for is unaffected. Re-declared with every push; optional."
        ),
    )


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
    #: "soft": header fields changed on both sides were merged; a note, stored resolved.
    kind: Literal["hard", "soft"] = "hard"
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


class ChangeStatusResponse(Strict):
    """GET /sync/v1/changes/{change_id}: what the server holds for one of your changes."""

    result: ChangeResult
    received_at: datetime
    server_time: datetime


class ConflictListResponse(Strict):
    """GET /sync/v1/conflicts: conflicts in your scope (`seq` is 0 outside the stream)."""

    items: list[ConflictItem]
    server_time: datetime


class HeldChange(Strict):
    """A change stored but not applied (case out of the author's scope, or waiting)."""

    change_id: UUID
    entity: str
    record_id: Id
    case_id: Id | None
    op: Literal["create", "update", "delete"]
    status: ChangeStatus
    reason: str
    author: Annotated[str, Field(max_length=120)]
    device_id: UUID
    client_time: datetime
    received_at: datetime
    fields: dict[str, Scalar]


class HeldListResponse(Strict):
    """GET /sync/v1/held: the manager's queue of stored, unapplied changes in their teams."""

    items: list[HeldChange]
    server_time: datetime


class RevisionItem(Strict):
    rev: int
    kind: Literal["create", "update", "delete", "merge", "resolve", "revive"]
    deleted: bool
    data: dict[str, Scalar]
    author: Annotated[str, Field(max_length=120)]
    device_id: UUID | None
    change_id: UUID | None
    client_time: datetime | None
    received_at: datetime


class HistoryResponse(Strict):
    """GET /sync/v1/records/{entity}/{id}/history: every revision and conflict of a record."""

    entity: str
    id: Id
    case_id: Id
    rev: int
    deleted: bool
    revisions: list[RevisionItem]
    conflicts: list[ConflictItem]
    server_time: datetime


class TokenRequest(Strict):
    username: Annotated[PlainLine, Field(min_length=1, max_length=120)]
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
