"""The local database tables (SQLModel). Column changes need a migration in `migrations.py`.

Every synced table carries the same sync columns (`Synced`); rows are never hard-deleted:
`deleted` is the tombstone that sync sends on.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Index, Text
from sqlmodel import Column, Field, SQLModel

from sofs_tui.domain.enums import (
    Agreement,
    AssessmentStatus,
    Attendance,
    Audience,
    CaseStatus,
    ChildVoiceTool,
    ConferenceKind,
    ConferenceModel,
    ConferenceStatus,
    GPInvited,
    GPOutcome,
    PersonKind,
    PlanCategory,
    QauReason,
    Section,
    ShareMethod,
    SyncState,
)
from sofs_tui.store.types import StrEnumType, UTCDateTime


def _fk(target: str) -> Any:
    # Deferred so one transaction may insert a child row before its parent (sync pages).
    return Field(
        sa_column_args=[ForeignKey(target, deferrable=True, initially="DEFERRED")],
        index=True,
    )


def _enum(cls: Any, default: Any = None, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=default, sa_type=StrEnumType(cls), nullable=True, index=index)
    return Field(default=default, sa_type=StrEnumType(cls), index=index)


def _when(nullable: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


def _text(default: str = "") -> Any:
    return Field(default=default, sa_type=Text)


class Synced(SQLModel):
    """Columns every synced record has."""

    ENTITY: ClassVar[str]
    id: str = Field(primary_key=True, max_length=36)
    server_rev: int | None = Field(default=None)
    # Indexed: the sync status bar counts held rows in every table after each save.
    sync_state: SyncState = _enum(SyncState, SyncState.DIRTY, index=True)
    deleted: bool = Field(default=False)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    author: str = Field(default="", max_length=120)


class Case(Synced, table=True):
    __tablename__ = "family_case"
    ENTITY: ClassVar[str] = "case"
    reference: str = Field(max_length=40, unique=True)
    family_name: str = Field(max_length=200)
    lead_worker: str = Field(default="", max_length=120)
    team: str = Field(default="", max_length=120)
    status: CaseStatus = _enum(CaseStatus, CaseStatus.OPEN)
    opened_on: date | None = Field(default=None)
    closed_on: date | None = Field(default=None)


class Person(Synced, table=True):
    __tablename__ = "person"
    ENTITY: ClassVar[str] = "person"
    case_id: str = _fk("family_case.id")
    kind: PersonKind = _enum(PersonKind)
    name: str = Field(max_length=200)
    relationship: str = Field(default="", max_length=120)
    date_of_birth: date | None = Field(default=None)
    expected_on: date | None = Field(default=None)
    parental_responsibility: bool = Field(default=False)
    plan_category_initial: PlanCategory | None = _enum(PlanCategory, nullable=True)
    plan_category_latest: PlanCategory | None = _enum(PlanCategory, nullable=True)
    plan_start: date | None = Field(default=None)
    plan_end: date | None = Field(default=None)
    role: str = Field(default="", max_length=120)
    agency: str = Field(default="", max_length=200)
    is_gp: bool = Field(default=False)
    gp_practice: str = Field(default="", max_length=200)


class Assessment(Synced, table=True):
    __tablename__ = "assessment"
    ENTITY: ClassVar[str] = "assessment"
    case_id: str = _fk("family_case.id")
    title: str = Field(max_length=200)
    status: AssessmentStatus = _enum(AssessmentStatus, AssessmentStatus.DRAFT)
    zero_wording: str = _text()
    ten_wording: str = _text()
    signed_off_by: str = Field(default="", max_length=120)
    signed_off_at: datetime | None = _when(nullable=True)
    reopened_by: str = Field(default="", max_length=120)
    reopened_at: datetime | None = _when(nullable=True)
    reopen_reason: str = _text()


class Entry(Synced, table=True):
    __tablename__ = "entry"
    ENTITY: ClassVar[str] = "entry"
    assessment_id: str = _fk("assessment.id")
    section: Section = _enum(Section)
    text: str = _text()
    source: str = Field(default="", max_length=200)
    agreement: Agreement = _enum(Agreement, Agreement.NOT_ASKED)
    disputed_by: str = Field(default="", max_length=200)
    position: str = Field(max_length=64)
    goal_for_id: str | None = Field(default=None, max_length=36, index=True)
    audience: Audience = _enum(Audience, Audience.UNDECIDED)


class Score(Synced, table=True):
    __tablename__ = "score"
    ENTITY: ClassVar[str] = "score"
    assessment_id: str = _fk("assessment.id")
    danger_statement_id: str | None = Field(default=None, max_length=36)
    scorer_name: str = Field(max_length=200)
    scorer_role: str = Field(default="", max_length=120)
    value: int
    rationale: str = _text()
    zero_wording: str = _text()
    ten_wording: str = _text()
    scored_on: date | None = Field(default=None)


class ChildVoice(Synced, table=True):
    __tablename__ = "child_voice"
    ENTITY: ClassVar[str] = "child_voice"
    case_id: str = _fk("family_case.id")
    child_id: str = Field(max_length=36)
    tool: ChildVoiceTool = _enum(ChildVoiceTool)
    part: str = Field(max_length=40)
    text: str = _text()
    written_by: str = Field(default="", max_length=200)
    recorded_on: date | None = Field(default=None)
    consent_to_share: bool = Field(default=False)
    consent_note: str = _text()


class Conference(Synced, table=True):
    __tablename__ = "conference"
    ENTITY: ClassVar[str] = "conference"
    case_id: str = _fk("family_case.id")
    kind: ConferenceKind = _enum(ConferenceKind)
    model: ConferenceModel = _enum(ConferenceModel, ConferenceModel.STANDARD)
    starts_at: datetime = _when()
    chair: str = Field(default="", max_length=120)
    location: str = Field(default="", max_length=200)
    status: ConferenceStatus = _enum(ConferenceStatus, ConferenceStatus.PLANNED)
    strategy_discussion_on: date | None = Field(default=None)
    gp_invited: GPInvited | None = _enum(GPInvited, nullable=True)
    gp_outcome: GPOutcome | None = _enum(GPOutcome, nullable=True)
    family_preparation_on: date | None = Field(default=None)
    family_preparation_note: str = _text()
    private_family_time: bool | None = Field(default=None)


class Attendee(Synced, table=True):
    __tablename__ = "attendee"
    ENTITY: ClassVar[str] = "attendee"
    conference_id: str = _fk("conference.id")
    person_id: str | None = Field(default=None, max_length=36)
    name: str = Field(max_length=200)
    role: str = Field(default="", max_length=120)
    agency: str = Field(default="", max_length=200)
    invited: bool = Field(default=True)
    attendance: Attendance = _enum(Attendance, Attendance.NOT_RECORDED)


class FamilyPlanItem(Synced, table=True):
    __tablename__ = "family_plan_item"
    ENTITY: ClassVar[str] = "family_plan_item"
    conference_id: str = _fk("conference.id")
    task: str = _text()
    who: str = Field(default="", max_length=200)
    by_when: date | None = Field(default=None)
    who_checks: str = Field(default="", max_length=200)
    position: str = Field(max_length=64)
    done: bool = Field(default=False)


class ChildOutcome(Synced, table=True):
    __tablename__ = "child_outcome"
    ENTITY: ClassVar[str] = "child_outcome"
    conference_id: str = _fk("conference.id")
    child_id: str = Field(max_length=36)
    plan: bool = Field(default=False)
    category: PlanCategory | None = _enum(PlanCategory, nullable=True)
    lead_worker: str = Field(default="", max_length=120)
    core_group_on: date | None = Field(default=None)
    contingency: str = _text()
    next_review_on: date | None = Field(default=None)
    dissent: str = _text()


class Report(Synced, table=True):
    __tablename__ = "report"
    ENTITY: ClassVar[str] = "report"
    conference_id: str = _fk("conference.id")
    title: str = Field(max_length=200)
    author_name: str = Field(default="", max_length=200)
    agency: str = Field(default="", max_length=200)
    completed_at: datetime | None = _when(nullable=True)
    sent_to_qau_at: datetime | None = _when(nullable=True)
    qau_reason: QauReason | None = _enum(QauReason, nullable=True)
    qau_reason_note: str = _text()
    redactions: str = _text()
    redaction_reason: str = _text()


class ReportShare(Synced, table=True):
    __tablename__ = "report_share"
    ENTITY: ClassVar[str] = "report_share"
    report_id: str = _fk("report.id")
    parent_id: str = Field(max_length=36)
    shared_at: datetime = _when()
    method: ShareMethod = _enum(ShareMethod)
    gone_through_together: bool = Field(default=False)
    translated: bool = Field(default=False)
    language: str = Field(default="", max_length=80)


class Outbox(SQLModel, table=True):
    """One row per saved change, written in the same transaction as the change itself."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_record_state", "record_id", "state"),)
    change_id: str = Field(primary_key=True, max_length=36)
    device_seq: int = Field(unique=True)
    entity: str = Field(max_length=40)
    record_id: str = Field(max_length=36)
    op: str = Field(max_length=16)
    base_rev: int | None = Field(default=None)
    base_change_id: str | None = Field(default=None, max_length=36)
    fields: str = _text("{}")
    payload_sha256: str = Field(max_length=64)
    client_time: datetime = _when()
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = Field(default=0)
    last_error: str = _text()
    result: str = _text()
    resolves: str = _text("[]")  # JSON list of the conflict ids this change resolves
    done_at: datetime | None = _when(nullable=True)  # the service stored it (the sent log)


