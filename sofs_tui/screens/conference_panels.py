"""What the conference screen shows, as plain Rich `Text` built from the read model: every piece
of user text goes through `safe_text` (cleaned, never markup); states carry a symbol and words."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from sofs_tui.domain.deadlines import DeadlineState
from sofs_tui.domain.enums import (
    Attendance,
    ConferenceModel,
    ConferenceStatus,
    GPOutcome,
    PlanCategory,
    ShareMethod,
)
from sofs_tui.domain.when import describe_day, describe_when
from sofs_tui.widgets.deadline import deadline_text
from sofs_tui.widgets.plain import safe_text

if TYPE_CHECKING:
    from sofs_tui.store.conference_views import (
        ChildOutcomeView,
        ConferenceView,
        InviteeView,
        PlanTaskView,
        ReportView,
        ShareLine,
    )

STATUS_LABELS = {
    ConferenceStatus.PLANNED: "Planned",
    ConferenceStatus.HELD: "Held",
    ConferenceStatus.CANCELLED: "Cancelled",
}
ATTENDANCE_LABELS = {
    Attendance.NOT_RECORDED: "Not recorded",
    Attendance.ATTENDED: "Attended",
    Attendance.APOLOGIES: "Sent apologies",
    Attendance.ABSENT: "Absent",
}
SHARE_METHOD_LABELS = {
    ShareMethod.IN_PERSON: "In person",
    ShareMethod.VIDEO: "Video call",
    ShareMethod.PHONE: "Phone",
    ShareMethod.EMAIL: "Email",
    ShareMethod.POST: "Post",
}
NOT_RECORDED = "Not recorded"


def category_words(category: PlanCategory | None) -> str:
    """ "NEG Neglect": the census code with its label."""
    return "-" if category is None else f"{category.value} {category.label}"


def _field(label: str, value: object, *, multiline: bool = False) -> Text:
    """'Label: value', the label ours (bold), the value the user's (cleaned, literal)."""
    shown = value if value not in (None, "") else "-"
    return Text.assemble((f"{label}: ", "bold"), safe_text(shown, multiline=multiline))


def _lines(lines: list[Text]) -> Text:
    return Text("\n").join(lines)


def overdue_count(view: ConferenceView) -> int:
    """How many report deadlines (to parents, to the QAU) are overdue now."""
    states = [r.parents_state for r in view.reports] + [r.qau_state for r in view.reports]
    return states.count(DeadlineState.OVERDUE)


def title_line(view: ConferenceView) -> Text:
    overdue = overdue_count(view)
    return Text.assemble(
        (f"{view.kind.label} conference", "bold"),
        " · ",
        describe_when(view.starts_at),
        " · ",
        safe_text(view.case_reference),
        " ",
        safe_text(view.family_name),
        f" · ✗ {overdue} deadline{'s' if overdue != 1 else ''} overdue" if overdue else "",
    )


def overview_text(view: ConferenceView) -> Text:
    lines = [
        _field("Kind", view.kind.label),
        _field("Model", view.model.label),
        _field("Date and time", f"{describe_when(view.starts_at)} (London time)"),
        _field("Chair", view.chair),
        _field("Location", view.location),
        _field("Status", STATUS_LABELS[view.status]),
    ]
    if view.strategy_discussion_on is not None:
        lines.append(_field("Strategy discussion", describe_day(view.strategy_discussion_on)))
    lines.append(_field("GP invited", view.gp_invited.label if view.gp_invited else NOT_RECORDED))
    lines.append(_field("GP outcome", view.gp_outcome.label if view.gp_outcome else NOT_RECORDED))
    if view.gp_outcome_missing:
        lines.append(Text(GP_NOT_RECORDED))
    lines.append(Text(""))
    if not view.reports:
        lines.append(Text("No reports yet. Press n to add one."))
    for report in view.reports:
        lines.append(Text.assemble(("Report: ", "bold"), safe_text(report.title)))
        lines.append(
            Text.assemble(
                "  parents ", deadline_text(report.parents_state, report.parents_due, view.now)
            )
        )
        lines.append(
            Text.assemble("  QAU     ", deadline_text(report.qau_state, report.qau_due, view.now))
        )
    lines.extend(families_first_lines(view))
    return _lines(lines)


def families_first_lines(view: ConferenceView) -> list[Text]:
    if view.model is not ConferenceModel.FAMILIES_FIRST:
        return []
    lines = [Text(""), Text("Families First", style="bold")]
    if view.families_first_gaps:
        lines.extend(Text(f"○ {gap}") for gap in view.families_first_gaps)
    else:
        lines.append(Text("✓ Preparation, private family time and the family plan are recorded."))
    return lines


def report_row(report: ReportView, now: datetime, *, short: bool) -> list[Text]:
    return [
        safe_text(report.title),
        safe_text(report.agency or "-"),
        deadline_text(report.parents_state, report.parents_due, now, short=short),
        deadline_text(report.qau_state, report.qau_due, now, short=short),
    ]


def _share_words(report: ReportView) -> list[Text]:
    if not report.shares:
        return [Text("  Not shared with a parent yet.")]
    lines = []
    for share in report.shares:
        translated = (
            Text.assemble("translated into ", safe_text(share.language))
            if share.translated
            else Text("not translated")
        )
        together = "gone through together" if share.gone_through_together else "not gone through"
        lines.append(
            Text.assemble(
                "• ",
                safe_text(share.parent_name),
                f" · {describe_when(share.shared_at)} · ",
                SHARE_METHOD_LABELS[share.method].lower(),
                f" · {together} · ",
                translated,
            )
        )
    return lines


