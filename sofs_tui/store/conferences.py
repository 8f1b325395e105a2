"""Units of work for conferences: invitees, GP involvement, family plans, outcomes, reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from sofs_tui.domain.calendar import WorkingCalendar, default_calendar
from sofs_tui.domain.conference import FamilyPlanTask, follow_up_dates
from sofs_tui.domain.enums import (
    Attendance,
    ConferenceKind,
    ConferenceModel,
    GPInvited,
    GPOutcome,
    PersonKind,
    PlanCategory,
    QauReason,
    ShareMethod,
)
from sofs_tui.domain.gp import (
    attendance_of_gp,
    gp_outcome_of_attendance,
    invited_when_on_the_list,
)
from sofs_tui.domain.positions import position_between
from sofs_tui.domain.reports import (
    SENT_IN_FUTURE,
    SHARED_IN_FUTURE,
    SharingRuleError,
    check_can_send_to_qau,
    future_time_problem,
)
from sofs_tui.store import changes
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Attendee,
    Case,
    ChildOutcome,
    Conference,
    FamilyPlanItem,
    Person,
    Report,
    ReportShare,
)


class ConferenceRuleError(StoreError):
    """A conference rule refused the change; the message says what to do."""


def schedule_conference(
    store: Store,
    case_id: str,
    *,
    kind: ConferenceKind,
    starts_at: datetime,
    model: ConferenceModel = ConferenceModel.STANDARD,
    chair: str = "",
    location: str = "",
    strategy_discussion_on: date | None = None,
) -> Conference:
    if starts_at.tzinfo is None:
        raise ConferenceRuleError("Give the conference time with its time zone.")
    with store.write() as session:
        changes.get(session, Case, case_id, "case")
        conference = Conference(
            id="",
            case_id=case_id,
            kind=kind,
            model=model,
            starts_at=starts_at,
            chair=chair,
            location=location,
            strategy_discussion_on=strategy_discussion_on,
        )
        return changes.create(session, store, conference)


def update_conference(store: Store, conference_id: str, **fields: Any) -> Conference:
    starts_at = fields.get("starts_at")
    if isinstance(starts_at, datetime) and starts_at.tzinfo is None:
        raise ConferenceRuleError("Give the conference time with its time zone.")
    with store.write() as session:
        conference = changes.get(session, Conference, conference_id, "conference")
        changes.update(session, store, conference, **fields)
        return conference


def invite(
    store: Store,
    conference_id: str,
    *,
    name: str,
    role: str = "",
    agency: str = "",
    person_id: str | None = None,
) -> Attendee:
    """Add someone to the invitee list. Inviting the case's GP records "GP invited: Yes" for
    the QA Unit, unless the GP's invitation is already recorded."""
    with store.write() as session:
        conference = changes.get(session, Conference, conference_id, "conference")
        attendee = Attendee(
            id="",
            conference_id=conference_id,
            person_id=person_id,
            name=name,
            role=role,
            agency=agency,
        )
        attendee = changes.create(session, store, attendee)
        if _is_the_case_gp(session, conference, person_id):
            invited = invited_when_on_the_list(conference.gp_invited)
            changes.update(session, store, conference, gp_invited=invited)
        return attendee


def _is_the_case_gp(session: Session, conference: Conference, person_id: str | None) -> bool:
    """Whether `person_id` is a live GP recorded on the conference's case."""
    if person_id is None:
        return False
    person = session.get(Person, person_id)
    return (
        person is not None
        and not person.deleted
        and person.is_gp
        and person.case_id == conference.case_id
    )


def _gp_rows(session: Session, conference: Conference) -> list[Attendee]:
    """The conference's invitee rows for the case's GP."""
    rows = session.exec(
        select(Attendee).where(
            Attendee.conference_id == conference.id, col(Attendee.deleted).is_(False)
        )
    ).all()
    return [a for a in rows if _is_the_case_gp(session, conference, a.person_id)]


