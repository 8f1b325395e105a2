"""How the case screen words its rows: people, mappings, conferences, the timeline and the
side summary. Pure presentation of the case read model; user text always as plain `Text`."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from rich.text import Text

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.enums import AssessmentStatus, ConferenceStatus, PersonKind
from sofs_tui.widgets.deadline import deadline_text, when
from sofs_tui.widgets.plain import safe_text

if TYPE_CHECKING:
    from sofs_tui.store.case_views import (
        AssessmentView,
        CaseDetail,
        ConferenceView,
        PersonView,
        TimelineEvent,
    )

WHO = {
    PersonKind.CHILD: "Child",
    PersonKind.ADULT: "Adult",
    PersonKind.NETWORK: "Network",
    PersonKind.PROFESSIONAL: "Professional",
}
PEOPLE_COLUMNS = ("Who", "Name", "Details", "Plan")
ASSESSMENT_COLUMNS = ("Title", "Status", "Entries", "Changed")
CONFERENCE_COLUMNS = ("When", "Kind", "Model", "Status", "Nearest deadline", "Chair")
TIMELINE_COLUMNS = ("Date", "What")
_STATUS = {
    ConferenceStatus.PLANNED: "○ Planned",
    ConferenceStatus.HELD: "✓ Held",
    ConferenceStatus.CANCELLED: "✗ Cancelled",
}
_TARGET = {"parents": "parents", "qau": "QAU"}


def day(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else "-"


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def person_details(person: PersonView, today: date) -> Text:
    """What matters about this kind of person, in a few words."""
    if person.kind is PersonKind.CHILD:
        if person.date_of_birth:
            return Text(f"born {day(person.date_of_birth)} ({_age(person.date_of_birth, today)})")
        if person.expected_on:
            return Text(f"expected {day(person.expected_on)}")
        return Text("date of birth not recorded")
    if person.kind is PersonKind.ADULT:
        responsibility = (
            "parental responsibility"
            if person.parental_responsibility
            else "no parental responsibility"
        )
        if person.relationship:
            return Text.assemble(safe_text(person.relationship), f" · {responsibility}")
        return Text(responsibility)
    if person.kind is PersonKind.NETWORK:
        return safe_text(person.relationship or "-")
    if person.is_gp:
        return Text.assemble("GP · ", safe_text(person.gp_practice or "practice not recorded"))
    parts = [safe_text(p) for p in (person.role, person.agency) if p]
    return Text(" · ").join(parts) if parts else Text("-")


def person_plan(person: PersonView) -> Text:
    """'NEG → PHY since 02 Nov 2026': initial and latest category, and the plan's dates."""
    if person.kind is not PersonKind.CHILD or person.plan_start is None:
        return Text("-")
    initial = person.plan_category_initial.value if person.plan_category_initial else "?"
    latest = person.plan_category_latest.value if person.plan_category_latest else initial
    categories = initial if latest == initial else f"{initial} → {latest}"
    if person.plan_end is not None:
        return Text(f"{categories} {day(person.plan_start)} – {day(person.plan_end)} (ended)")
    return Text(f"{categories} since {day(person.plan_start)}")


def person_row(person: PersonView, today: date) -> list[Text]:
    return [
        Text(WHO[person.kind]),
        safe_text(person.name),
        person_details(person, today),
        person_plan(person),
    ]


def assessment_row(assessment: AssessmentView) -> list[Text]:
    if assessment.status is AssessmentStatus.FINAL:
        by = f" by {assessment.signed_off_by}" if assessment.signed_off_by else ""
        status = Text.assemble("✓ Signed off ", when(assessment.signed_off_at), safe_text(by))
    else:
        status = Text("✎ Draft")
    return [
        safe_text(assessment.title),
        status,
        Text(str(assessment.entries)),
        Text(when(assessment.updated_at)),
    ]


def conference_deadline(conference: ConferenceView, now: datetime) -> Text:
    nearest = conference.nearest
    if nearest is None:
        return Text("-")
    return Text.assemble(
        deadline_text(nearest.state, nearest.due, now, short=True),
        f" ({_TARGET.get(nearest.target, nearest.target)})",
    )


def conference_row(conference: ConferenceView, now: datetime) -> list[Text]:
    return [
        Text(when(conference.starts_at)),
        Text(conference.kind.label),
        Text(conference.model.label),
        Text(_STATUS[conference.status]),
        conference_deadline(conference, now),
        safe_text(conference.chair or "-"),
    ]


def timeline_row(event: TimelineEvent) -> list[Text]:
    moment = (
        event.at.astimezone(COUNCIL_TZ).strftime("%d %b %Y %H:%M") if event.at else day(event.on)
    )
    return [Text(moment), safe_text(event.text)]


def case_title(detail: CaseDetail) -> str:
    """One line for the top of the screen (shown through PlainText, so plain)."""
    parts = [detail.reference, detail.family_name]
    if detail.lead_worker:
        parts.append(f"lead {detail.lead_worker}")
    if detail.team:
        parts.append(detail.team)
    return " · ".join(parts)


def case_summary(detail: CaseDetail, now: datetime) -> str:
    """The side panel of the wide layout: the family at a glance (plain text)."""
    lines = [f"{detail.reference}", f"{detail.family_name}", ""]
    lines.append(f"Lead worker: {detail.lead_worker or '-'}")
    lines.append(f"Team: {detail.team or '-'}")
    lines.append(f"Opened: {day(detail.opened_on)}")
    children = detail.of_kind(PersonKind.CHILD)
    lines.append("")
    lines.append("Children:" if children else "Children: none recorded")
    for child in children:
        lines.append(f"  {child.name}: {person_plan(child).plain}")
    planned = [c for c in detail.conferences if c.status is ConferenceStatus.PLANNED]
    if planned:
        upcoming = min(planned, key=lambda c: c.starts_at)
        lines += ["", f"Next conference: {upcoming.kind.label}", f"  {when(upcoming.starts_at)}"]
        if upcoming.nearest is not None:
            lines.append(f"  Reports: {conference_deadline(upcoming, now).plain}")
    gp = [p for p in detail.of_kind(PersonKind.PROFESSIONAL) if p.is_gp]
    if gp:
        lines += ["", f"GP: {gp[0].name}, {gp[0].gp_practice or 'practice not recorded'}"]
    return "\n".join(lines)
