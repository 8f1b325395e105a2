"""Markup and escape sequences through every text field of the conference screen: markup is
stored and shown literally; control characters never get into a field (a paste is cleaned and
the field says what was left out) and never reach the screen from stored data either."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from sofs_tui.app import SofsApp
from sofs_tui.domain.conference import FamilyPlanTask
from sofs_tui.domain.enums import (
    ConferenceKind,
    ConferenceModel,
    PlanCategory,
    QauReason,
    ShareMethod,
)
from sofs_tui.store import conferences
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Attendee,
    ChildOutcome,
    Conference,
    FamilyPlanItem,
    Report,
    ReportShare,
)
from tests.ui.test_conference import (
    choose,
    family,
    keys,
    opened,
    paste_into,
    row_texts,
    save,
    schedule,
    shown,
    type_into,
)

CONTROL = {
    "osc52": "a\x1b]52;c;SGVsbG8=\x07b",
    "osc0": "a\x1b]0;pwned-title\x07b",
    "csi": "a\x1b[31mred",
    "rlo": "a\u202eb",
}
# What clean_text leaves of each: printable remains, never the ESC, BEL or the override.
CLEANED = {"osc52": "a]52;c;SGVsbG8=b", "osc0": "a]0;pwned-titleb", "csi": "a[31mred", "rlo": "ab"}


def markup(field: str) -> str:
    """A markup payload, different per field so a mix-up between fields shows."""
    return f"[@click=app.quit]{field}[/b] [TODO]"


def _all_text(app: SofsApp) -> str:
    """Everything on the conference screen's Statics and tables, as plain text."""
    screen = app.screen
    parts = [str(static.render()) for static in screen.query(Static)]
    for table in screen.query(DataTable):
        for i in range(table.row_count):
            parts.extend(str(cell) for cell in table.get_row_at(i))
    return "\n".join(parts)


async def _fill_every_text_field(
    app: SofsApp,
    pilot: Pilot[None],
    payload: Callable[[str], str],
    after_paste: Callable[[str, str], None],
) -> None:
    """Open every conference form and paste `payload(name)` into each of its text fields,
    saving each form. `after_paste(name, field id)` runs after each paste, with the form open;
    `name` is the key `_stored` uses."""

    async def put(field: str, name: str | None = None) -> None:
        await paste_into(app, pilot, field, payload(name or field))
        after_paste(name or field, field)

    await keys(app, pilot, "e")
    for field in ("chair", "location"):
        await put(field)
    await save(app, pilot)
    await keys(app, pilot, "n")
    for field in ("title", "author_name", "agency"):
        await put(field)
    await save(app, pilot)
    await keys(app, pilot, "s")
    await keys(app, pilot, "tab", "tab", "tab", "tab", "space")  # translated
    await put("language")
    await save(app, pilot)
    await keys(app, pilot, "r")
    for field in ("redactions", "reason"):
        await put(field)
    await save(app, pilot)
    await keys(app, pilot, "q")
    await choose(app, pilot, "reason", QauReason.REDACTION_AGREED_WITH_CHAIR.label)
    await put("reason_note")
    await save(app, pilot)
    await keys(app, pilot, "t")
    for field in ("task", "who", "who_checks"):
        await put(field)
    await type_into(app, pilot, "by_when", "2026-12-18")
    await save(app, pilot)
    await keys(app, pilot, "p")
    await type_into(app, pilot, "preparation_on", "2026-11-20")
    await put("preparation_note")
    await save(app, pilot)
    await keys(app, pilot, "o", "space")
    await choose(app, pilot, "category", "EMO Emotional abuse")
    for field in ("lead_worker", "contingency", "dissent"):
        await put(field)
    await save(app, pilot)
    await keys(app, pilot, "i")
    for field in ("name", "role", "agency"):
        await put(field, f"invitee_{field}")
    await save(app, pilot)


def _stored(store: Store, conference: str) -> dict[str, str]:
    """Every text field the conference forms write, as stored."""
    with store.read() as session:
        conf = session.get(Conference, conference)
        (report,) = session.exec(select(Report)).all()
        (share,) = session.exec(select(ReportShare)).all()
        (task,) = session.exec(select(FamilyPlanItem)).all()
        (outcome,) = session.exec(select(ChildOutcome)).all()
        (invitee,) = session.exec(select(Attendee)).all()
    assert conf is not None
    return {
        "chair": conf.chair,
        "location": conf.location,
        "preparation_note": conf.family_preparation_note,
        "title": report.title,
        "author_name": report.author_name,
        "agency": report.agency,
        "redactions": report.redactions,
        "reason": report.redaction_reason,
        "reason_note": report.qau_reason_note,
        "language": share.language,
        "task": task.task,
        "who": task.who,
        "who_checks": task.who_checks,
        "lead_worker": outcome.lead_worker,
        "contingency": outcome.contingency,
        "dissent": outcome.dissent,
        "invitee_name": invitee.name,
        "invitee_role": invitee.role,
        "invitee_agency": invitee.agency,
    }


async def test_markup_in_every_text_field_is_stored_and_shown_literally(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids, model=ConferenceModel.FAMILIES_FIRST)
    async with opened(store, conference) as (app, pilot, screen):
        pasted: list[str] = []
        await _fill_every_text_field(app, pilot, markup, lambda name, _id: pasted.append(name))
        assert app.is_running and app.screen is screen  # nothing clicked, nothing crashed
        stored = _stored(store, conference)
        assert sorted(pasted) == sorted(stored)  # every text field was filled
        assert stored == {field: markup(field) for field in stored}
        await keys(app, pilot, "4")
        everything = _all_text(app)
        for field in stored:
            assert markup(field) in everything, field
        assert row_texts(screen, "plan-table")[0][:2] == [markup("task"), markup("who")]