def record_attendance(store: Store, attendee_id: str, attendance: Attendance) -> Attendee:
    """Who came. For the case's GP the conference's GP outcome follows when the attendance
    says it in the QA Unit's words and none is recorded yet (the screen asks for the GP's
    categories directly: `record_gp_involvement`)."""
    with store.write() as session:
        attendee = changes.get(session, Attendee, attendee_id, "invitee")
        changes.update(session, store, attendee, attendance=attendance)
        conference = changes.get(session, Conference, attendee.conference_id, "conference")
        if _is_the_case_gp(session, conference, attendee.person_id):
            fields: dict[str, Any] = {"gp_invited": invited_when_on_the_list(conference.gp_invited)}
            if conference.gp_outcome is None:
                fields["gp_outcome"] = gp_outcome_of_attendance(attendance)
            changes.update(session, store, conference, **fields)
        return attendee


def record_gp_involvement(
    store: Store,
    conference_id: str,
    *,
    invited: GPInvited | None,
    outcome: GPOutcome | None,
) -> Conference:
    """The GP's invitation and what the GP did, in the QA Unit's categories. The GP's row on
    the invitee list, if the GP is on it, shows the same attendance."""
    with store.write() as session:
        conference = changes.get(session, Conference, conference_id, "conference")
        changes.update(session, store, conference, gp_invited=invited, gp_outcome=outcome)
        for row in _gp_rows(session, conference):
            changes.update(session, store, row, attendance=attendance_of_gp(outcome))
        return conference


def add_family_plan_task(store: Store, conference_id: str, task: FamilyPlanTask) -> FamilyPlanItem:
    problems = task.problems()
    if problems:
        raise ConferenceRuleError(" ".join(problems))
    with store.write() as session:
        conference = changes.get(session, Conference, conference_id, "conference")
        if conference.model is not ConferenceModel.FAMILIES_FIRST:
            raise ConferenceRuleError("Family plans belong to Families First conferences.")
        last = session.exec(
            select(FamilyPlanItem.position)
            .where(FamilyPlanItem.conference_id == conference_id)
            .order_by(col(FamilyPlanItem.position).desc())
        ).first()
        item = FamilyPlanItem(
            id="",
            conference_id=conference_id,
            task=task.task,
            who=task.who,
            by_when=task.by_when,
            who_checks=task.who_checks,
            position=position_between(last, None),
        )
        return changes.create(session, store, item)


def update_family_plan_task(store: Store, item_id: str, **fields: Any) -> FamilyPlanItem:
    with store.write() as session:
        item = changes.get(session, FamilyPlanItem, item_id, "family plan task")
        changes.update(session, store, item, **fields)
        return item


def record_child_outcome(
    store: Store,
    conference_id: str,
    *,
    child_id: str,
    plan: bool,
    category: PlanCategory | None = None,
    lead_worker: str = "",
    contingency: str = "",
    dissent: str = "",
    calendar: WorkingCalendar | None = None,
) -> ChildOutcome:
    """The decision for one child; the core group and next review dates are computed, and the
    child's plan categories and dates follow (initial stays the first one recorded)."""
    if plan and category is None:
        raise ConferenceRuleError("A child protection plan needs a category.")
    with store.write() as session:
        conference = changes.get(session, Conference, conference_id, "conference")
        child = changes.get(session, Person, child_id, "child")
        if child.case_id != conference.case_id or child.kind is not PersonKind.CHILD:
            raise ConferenceRuleError("That child is not on this conference's case.")
        held_on = conference.starts_at.astimezone((calendar or default_calendar()).tz).date()
        dates = follow_up_dates(conference.kind, held_on, calendar or default_calendar())
        fields: dict[str, Any] = {
            "plan": plan,
            "category": category if plan else None,
            "lead_worker": lead_worker or store.actor.username,
            "contingency": contingency,
            "dissent": dissent,
            "core_group_on": dates.core_group_by if plan else None,
            "next_review_on": dates.next_review_by if plan else None,
        }
        existing = session.exec(
            select(ChildOutcome).where(
                ChildOutcome.conference_id == conference_id,
                ChildOutcome.child_id == child_id,
                col(ChildOutcome.deleted).is_(False),
            )
        ).first()
        if existing is not None:
            changes.update(session, store, existing, **fields)
            outcome = existing
        else:
            outcome = changes.create(
                session,
                store,
                ChildOutcome(id="", conference_id=conference_id, child_id=child_id, **fields),
            )
        _follow_plan(session, store, child, plan, category, held_on)
        return outcome


