"""The forms behind the report actions: add and edit a report, mark it shared with a parent,
mark it sent to the QA Unit (the store refuses without sharing or a reason), redactions; and
the questions and units of work that take back a mistaken sharing record or sent-to-QAU time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text

from sofs_tui.domain.enums import QauReason
from sofs_tui.domain.reports import SENT_IN_FUTURE, SHARED_IN_FUTURE, future_time_problem
from sofs_tui.domain.when import describe_when
from sofs_tui.screens.conference_actions import NOTE, conferences_store, swap
from sofs_tui.screens.conference_edit import (
    ChoiceField,
    FlagField,
    FormSpec,
    TextField,
    Values,
    WhenField,
)
from sofs_tui.screens.conference_panels import SHARE_METHOD_LABELS, share_summary
from sofs_tui.widgets.plain import safe_text

if TYPE_CHECKING:
    from sofs_tui.store.conference_views import ConferenceView, ReportView, ShareLine
    from sofs_tui.store.store import Store


# The store refuses these too, with the same words; the form says so under the field first.
def _not_future_share(moment: datetime, now: datetime) -> str | None:
    return future_time_problem(moment, now, SHARED_IN_FUTURE)


def _not_future_sending(moment: datetime, now: datetime) -> str | None:
    return future_time_problem(moment, now, SENT_IN_FUTURE)


def _report_fields(report: ReportView | None, author: str) -> list[Any]:
    return [
        TextField(
            "title",
            "Title",
            report.title if report else "",
            required=True,
            placeholder="e.g. Social worker's report",
        ),
        TextField("author_name", "Author", report.author_name if report else author),
        TextField("agency", "Agency", report.agency if report else ""),
        WhenField(
            "completed_at",
            "Completed at (leave empty if not finished)",
            report.completed_at if report else None,
            required=False,
        ),
    ]


def add_report_form(conference_id: str, author: str) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        return conferences_store().add_report(
            store,
            conference_id,
            title=v["title"],
            author_name=v["author_name"],
            agency=v["agency"],
            completed_at=v["completed_at"],
        )

    return FormSpec("Add a report", _report_fields(None, author), save)


def edit_report_form(report: ReportView) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        return conferences_store().update_report(
            store,
            report.id,
            title=v["title"],
            author_name=v["author_name"],
            agency=v["agency"],
            completed_at=v["completed_at"],
        )

    return FormSpec("Edit report", _report_fields(report, ""), save)


def share_form(view: ConferenceView, report: ReportView) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        return conferences_store().record_report_shared_with_parent(
            store,
            report.id,
            parent_id=v["parent_id"],
            shared_at=v["shared_at"],
            method=v["method"],
            gone_through_together=v["gone_through_together"],
            translated=v["translated"],
            language=v["language"] if v["translated"] else "",
        )

    def check(v: Values) -> dict[str, str]:
        if v["translated"] and not v["language"]:
            return {"language": "Say which language it was translated into."}
        if v["language"] and not v["translated"]:
            return {"translated": "Tick 'Translated' or clear the language."}
        return {}

    waiting = report.not_yet_shared_with or view.parents
    return FormSpec(
        "Mark report shared with a parent",
        [
            ChoiceField(
                "parent_id",
                "Parent (adults with parental responsibility)",
                [(p.name, p.id) for p in view.parents],
                waiting[0].id if waiting else None,
            ),
            WhenField("shared_at", "When (London time)", "now", check=_not_future_share),
            ChoiceField("method", "How", swap(SHARE_METHOD_LABELS)),
            FlagField("gone_through_together", "Went through it together"),
            FlagField("translated", "Translated"),
            TextField("language", "Language (if translated)", max_length=80),
        ],
        save,
        intro=f"Report: {report.title}",
        check=check,
    )


def qau_form(report: ReportView) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        return conferences_store().mark_report_sent_to_qau(
            store,
            report.id,
            sent_at=v["sent_at"],
            reason=v["reason"],
            reason_note=v["reason_note"],
        )

    if report.shares:
        names = ", ".join(sorted({s.parent_name for s in report.shares}))
        intro = f"Shared with: {names}."
    else:
        intro = (
            "Not shared with a parent yet. Record the sharing first (s), or choose the "
            "reason it was not shared and add a note (who agreed it and when)."
        )
    return FormSpec(
        "Mark report sent to the QA Unit",
        [
            WhenField("sent_at", "Sent at (London time)", "now", check=_not_future_sending),
            ChoiceField(
                "reason",
                "Reason, if not shared with a parent",
                [(r.label, r) for r in QauReason],
                blank="Shared with a parent (no reason needed)",
            ),
            TextField("reason_note", "Note for the reason", max_length=NOTE, multiline=True),
        ],
        save,
        intro=f"Report: {report.title}. {intro}",
    )


def redaction_form(report: ReportView) -> FormSpec:
    def save(store: Store, v: Values) -> object:
        return conferences_store().record_redaction(
            store, report.id, redactions=v["redactions"], reason=v["reason"]
        )

    return FormSpec(
        "Redactions",
        [
            TextField(
                "redactions",
                "What is redacted",
                report.redactions,
                max_length=NOTE,
                multiline=True,
            ),
            TextField(
                "reason",
                "Why (agreed with the chair)",
                report.redaction_reason,
                max_length=NOTE,
                multiline=True,
            ),
        ],
        save,
        intro=f"Report: {report.title}",
    )


# --- taking back a mistake -------------------------------------------------------------------


def share_choices(report: ReportView) -> list[tuple[str, Text]]:
    """The report's sharing log lines, to choose the one recorded by mistake."""
    return [(share.id, safe_text(share_summary(share))) for share in report.shares]


def remove_share_question(report: ReportView, share: ShareLine) -> str:
    return (
        f"Remove this sharing record of '{report.title}'?\n{share_summary(share)}\n"
        f"{share.parent_name} will count as not having had the report until you record it "
        "again (s). The record is kept in the history and removed on every device at the next "
        "sync."
    )


def remove_share_work(share: ShareLine) -> Callable[[Store], object]:
    def work(store: Store) -> object:
        return conferences_store().remove_report_share(store, share.id)

    return work


def clear_sent_to_qau_question(report: ReportView) -> str:
    reason = (
        f", and the reason it went without sharing ({report.qau_reason.label})"
        if report.qau_reason is not None
        else ""
    )
    return (
        f"Clear the time '{report.title}' was sent to the QA Unit "
        f"({describe_when(report.sent_to_qau_at)}){reason}? The report counts as not sent "
        "until you mark it sent again (q)."
    )


def clear_sent_to_qau_work(report: ReportView) -> Callable[[Store], object]:
    def work(store: Store) -> object:
        return conferences_store().clear_report_sent_to_qau(store, report.id)

    return work