def share_summary(share: ShareLine) -> str:
    """One sharing log line in a few words: "Mum · Wed 25 Nov 2026, 09:30 · email"."""
    method = SHARE_METHOD_LABELS[share.method].lower()
    return f"{share.parent_name} · {describe_when(share.shared_at)} · {method}"


def report_text(report: ReportView, now: datetime) -> Text:
    lines = [
        safe_text(report.title, style="bold"),
        _field("Author", report.author_name),
        _field("Agency", report.agency),
        _field(
            "Completed",
            describe_when(report.completed_at) if report.completed_at else NOT_RECORDED,
        ),
        Text.assemble(
            ("To parents: ", "bold"),
            deadline_text(report.parents_state, report.parents_due, now),
        ),
        Text.assemble(
            ("To QAU:     ", "bold"), deadline_text(report.qau_state, report.qau_due, now)
        ),
        _field(
            "Sent to QAU",
            describe_when(report.sent_to_qau_at) if report.sent_to_qau_at else "Not yet",
        ),
    ]
    if report.qau_reason is not None:
        lines.append(_field("Sent without sharing because", report.qau_reason.label))
        lines.append(_field("Note", report.qau_reason_note, multiline=True))
    lines.append(Text("Sharing log", style="bold"))
    lines.extend(_share_words(report))
    if report.not_yet_shared_with:
        names = Text(", ").join(safe_text(p.name) for p in report.not_yet_shared_with)
        lines.append(Text.assemble(("Not yet shared with: ", "bold"), names))
    lines.append(_field("Redactions", report.redactions or "None recorded", multiline=True))
    if report.redactions or report.redaction_reason:
        lines.append(_field("Reason for redactions", report.redaction_reason, multiline=True))
    return _lines(lines)


GP_NOT_RECORDED = (
    "○ GP involvement not recorded: once you know what the GP did, press g (or a on the "
    "GP's row) and choose the QA Unit's category."
)


def invitee_row(invitee: InviteeView, gp_outcome: GPOutcome | None = None) -> list[Text]:
    """The GP's row shows the QA Unit's GP outcome (what `sofs stats gp` counts)."""
    if invitee.is_gp:
        attendance = gp_outcome.label if gp_outcome is not None else NOT_RECORDED
    else:
        attendance = ATTENDANCE_LABELS[invitee.attendance]
    return [
        safe_text(invitee.name),
        safe_text(invitee.role or "-"),
        safe_text(invitee.agency or "-"),
        Text(attendance),
    ]


def gp_text(view: ConferenceView) -> Text:
    if view.gp is None:
        gp = Text("No GP recorded on the case (add one on the case screen).")
    else:
        gp = Text.assemble(
            ("GP: ", "bold"),
            safe_text(view.gp.name),
            " · " if view.gp_practice else "",
            safe_text(view.gp_practice),
        )
    lines = [
        gp,
        _field("GP invited", view.gp_invited.label if view.gp_invited else NOT_RECORDED),
        _field("GP outcome", view.gp_outcome.label if view.gp_outcome else NOT_RECORDED),
    ]
    if view.gp_outcome_missing:
        lines.append(Text(GP_NOT_RECORDED))
    return _lines(lines)


def _plan_words(outcome: ChildOutcomeView) -> str:
    if not outcome.recorded:
        return NOT_RECORDED
    return "Plan" if outcome.plan else "No plan"


def outcome_row(outcome: ChildOutcomeView) -> list[Text]:
    return [
        safe_text(outcome.child.name),
        Text(_plan_words(outcome)),
        Text(category_words(outcome.category) if outcome.plan else "-"),
        Text(describe_day(outcome.core_group_on)),
        Text(describe_day(outcome.next_review_on)),
    ]


def outcome_text(outcome: ChildOutcomeView) -> Text:
    return _lines(
        [
            safe_text(outcome.child.name, style="bold"),
            _field("Decision", _plan_words(outcome)),
            _field("Category", category_words(outcome.category) if outcome.plan else "-"),
            _field("Lead worker", outcome.lead_worker),
            _field("First core group by", describe_day(outcome.core_group_on)),
            _field("Next review by", describe_day(outcome.next_review_on)),
            _field("Contingency", outcome.contingency, multiline=True),
            _field("Dissent", outcome.dissent, multiline=True),
        ]
    )


def plan_text(view: ConferenceView) -> Text:
    if view.model is not ConferenceModel.FAMILIES_FIRST:
        return Text(
            "This is a standard conference. To record family preparation, private family "
            "time and a family plan, press e and choose the Families First model."
        )
    private = {None: NOT_RECORDED, True: "Yes", False: "No"}[view.private_family_time]
    lines = [
        _field("Family preparation", describe_day(view.family_preparation_on)),
        _field("Preparation note", view.family_preparation_note, multiline=True),
        _field("Private family time", private),
    ]
    if view.families_first_gaps:
        lines.extend(Text(f"○ {gap}") for gap in view.families_first_gaps)
    return _lines(lines)


def task_row(task: PlanTaskView) -> list[Text]:
    return [
        safe_text(task.task),
        safe_text(task.who),
        Text(describe_day(task.by_when)),
        safe_text(task.who_checks),
        Text("✓ Done" if task.done else "○ Open"),
    ]