def _follow_plan(
    session: Session,
    store: Store,
    child: Person,
    plan: bool,
    category: PlanCategory | None,
    held_on: date,
) -> None:
    edits: dict[str, Any] = {}
    if plan:
        if child.plan_start is None or child.plan_end is not None:
            edits |= {"plan_start": held_on, "plan_end": None, "plan_category_initial": category}
        edits["plan_category_latest"] = category
    elif child.plan_start is not None and child.plan_end is None:
        edits["plan_end"] = held_on
    if edits:
        changes.update(session, store, child, **edits)


def add_report(
    store: Store,
    conference_id: str,
    *,
    title: str,
    author_name: str,
    agency: str,
    completed_at: datetime | None = None,
) -> Report:
    with store.write() as session:
        changes.get(session, Conference, conference_id, "conference")
        report = Report(
            id="",
            conference_id=conference_id,
            title=title,
            author_name=author_name,
            agency=agency,
            completed_at=completed_at,
        )
        return changes.create(session, store, report)


def record_report_shared_with_parent(
    store: Store,
    report_id: str,
    *,
    parent_id: str,
    shared_at: datetime,
    method: ShareMethod,
    gone_through_together: bool,
    translated: bool = False,
    language: str = "",
) -> ReportShare:
    """One line of the sharing log: this parent saw this report, when, how."""
    if shared_at.tzinfo is None:
        raise ConferenceRuleError("Give the sharing time with its time zone.")
    _happened(store, shared_at, SHARED_IN_FUTURE)
    if translated and not language.strip():
        raise ConferenceRuleError("Say which language the report was translated into.")
    with store.write() as session:
        report = changes.get(session, Report, report_id, "report")
        conference = changes.get(session, Conference, report.conference_id, "conference")
        parent = changes.get(session, Person, parent_id, "parent")
        if parent.case_id != conference.case_id or parent.kind is not PersonKind.ADULT:
            raise ConferenceRuleError("Reports are shared with the parents or carers on this case.")
        share = ReportShare(
            id="",
            report_id=report_id,
            parent_id=parent_id,
            shared_at=shared_at,
            method=method,
            gone_through_together=gone_through_together,
            translated=translated,
            language=language,
        )
        return changes.create(session, store, share)


def _happened(store: Store, when: datetime, what_to_do: str) -> None:
    """Refuse a moment that has not happened yet (beyond a few minutes of clock skew): a
    future time would count as done on time and take the report off the deadlines."""
    problem = future_time_problem(when, store.now(), what_to_do)
    if problem is not None:
        raise ConferenceRuleError(problem)


def remove_report_share(store: Store, share_id: str) -> ReportShare:
    """Take back one line of a report's sharing log recorded by mistake (a tombstone that sync
    carries). The report counts as not shared with that parent again. Refused when it is the
    only sharing behind a report already marked sent to the QA Unit without a reason."""
    with store.write() as session:
        share = changes.get(session, ReportShare, share_id, "sharing record")
        report = changes.get(session, Report, share.report_id, "report")
        others = session.exec(
            select(ReportShare.id).where(
                ReportShare.report_id == report.id,
                ReportShare.id != share.id,
                col(ReportShare.deleted).is_(False),
            )
        ).all()
        if report.sent_to_qau_at is not None and report.qau_reason is None and not others:
            raise ConferenceRuleError(
                "This report is marked sent to the QA Unit and this is its only sharing record. "
                "Clear the sent-to-QAU time first, then remove the sharing record."
            )
        changes.tombstone(session, store, share)
        return share


