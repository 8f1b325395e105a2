"""The QA Unit pack: every report with its author, agency, sharing log and QAU sending against
the computed deadlines, redaction reasons, and the GP's invitation and outcome in exact words."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from sofs_tui.config import CouncilRules
from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.enums import GPInvited, GPOutcome, QauReason, ShareMethod
from sofs_tui.exports.qau_pack import build_qau_pack, qau_pack_csv
from sofs_tui.exports.render import render
from sofs_tui.store import conferences
from sofs_tui.store.export_views import qau_pack_source
from sofs_tui.store.store import Store
from tests.conftest import FakeClock
from tests.exports.builders import enrolled_store, family, held_conference, run
from tests.exports.pdf_text import pdf_text

# A review on Monday 7 December 2026 at 10:00 (London is on UTC in winter): with the default
# rules both deadlines are 5 working days before, Monday 30 November at 10:00.
STARTS = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def _conference(store: Store) -> dict[str, str]:
    """The conference and its reports, recorded after the fact (no time is in the future)."""
    store.clock = FakeClock(AFTER)
    ids = family(store)
    conference_id = held_conference(
        store, ids["case"], STARTS, invited=GPInvited.BY_SW, outcome=GPOutcome.SENT_APOLOGY
    )
    police = conferences.add_report(
        store, conference_id, title="Police report", author_name="DC Ashby", agency="Police"
    ).id
    conferences.record_report_shared_with_parent(
        store, police, parent_id=ids["mum"], shared_at=datetime(2026, 11, 27, 10, tzinfo=UTC),
        method=ShareMethod.IN_PERSON, gone_through_together=True, translated=True,
        language="Polish",
    )  # fmt: skip
    conferences.mark_report_sent_to_qau(store, police, sent_at=datetime(2026, 12, 1, 9, tzinfo=UTC))
    conferences.record_redaction(
        store, police, redactions="Paragraph 3", reason="Names a neighbour (third party)"
    )
    health = conferences.add_report(
        store, conference_id, title="=HYPERLINK(\"x\")", author_name="Nurse Bell",
        agency="Health visiting",
    ).id  # fmt: skip
    conferences.mark_report_sent_to_qau(
        store, health, sent_at=datetime(2026, 11, 26, 9, tzinfo=UTC),
        reason=QauReason.PARENT_EXCLUDED, reason_note="Chair agreed on 20 Nov",
    )  # fmt: skip
    return ids | {"conference": conference_id}


def test_pack_lists_reports_sharing_log_deadlines_redactions_and_gp(
    store: Store, clock: FakeClock
) -> None:
    ids = _conference(store)
    clock.moment = AFTER
    source = qau_pack_source(store, ids["conference"])
    document = build_qau_pack(source, CouncilRules(), default_calendar(), AFTER)
    page = render(document, "html", AFTER).decode()
    for expected in (
        "Police report",
        "DC Ashby",
        "Nurse Bell",
        "Health visiting",
        "Fri 27 Nov 2026, 10:00",  # when Mum saw it
        "In person",
        "Polish",
        "Not shared",  # Dad never saw the police report
        "Done late (due by Mon 30 Nov 2026, 10:00)",  # police report to the QAU
        "Overdue (due by Mon 30 Nov 2026, 10:00)",  # police report: Dad still has not seen it
        "Parent excluded from the conference: Chair agreed on 20 Nov",
        "Names a neighbour (third party)",
        "By SW (GPs may not have been contacted)",
        "GP Sent Apology (No Report)",
        "5 working days before",
    ):
        assert expected in page, expected
    pdf = pdf_text(render(document, "pdf", AFTER))
    assert "Police report" in pdf and "GP Sent Apology (No Report)" in pdf


def test_pack_csv_has_a_row_per_report_and_parent_with_states(store: Store) -> None:
    ids = _conference(store)
    source = qau_pack_source(store, ids["conference"])
    rows = list(
        csv.DictReader(io.StringIO(qau_pack_csv(source, CouncilRules(), default_calendar(), AFTER)))
    )
    police = [r for r in rows if r["report_title"] == "Police report"]
    assert {r["parent"] for r in police} == {"Mum", "Dad"}
    mum = next(r for r in police if r["parent"] == "Mum")
    assert mum["shared_at"] == "2026-11-27T10:00:00+00:00" and mum["share_method"] == "in_person"
    assert mum["translated_into"] == "Polish"
    assert mum["parents_due"] == "2026-11-30T10:00:00+00:00"
    assert mum["parents_state"] == "overdue"  # Dad has not seen it
    assert mum["qau_state"] == "done_late"
    assert mum["gp_invited"] == "By SW (GPs may not have been contacted)"
    assert mum["gp_outcome"] == "GP Sent Apology (No Report)"
    assert mum["redaction_reason"] == "Names a neighbour (third party)"
    health = [r for r in rows if r["report_agency"] == "Health visiting"]
    assert len(health) == 2 and all(r["shared_at"] == "" for r in health)
    assert health[0]["parents_state"] == "done_on_time"  # exempt, with a recorded reason
    assert health[0]["qau_reason"] == "parent_excluded"
    # A title that starts like a formula stays text in a spreadsheet.
    assert health[0]["report_title"] == '\'=HYPERLINK("x")'


def test_pack_without_a_gp_outcome_says_how_it_is_counted(store: Store) -> None:
    ids = family(store)
    conference_id = held_conference(store, ids["case"], STARTS)
    source = qau_pack_source(store, conference_id)
    page = render(
        build_qau_pack(source, CouncilRules(), default_calendar(), AFTER), "text", AFTER
    ).decode()
    assert "Not recorded (counted as Logs not completed)" in page
    assert "No reports are recorded for this conference." in page


def test_cli_writes_each_format_of_the_pack(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = enrolled_store(data_dir)
    try:
        ids = _conference(store)
    finally:
        store.lock()
    for fmt in ("html", "pdf", "csv"):
        target = tmp_path / f"pack.{fmt}"
        code, said = run(
            data_dir, "export", "qau-pack", "--conference", ids["conference"],
            "--format", fmt, "--out", str(target),
        )  # fmt: skip
        assert code == 0 and "Saved the QA Unit pack" in said
        data = target.read_bytes()
        found = pdf_text(data) if fmt == "pdf" else data.decode()
        assert "DC Ashby" in found
    code, said = run(data_dir, "export", "qau-pack", "--conference", ids["conference"])
    assert code == 0 and said.startswith("<!DOCTYPE html>")
