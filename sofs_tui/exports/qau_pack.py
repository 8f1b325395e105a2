"""The QA Unit pack for one conference: every report, who wrote it for which agency, when each
parent saw it and how, when it reached the QA Unit, each against its computed deadline, the
redactions and their reasons, and the GP's invitation and outcome in the QA Unit's own words.

Professional document: names of parents and authors appear. Deadlines come from the council's
rules (`domain.reports.report_timeliness`), the same rule the caseload shows.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sofs_tui.config import CouncilRules
from sofs_tui.domain.calendar import WorkingCalendar
from sofs_tui.domain.enums import GPOutcome, ShareMethod
from sofs_tui.domain.reports import ReportTimeliness, report_timeliness
from sofs_tui.domain.statistics import GP_INVITED_LABELS, GP_OUTCOME_LABELS
from sofs_tui.exports.document import (
    Block,
    Document,
    Heading,
    Paragraph,
    Table,
    clean,
    spreadsheet_safe,
    when_text,
)
from sofs_tui.store.export_views import PackReport, PackShare, QauPackSource

NOT_RECORDED = "Not recorded"

_METHOD_WORDS = {
    ShareMethod.IN_PERSON: "In person",
    ShareMethod.VIDEO: "Video call",
    ShareMethod.PHONE: "Phone",
    ShareMethod.EMAIL: "Email",
    ShareMethod.POST: "Post",
}

CSV_COLUMNS = (
    "case_reference",
    "conference_kind",
    "conference_start",
    "gp_invited",
    "gp_outcome",
    "report_title",
    "report_author",
    "report_agency",
    "report_completed_at",
    "parent",
    "shared_at",
    "share_method",
    "gone_through_together",
    "translated_into",
    "parents_due",
    "parents_state",
    "sent_to_qau_at",
    "qau_due",
    "qau_state",
    "qau_reason",
    "qau_reason_note",
    "redactions",
    "redaction_reason",
)


def gp_words(source: QauPackSource) -> tuple[str, str]:
    """The GP's invitation and outcome, in the QA Unit's exact labels."""
    invited = GP_INVITED_LABELS[source.gp_invited] if source.gp_invited else NOT_RECORDED
    outcome = (
        GP_OUTCOME_LABELS[source.gp_outcome]
        if source.gp_outcome
        else f"{NOT_RECORDED} (counted as {GP_OUTCOME_LABELS[GPOutcome.LOG_NOT_COMPLETED]})"
    )
    return invited, outcome


def _timeliness(
    source: QauPackSource,
    report: PackReport,
    rules: CouncilRules,
    calendar: WorkingCalendar,
    now: datetime,
) -> ReportTimeliness:
    shared: dict[str, datetime] = {}
    for share in report.shares:
        earlier = shared.get(share.parent_id)
        shared[share.parent_id] = (
            share.shared_at if earlier is None else min(earlier, share.shared_at)
        )
    return report_timeliness(
        kind=source.kind,
        conference_start=source.starts_at,
        rules=rules.deadlines,
        calendar=calendar,
        parent_ids=[pid for pid, _ in source.parents],
        shared_at_by_parent=shared,
        sent_to_qau_at=report.sent_to_qau_at,
        qau_exempt_from_sharing=report.qau_reason is not None,
        now=now,
        due_soon=timedelta(hours=rules.due_soon_hours),
    )


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _share_cells(share: PackShare) -> tuple[str, str, str, str, str]:
    return (
        share.parent_name,
        when_text(share.shared_at),
        _METHOD_WORDS[share.method],
        _yes_no(share.gone_through_together),
        share.language if share.translated else "No",
    )


def _unshared_parents(source: QauPackSource, report: PackReport) -> list[str]:
    seen = {s.parent_id for s in report.shares}
    return [name for pid, name in source.parents if pid not in seen]


def _report_blocks(
    source: QauPackSource, report: PackReport, timeliness: ReportTimeliness
) -> list[Block]:
    reason = report.qau_reason.label if report.qau_reason else "-"
    if report.qau_reason and report.qau_reason_note.strip():
        reason += f": {report.qau_reason_note}"
    parents = f"{timeliness.parents_state.label} (due by {when_text(timeliness.parents_due)})"
    if report.qau_reason and not report.shares:
        parents = f"Not shared, for the reason below; counted as {parents}"
    facts = (
        ("Author", report.author_name or "-"),
        ("Agency", report.agency or "-"),
        ("Completed", when_text(report.completed_at)),
        ("Shared with parents", parents),
        (
            "Sent to the QA Unit",
            f"{when_text(report.sent_to_qau_at)}: {timeliness.qau_state.label} "
            f"(due by {when_text(timeliness.qau_due)})",
        ),
        ("Sent without sharing because", reason),
        ("Redactions", report.redactions or "None recorded"),
        ("Reason for the redactions", report.redaction_reason or "-"),
    )
    blocks: list[Block] = [
        Heading(f"{report.title} ({report.agency or 'agency not recorded'})", 2),
        Table((), facts),
    ]
    rows = [_share_cells(s) for s in report.shares]
    rows += [(name, "Not shared", "-", "-", "-") for name in _unshared_parents(source, report)]
    if rows:
        blocks.append(
            Table(("Parent", "Shared", "How", "Gone through together", "Translated"), tuple(rows))
        )
    else:
        blocks.append(Paragraph("No parent with parental responsibility is recorded.", quiet=True))
    return blocks


def build_qau_pack(
    source: QauPackSource, rules: CouncilRules, calendar: WorkingCalendar, now: datetime
) -> Document:
    """The pack as a document (HTML or PDF)."""
    invited, outcome = gp_words(source)
    deadline_rows = (
        ("Reports to parents", rules.deadlines.for_parents(source.kind).describe()),
        ("Reports to the QA Unit", rules.deadlines.for_qau(source.kind).describe()),
    )
    blocks: list[Block] = [
        Heading("GP involvement", 1),
        Table((), (("GP invited", invited), ("GP outcome", outcome))),
        Heading("Deadlines (before the conference starts)", 1),
        Table((), deadline_rows),
        Heading("Reports", 1),
    ]
    if not source.reports:
        blocks.append(Paragraph("No reports are recorded for this conference."))
    for report in source.reports:
        blocks += _report_blocks(source, report, _timeliness(source, report, rules, calendar, now))
    return Document(
        title=f"QA Unit pack: {source.kind.label} conference",
        lines=(
            f"Case reference: {source.case_reference} ({source.family_name} family)",
            f"Conference: {when_text(source.starts_at)}, {source.model.label}, "
            f"{source.status.value.capitalize()}",
            f"Chair: {source.chair or '-'}",
            f"Made on: {when_text(now)}",
        ),
        blocks=tuple(blocks),
    )


def qau_pack_csv(
    source: QauPackSource, rules: CouncilRules, calendar: WorkingCalendar, now: datetime
) -> str:
    """One row per report and parent (a report nobody saw still has its row), UTF-8 CSV."""
    invited, outcome = gp_words(source)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for report in source.reports:
        timeliness = _timeliness(source, report, rules, calendar, now)
        lines: list[tuple[str, ...]] = [
            (
                s.parent_name,
                s.shared_at.isoformat(),
                s.method.value,
                _yes_no(s.gone_through_together),
                s.language if s.translated else "",
            )
            for s in report.shares
        ]
        lines += [(name, "", "", "", "") for name in _unshared_parents(source, report)]
        for parent, shared_at, method, together, language in lines or [("", "", "", "", "")]:
            row = (
                source.case_reference,
                source.kind.value,
                source.starts_at.isoformat(),
                invited,
                outcome,
                report.title,
                report.author_name,
                report.agency,
                report.completed_at.isoformat() if report.completed_at else "",
                parent,
                shared_at,
                method,
                together,
                language,
                timeliness.parents_due.isoformat(),
                timeliness.parents_state.value,
                report.sent_to_qau_at.isoformat() if report.sent_to_qau_at else "",
                timeliness.qau_due.isoformat(),
                timeliness.qau_state.value,
                report.qau_reason.value if report.qau_reason else "",
                report.qau_reason_note,
                report.redactions,
                report.redaction_reason,
            )
            writer.writerow([spreadsheet_safe(clean(cell)) for cell in row])
    return buffer.getvalue()