def clear_report_sent_to_qau(store: Store, report_id: str) -> Report:
    """Undo a mistaken "sent to the QA Unit": the time, and the reason it went without
    sharing (that reason belonged to the sending). The report is due (or overdue) again."""
    with store.write() as session:
        report = changes.get(session, Report, report_id, "report")
        if report.sent_to_qau_at is None:
            raise ConferenceRuleError("This report is not marked sent to the QA Unit.")
        changes.update(
            session, store, report, sent_to_qau_at=None, qau_reason=None, qau_reason_note=""
        )
        return report


def mark_report_sent_to_qau(
    store: Store,
    report_id: str,
    *,
    sent_at: datetime,
    reason: QauReason | None = None,
    reason_note: str = "",
) -> Report:
    """Record the report's sending to the QA Unit; refused without a parent-sharing record or
    a recorded reason (DOMAIN.md)."""
    if sent_at.tzinfo is None:
        raise ConferenceRuleError("Give the sending time with its time zone.")
    _happened(store, sent_at, SENT_IN_FUTURE)
    with store.write() as session:
        report = changes.get(session, Report, report_id, "report")
        shares = session.exec(
            select(ReportShare.id).where(
                ReportShare.report_id == report_id, col(ReportShare.deleted).is_(False)
            )
        ).all()
        try:
            check_can_send_to_qau(len(shares), reason, reason_note)
        except SharingRuleError as exc:
            raise ConferenceRuleError(str(exc)) from exc
        changes.update(
            session,
            store,
            report,
            sent_to_qau_at=sent_at,
            qau_reason=reason,
            qau_reason_note=reason_note,
        )
        return report


def record_redaction(store: Store, report_id: str, *, redactions: str, reason: str) -> Report:
    if redactions.strip() and not reason.strip():
        raise ConferenceRuleError("Say why these passages are redacted.")
    with store.write() as session:
        report = changes.get(session, Report, report_id, "report")
        changes.update(session, store, report, redactions=redactions, redaction_reason=reason)
        return report


def record_families_first(
    store: Store,
    conference_id: str,
    *,
    preparation_on: date | None,
    preparation_note: str,
    private_family_time: bool | None,
) -> Conference:
    """The Families First stages: the family preparation meeting (date and a note) and
    whether the family had private family time (None: not recorded yet)."""
    if preparation_note.strip() and preparation_on is None:
        raise ConferenceRuleError("Give the date of the family preparation meeting.")
    with store.write() as session:
        conference = changes.get(session, Conference, conference_id, "conference")
        if conference.model is not ConferenceModel.FAMILIES_FIRST:
            raise ConferenceRuleError(
                "Family preparation and private family time belong to Families First "
                "conferences. Change the conference's model first."
            )
        changes.update(
            session,
            store,
            conference,
            family_preparation_on=preparation_on,
            family_preparation_note=preparation_note,
            private_family_time=private_family_time,
        )
        return conference


def update_report(
    store: Store,
    report_id: str,
    *,
    title: str,
    author_name: str,
    agency: str,
    completed_at: datetime | None,
) -> Report:
    """Correct a report's title, author, agency or completion time."""
    if not title.strip():
        raise ConferenceRuleError("Give the report a title.")
    if completed_at is not None and completed_at.tzinfo is None:
        raise ConferenceRuleError("Give the completion time with its time zone.")
    with store.write() as session:
        report = changes.get(session, Report, report_id, "report")
        changes.update(
            session,
            store,
            report,
            title=title,
            author_name=author_name,
            agency=agency,
            completed_at=completed_at,
        )
        return report
