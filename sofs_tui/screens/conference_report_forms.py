"""The forms behind the report actions: add and edit a report, mark it shared with a parent,
mark it sent to the QA Unit (the store refuses without sharing or a reason), redactions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sofs_tui.domain.enums import QauReason
from sofs_tui.screens.conference_actions import NOTE, conferences_store, swap
from sofs_tui.screens.conference_edit import (
    ChoiceField,
    FlagField,
    FormSpec,
    TextField,
    Values,
    WhenField,
)
from sofs_tui.screens.conference_panels import SHARE_METHOD_LABELS

if TYPE_CHECKING:
    from sofs_tui.store.conference_views import ConferenceView, ReportView
    from sofs_tui.store.store import Store


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
            WhenField("shared_at", "When (London time)", "now"),
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
            WhenField("sent_at", "Sent at (London time)", "now"),
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