class SyncMeta(SQLModel, table=True):
    """This device's identity and counters (one row)."""

    __tablename__ = "sync_meta"
    id: int = Field(default=1, primary_key=True)
    device_id: str = Field(max_length=36)
    next_device_seq: int = Field(default=1)
    server_url: str = Field(default="", max_length=400)
    server_epoch: str = Field(default="", max_length=64)
    cursor: str = _text()
    clock_offset_s: float = Field(default=0.0)
    last_success_at: datetime | None = _when(nullable=True)
    username: str = Field(default="", max_length=120)
    role: str = Field(default="worker", max_length=16)
    server_username: str = Field(default="", max_length=120)
    ca_file: str = _text()
    registered_url: str = Field(default="", max_length=400)
    sync_lock_owner: str = Field(default="", max_length=64)
    sync_lock_until: datetime | None = _when(nullable=True)


SYNCED_TABLES: tuple[type[Synced], ...] = (
    Case,
    Person,
    Assessment,
    Entry,
    Score,
    ChildVoice,
    Conference,
    Attendee,
    FamilyPlanItem,
    ChildOutcome,
    Report,
    ReportShare,
)
ENTITY_TABLES: dict[str, type[Synced]] = {t.ENTITY: t for t in SYNCED_TABLES}
_ = Column  # re-exported for callers that build ad-hoc columns