async def test_control_sequences_pasted_into_every_text_field_are_left_out(
    store: Store,
) -> None:
    ids = family(store)
    conference = schedule(store, ids, model=ConferenceModel.FAMILIES_FIRST)
    every = "".join(CONTROL.values())
    messages: dict[str, str] = {}
    async with opened(store, conference) as (app, pilot, screen):

        def message_of(name: str, field: str) -> None:
            messages[name] = shown(app, f"#p-{field}")

        await _fill_every_text_field(app, pilot, lambda name: f"{name}:{every}", message_of)
        assert app.screen is screen  # every form saved: what was left was clean
        stored = _stored(store, conference)
        assert stored == {field: f"{field}:{''.join(CLEANED.values())}" for field in stored}
        assert len(messages) == len(stored)
        for field, message in messages.items():
            assert "Left out 6 hidden control characters" in message, field
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\u202e" not in svg


@pytest.mark.parametrize("kind", list(CONTROL))
async def test_a_pasted_control_sequence_is_left_out_with_an_inline_message(
    store: Store, kind: str
) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "e")
        await paste_into(app, pilot, "chair", CONTROL[kind])
        field = app.screen.query_one("#f-chair")
        assert field.value == CLEANED[kind]  # type: ignore[attr-defined]
        assert "Left out" in shown(app, "#p-chair") and "hidden control" in shown(app, "#p-chair")
        await paste_into(app, pilot, "location", "Room 2")  # other fields are not affected
        assert shown(app, "#p-location") == ""
        await save(app, pilot)
        assert app.screen is screen
        with store.read() as session:
            saved = session.get(Conference, conference)
        assert saved is not None and saved.chair == CLEANED[kind]
        assert "\x1b" not in app.export_screenshot() and "\u202e" not in app.export_screenshot()


async def test_every_multiline_field_leaves_out_pasted_control_characters(store: Store) -> None:
    ids = family(store)
    conference = schedule(store, ids)
    conferences.add_report(store, conference, title="SW report", author_name="A", agency="CSC")
    async with opened(store, conference) as (app, pilot, _screen):
        await keys(app, pilot, "r")
        payload = "".join(CONTROL.values())
        await paste_into(app, pilot, "redactions", payload)
        area = app.screen.query_one("#f-redactions")
        assert area.text == "".join(CLEANED.values())  # type: ignore[attr-defined]
        assert "Left out" in shown(app, "#p-redactions")
        assert "escape (ESC)" in shown(app, "#p-redactions")
        assert "right-to-left override" in shown(app, "#p-redactions")


async def test_control_characters_put_in_a_field_by_a_program_are_left_out(
    store: Store,
) -> None:
    """A one-line field's value set by code (not a paste) is cleaned as it goes in: the
    printable rest is kept, saved, and nothing hidden is drawn or stored."""
    ids = family(store)
    conference = schedule(store, ids)
    async with opened(store, conference) as (app, pilot, screen):
        await keys(app, pilot, "e")
        field = app.screen.query_one("#f-location")
        field.value = CONTROL["osc0"]  # type: ignore[attr-defined]
        await pilot.pause()
        assert field.value == CLEANED["osc0"]  # type: ignore[attr-defined]
        assert "hidden control character" not in shown(app, "#p-location")
        await save(app, pilot)
        assert app.screen is screen
        with store.read() as session:
            saved = session.get(Conference, conference)
        assert saved is not None and saved.location == CLEANED["osc0"]


async def test_stored_control_sequences_never_reach_the_screen(store: Store) -> None:
    """Text that arrives without passing a form (synced, imported) is cleaned at the store
    and shown as its printable remains."""
    ids = family(store)
    every = "".join(CONTROL.values())
    cleaned = "".join(CLEANED.values())
    conference = conferences.schedule_conference(
        store, ids["case"], kind=ConferenceKind.REVIEW,
        model=ConferenceModel.FAMILIES_FIRST, starts_at=datetime(2026, 12, 8, 10, tzinfo=UTC),
        chair=every, location=every,
    ).id  # fmt: skip
    report = conferences.add_report(
        store, conference, title=every, author_name=every, agency=every
    ).id
    conferences.record_report_shared_with_parent(
        store, report, parent_id=ids["mum"], shared_at=datetime(2026, 11, 24, tzinfo=UTC),
        method=ShareMethod.EMAIL, gone_through_together=False, translated=True, language=every,
    )  # fmt: skip
    conferences.record_redaction(store, report, redactions=every, reason=every)
    conferences.mark_report_sent_to_qau(
        store, report, sent_at=datetime(2026, 11, 24, 12, tzinfo=UTC),
        reason=QauReason.PARENT_EXCLUDED, reason_note=every,
    )  # fmt: skip
    conferences.add_family_plan_task(
        store, conference, FamilyPlanTask(every, every, date(2026, 12, 18), every)
    )
    conferences.record_child_outcome(
        store, conference, child_id=ids["child"], plan=True, category=PlanCategory.PHY,
        lead_worker=every, contingency=every, dissent=every,
    )  # fmt: skip
    conferences.invite(store, conference, name=every, role=every, agency=every)
    conferences.record_families_first(
        store, conference, preparation_on=date(2026, 11, 20), preparation_note=every,
        private_family_time=True,
    )  # fmt: skip
    async with opened(store, conference, (160, 48)) as (app, pilot, _screen):
        await keys(app, pilot, "2")
        everything = _all_text(app)
        assert "\x1b" not in everything and "\u202e" not in everything and "\x07" not in everything
        for where in ("#overview-text", "#report-text", "#plan-text"):
            assert cleaned in shown(app, where)
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\u202e" not in svg
