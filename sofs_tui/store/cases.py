"""Units of work for cases and the people on them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import select

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.enums import CaseStatus, PersonKind, PlanCategory
from sofs_tui.store import changes
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Case, Person


class DuplicateReference(StoreError):
    def __init__(self, reference: str) -> None:
        super().__init__(
            f"A case with reference {reference} already exists. Open that case, or use "
            "another reference."
        )


def create_case(
    store: Store,
    *,
    reference: str,
    family_name: str,
    lead_worker: str = "",
    team: str = "",
    opened_on: date | None = None,
) -> Case:
    """A new case (a family), led by `lead_worker` (default: whoever is signed in)."""
    reference = reference.strip()
    if not reference or not family_name.strip():
        raise StoreError("A case needs a reference and a family name.")
    with store.write() as session:
        clash = session.exec(select(Case.id).where(Case.reference == reference)).first()
        if clash is not None:
            raise DuplicateReference(reference)
        case = Case(
            id="",
            reference=reference,
            family_name=family_name.strip(),
            lead_worker=lead_worker or store.actor.username,
            team=team,
            opened_on=opened_on or store.now().date(),
        )
        return changes.create(session, store, case)


def update_case(store: Store, case_id: str, **fields: Any) -> Case:
    """Change the family's own details (reference, family name, team, lead worker, open or
    closed). Closing a case records the day it closed; opening it again clears that day."""
    for name in ("reference", "family_name"):
        if name in fields:
            fields[name] = str(fields[name]).strip()
            if not fields[name]:
                raise StoreError("A case needs a reference and a family name.")
    with store.write() as session:
        case = changes.get(session, Case, case_id, "case")
        reference = fields.get("reference")
        if reference is not None and reference != case.reference:
            clash = session.exec(
                select(Case.id).where(Case.reference == reference, Case.id != case_id)
            ).first()
            if clash is not None:
                raise DuplicateReference(reference)
        status = CaseStatus(fields["status"]) if "status" in fields else None
        if status is not None and status is not case.status:
            fields["status"] = status
            if status is CaseStatus.CLOSED:
                fields.setdefault("closed_on", store.now().astimezone(COUNCIL_TZ).date())
            else:
                fields.setdefault("closed_on", None)
        changes.update(session, store, case, **fields)
        return case


def add_person(store: Store, case_id: str, *, kind: PersonKind, name: str, **fields: Any) -> Person:
    """A child, adult, safety-network member or professional on a case."""
    if not name.strip():
        raise StoreError("Give the person's name (or how the family refers to them).")
    with store.write() as session:
        changes.get(session, Case, case_id, "case")
        person = Person(id="", case_id=case_id, kind=kind, name=name.strip())
        fields = _checked_plan(store, person, fields)
        for field, value in fields.items():
            setattr(person, field, value)
        return changes.create(session, store, person)


def update_person(store: Store, person_id: str, **fields: Any) -> Person:
    with store.write() as session:
        person = changes.get(session, Person, person_id, "person")
        changes.update(session, store, person, **_checked_plan(store, person, fields))
        return person


#: A child's protection plan as recorded by hand (a conference outcome records it too).
PLAN_FIELDS = ("plan_category_initial", "plan_category_latest", "plan_start", "plan_end")


class PlanRuleError(StoreError):
    """A child's plan as typed does not hold together; the message says what to give."""


def plan_problems(
    *,
    initial: PlanCategory | None,
    latest: PlanCategory | None,
    start: date | None,
    end: date | None,
    today: date,
) -> dict[str, str]:
    """What is wrong with a child's plan (field name → message); empty when it holds.

    A plan has a start and the category it started with (the initial one); the latest may
    differ after a review (and is the initial one when left out). No category without a
    start, no end before the start, and no dates still to come.
    """
    found: dict[str, str] = {}
    if start is None:
        if initial is not None or latest is not None or end is not None:
            found["plan_start"] = "Give the date the plan started (or choose no category)."
        return found
    if start > today:
        found["plan_start"] = "A plan start cannot be in the future."
    if initial is None:
        found["plan_category_initial"] = "Choose the category the plan started with."
    if end is not None and end < start:
        found["plan_end"] = "A plan cannot end before it started."
    elif end is not None and end > today:
        found["plan_end"] = "A plan end cannot be in the future: record it once it has ended."
    return found


def _checked_plan(store: Store, person: Person, fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with the plan rules kept: only a child has a plan, and a changed plan must
    hold together (a plan left as it was is not checked again)."""
    if not any(name in fields for name in PLAN_FIELDS):
        return fields
    kind = PersonKind(fields.get("kind", person.kind))
    plan = {name: fields.get(name, getattr(person, name)) for name in PLAN_FIELDS}
    if plan["plan_category_latest"] is None and plan["plan_category_initial"] is not None:
        plan["plan_category_latest"] = plan["plan_category_initial"]
    if all(plan[name] == getattr(person, name) for name in PLAN_FIELDS):
        return fields | plan
    if kind is not PersonKind.CHILD:
        if any(value is not None for value in plan.values()):
            raise PlanRuleError("Only a child has a child protection plan.")
        return fields | plan
    problems = plan_problems(
        initial=plan["plan_category_initial"],
        latest=plan["plan_category_latest"],
        start=plan["plan_start"],
        end=plan["plan_end"],
        today=store.now().astimezone(COUNCIL_TZ).date(),
    )
    if problems:
        raise PlanRuleError(" ".join(problems.values()))
    return fields | plan


def remove_person(store: Store, person_id: str) -> None:
    with store.write() as session:
        changes.tombstone(session, store, changes.get(session, Person, person_id, "person"))