# --- Sync bookkeeping (schema version 3, migrations/0003_sync.sql) ---------------------------
# `Outbox` gained `resolves` (conflicts a resolution closes) and `done_at` (when the service
# stored it; done rows are the sent log, kept 30 days). `SyncMeta` gained the sync lock and
# where and as whom this device signs in.


class Shadow(SQLModel, table=True):
    """The last version the service confirmed for each record: the "theirs" side of a
    conflict and the base of a merge. Pull writes here even when the working row has unsent
    changes; it never writes over those."""

    __tablename__ = "shadow"
    record_id: str = Field(primary_key=True, max_length=36)
    entity: str = Field(max_length=40)
    case_id: str = Field(default="", max_length=36, index=True)
    rev: int
    deleted: bool = Field(default=False)
    data: str = _text("{}")


class LocalConflict(SQLModel, table=True):
    """A conflict the service recorded, mirrored here with both full versions until a person
    resolves it (never dismissed automatically)."""

    __tablename__ = "sync_conflict"
    conflict_id: str = Field(primary_key=True, max_length=36)
    entity: str = Field(max_length=40)
    record_id: str = Field(max_length=36, index=True)
    case_id: str = Field(default="", max_length=36)
    status: str = Field(default="open", max_length=10, index=True)  # open | resolved
    kind: str = Field(default="hard", max_length=8)  # hard | soft (a merge note, resolved)
    base_rev: int | None = Field(default=None)
    current_rev: int | None = Field(default=None)
    theirs_rev: int | None = Field(default=None)
    theirs: str = _text("{}")
    mine: str = _text("{}")
    mine_is_local: bool = Field(default=False)
    incoming_change_id: str | None = Field(default=None, max_length=36)
    incoming_op: str = Field(default="update", max_length=16)
    author: str = Field(default="", max_length=120)
    client_time: datetime | None = _when(nullable=True)
    detected_at: datetime | None = _when(nullable=True)
    noticed_at: datetime = _when()
    resolution_change_id: str | None = Field(default=None, max_length=36)
    resolved_at: datetime | None = _when(nullable=True)


class RevokedCase(SQLModel, table=True):
    """A case that left this worker's scope; its rows go once their changes are stored."""

    __tablename__ = "revoked_case"
    case_id: str = Field(primary_key=True, max_length=36)
    revoked_at: datetime = _when()


# --- Imported QA Unit logs (schema version 4, migrations/0004_qau_log.sql) -------------------
# Conferences from the QA Unit's spreadsheets, kept for the statistics only: they belong to no
# case, hold no names and stay on this device (not synced, so no sync columns or outbox rows).


class QauLogImport(SQLModel, table=True):
    """One imported file: when, by whom, and how many conferences it brought."""

    __tablename__ = "qau_log_import"
    id: str = Field(primary_key=True, max_length=36)
    imported_at: datetime = _when()
    imported_by: str = Field(default="", max_length=120)
    source_name: str = Field(default="", max_length=200)
    conferences: int = Field(default=0)


class QauLogConference(SQLModel, table=True):
    """One conference of a QA Unit log; `source_id` is the log's own conference id."""

    __tablename__ = "qau_log_conference"
    id: str = Field(primary_key=True, max_length=36)
    import_id: str = _fk("qau_log_import.id")
    source_id: str = Field(max_length=100, unique=True)
    starts_at: datetime = Field(default=None, sa_type=UTCDateTime, index=True)
    start_time_known: bool = Field(default=False)
    kind: ConferenceKind = _enum(ConferenceKind)
    gp_invited: GPInvited = _enum(GPInvited)
    gp_outcome: GPOutcome = _enum(GPOutcome)


class QauLogReport(SQLModel, table=True):
    """A report named in a QA Unit log row: its agency, and when it reached the parents and
    the QA Unit (None: not recorded, which counts as missing once the deadline has passed)."""

    __tablename__ = "qau_log_report"
    id: str = Field(primary_key=True, max_length=36)
    conference_id: str = _fk("qau_log_conference.id")
    agency: str = Field(default="", max_length=200)
    shared_at: datetime | None = _when(nullable=True)
    sent_to_qau_at: datetime | None = _when(nullable=True)
