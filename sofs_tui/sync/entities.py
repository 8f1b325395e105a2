"""What each synced record may hold: its fields, their kinds, and how it links to a case.

Shared by the client and the service (the service never imports the client's tables), so a
field that exists on one side and not the other fails the tests, not a worker's sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sofs_tui.domain import enums
from sofs_tui.domain.text import forbidden_characters

MAX_TEXT = 20_000  # one entry or note; a whole report lives in the council's document system
MAX_LINE = 400


@dataclass(frozen=True)
class Field:
    kind: str  # text | line | int | float | bool | date | datetime | id | enum
    enum: type[StrEnum] | None = None
    nullable: bool = False


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: dict[str, Field]
    parent: tuple[str, str] | None  # (field, entity) that leads towards the case; None = case


def _f(kind: str, enum: type[StrEnum] | None = None, nullable: bool = False) -> Field:
    return Field(kind, enum, nullable)


_LINE, _TEXT, _BOOL, _ID = _f("line"), _f("text"), _f("bool"), _f("id")
_DATE, _WHEN = _f("date", nullable=True), _f("datetime", nullable=True)

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec(
            "case",
            {
                "reference": _LINE, "family_name": _LINE, "lead_worker": _LINE, "team": _LINE,
                "status": _f("enum", enums.CaseStatus), "opened_on": _DATE, "closed_on": _DATE,
            },
            None,
        ),
        EntitySpec(
            "person",
            {
                "case_id": _ID, "kind": _f("enum", enums.PersonKind), "name": _LINE,
                "relationship": _LINE, "date_of_birth": _DATE, "expected_on": _DATE,
                "parental_responsibility": _BOOL,
                "plan_category_initial": _f("enum", enums.PlanCategory, nullable=True),
                "plan_category_latest": _f("enum", enums.PlanCategory, nullable=True),
                "plan_start": _DATE, "plan_end": _DATE, "role": _LINE, "agency": _LINE,
                "is_gp": _BOOL, "gp_practice": _LINE,
            },
            ("case_id", "case"),
        ),
        EntitySpec(
            "assessment",
            {
                "case_id": _ID, "title": _LINE, "status": _f("enum", enums.AssessmentStatus),
                "zero_wording": _TEXT, "ten_wording": _TEXT, "signed_off_by": _LINE,
                "signed_off_at": _WHEN, "reopened_by": _LINE, "reopened_at": _WHEN,
                "reopen_reason": _TEXT,
            },
            ("case_id", "case"),
        ),
        EntitySpec(
            "entry",
            {
                "assessment_id": _ID, "section": _f("enum", enums.Section), "text": _TEXT,
                "source": _LINE, "agreement": _f("enum", enums.Agreement), "disputed_by": _LINE,
                "position": _LINE, "goal_for_id": _f("id", nullable=True),
                "audience": _f("enum", enums.Audience),
            },
            ("assessment_id", "assessment"),
        ),
        EntitySpec(
            "score",
            {
                "assessment_id": _ID, "danger_statement_id": _f("id", nullable=True),
                "scorer_name": _LINE, "scorer_role": _LINE, "value": _f("int"),
                "rationale": _TEXT, "zero_wording": _TEXT, "ten_wording": _TEXT,
                "scored_on": _DATE,
            },
            ("assessment_id", "assessment"),
        ),
        EntitySpec(
            "child_voice",
            {
                "case_id": _ID, "child_id": _ID, "tool": _f("enum", enums.ChildVoiceTool),
                "part": _LINE, "text": _TEXT, "written_by": _LINE, "recorded_on": _DATE,
                "consent_to_share": _BOOL, "consent_note": _TEXT,
            },
            ("case_id", "case"),
        ),
        EntitySpec(
            "conference",
            {
                "case_id": _ID, "kind": _f("enum", enums.ConferenceKind),
                "model": _f("enum", enums.ConferenceModel), "starts_at": _f("datetime"),
                "chair": _LINE, "location": _LINE, "status": _f("enum", enums.ConferenceStatus),
                "strategy_discussion_on": _DATE,
                "gp_invited": _f("enum", enums.GPInvited, nullable=True),
                "gp_outcome": _f("enum", enums.GPOutcome, nullable=True),
                "family_preparation_on": _DATE, "family_preparation_note": _TEXT,
                "private_family_time": _f("bool", nullable=True),
            },
            ("case_id", "case"),
        ),
        EntitySpec(
            "attendee",
            {
                "conference_id": _ID, "person_id": _f("id", nullable=True), "name": _LINE,
                "role": _LINE, "agency": _LINE, "invited": _BOOL,
                "attendance": _f("enum", enums.Attendance),
            },
            ("conference_id", "conference"),
        ),
        EntitySpec(
            "family_plan_item",
            {
                "conference_id": _ID, "task": _TEXT, "who": _LINE, "by_when": _DATE,
                "who_checks": _LINE, "position": _LINE, "done": _BOOL,
            },
            ("conference_id", "conference"),
        ),
        EntitySpec(
            "child_outcome",
            {
                "conference_id": _ID, "child_id": _ID, "plan": _BOOL,
                "category": _f("enum", enums.PlanCategory, nullable=True), "lead_worker": _LINE,
                "core_group_on": _DATE, "contingency": _TEXT, "next_review_on": _DATE,
                "dissent": _TEXT,
            },
            ("conference_id", "conference"),
        ),
        EntitySpec(
            "report",
            {
                "conference_id": _ID, "title": _LINE, "author_name": _LINE, "agency": _LINE,
                "completed_at": _WHEN, "sent_to_qau_at": _WHEN,
                "qau_reason": _f("enum", enums.QauReason, nullable=True),
                "qau_reason_note": _TEXT, "redactions": _TEXT, "redaction_reason": _TEXT,
            },
            ("conference_id", "conference"),
        ),
        EntitySpec(
            "report_share",
            {
                "report_id": _ID, "parent_id": _ID, "shared_at": _f("datetime"),
                "method": _f("enum", enums.ShareMethod), "gone_through_together": _BOOL,
                "translated": _BOOL, "language": _LINE,
            },
            ("report_id", "report"),
        ),
    )
}  # fmt: skip

#: Fields that may appear in any change (the tombstone flag).
COMMON_FIELDS = {"deleted": _BOOL}


def field_problems(entity: str, fields: dict[str, Any]) -> list[str]:
    """Why these field values cannot be stored (empty when they can). Never echoes values."""
    spec = ENTITIES.get(entity)
    if spec is None:
        return [f"unknown entity {entity!r}"]
    problems: list[str] = []
    for name, value in fields.items():
        field = spec.fields.get(name) or COMMON_FIELDS.get(name)
        if field is None:
            problems.append(f"{entity} has no field {name!r}")
            continue
        problem = _value_problem(field, value)
        if problem:
            problems.append(f"{entity}.{name}: {problem}")
    return problems


def _value_problem(field: Field, value: Any) -> str | None:
    if value is None:
        return None if field.nullable or field.kind in ("date", "datetime") else "is required"
    kind = field.kind
    if kind in ("text", "line", "id"):
        if not isinstance(value, str):
            return "must be text"
        limit = {"text": MAX_TEXT, "line": MAX_LINE, "id": 36}[kind]
        if len(value) > limit:
            return f"longer than {limit} characters"
        if forbidden_characters(value, multiline=kind == "text"):
            return "contains control or direction-changing characters"
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "must be a whole number"
    if kind == "enum":
        assert field.enum is not None
        return None if value in _values(field.enum) else "is not one of the allowed values"
    if kind == "date":
        return _parse(date.fromisoformat, value)
    if kind == "datetime":
        problem = _parse(datetime.fromisoformat, value)
        if problem is None and datetime.fromisoformat(value).tzinfo is None:
            return "needs a time zone"
        return problem
    return f"unknown kind {kind}"


@cache
def _values(enum: type[StrEnum]) -> frozenset[str]:
    """An enum's stored values (a push checks thousands of fields: look them up once)."""
    return frozenset(member.value for member in enum)


def _parse(parser: Any, value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be an ISO 8601 string"
    try:
        parser(value)
    except ValueError:
        return "is not a valid ISO 8601 value"
    return None
