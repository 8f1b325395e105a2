"""Hostile text in every free-text field of every record, on every screen that shows it
(SECURITY R12–R14).

Each field holds every payload: markup that would click, markup that would not parse, a
bracketed word, OSC 52 (write the clipboard), OSC 0 (retitle the window), CSI (clear the
screen), a C1 CSI and a right-to-left override. Once written through the store (which cleans
on the way in) and once with SQL that goes around it (as a damaged file or a bug elsewhere
could), so the screens must clean what they show. Then: nothing rendered carries a click
action or a link from the data, nothing failed to parse, no ESC, 0x9b or U+202E is drawn,
and the app still takes keys and clicks. What reaches a real terminal is tested in
test_pty.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from rich.segment import Segment
from sqlalchemy import text
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList

from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.domain.conference import FamilyPlanTask
from sofs_tui.domain.enums import (
    Agreement,
    ChildVoiceTool,
    ConferenceKind,
    ConferenceModel,
    PersonKind,
    PlanCategory,
    QauReason,
    Section,
    ShareMethod,
)
from sofs_tui.domain.text import clean_text
from sofs_tui.screens.case import CaseScreen
from sofs_tui.screens.case_list import CaseListScreen
from sofs_tui.screens.conference import ConferenceScreen
from sofs_tui.screens.deadlines import DeadlinesScreen
from sofs_tui.screens.mapping import MappingScreen
from sofs_tui.store import cases, changes, conferences, mapping
from sofs_tui.store.store import Store
from sofs_tui.store.tables import SYNCED_TABLES, Synced
from tests.ui.shell_support import FakeMonotonic
from tests.ui.test_every_screen import drawn, settle

PAYLOADS = (
    "[@click=app.quit]X[/]",
    "[/b]",
    "[TODO]",
    "\x1b]52;c;SGVsbG8=\x1b\\",  # OSC 52: write the clipboard
    "\x1b]0;PWNED\x07",  # OSC 0: retitle the window
    "\x1b[2J",  # CSI: clear the screen
    "\x9b31m",  # C1 CSI
    "\u202e",  # right-to-left override
)
HOSTILE = " ".join(PAYLOADS)
#: What must never be drawn: the escape, the C1 CSI, the override (and their SVG spellings).
FORBIDDEN = ("\x1b", "\x9b", "\u202e", "\x07")
FORBIDDEN_IN_SVG = (*FORBIDDEN, "&#27;", "&#155;", "&#8238;", "&#x1b;", "&#x9b;", "&#x202e;")
#: Columns that hold codes or keys rather than words people typed.
NOT_FREE_TEXT = {"position", "part"}
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
REVIEW_AT = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
SIZE = (120, 40)  # the wide layouts show the most at once


def free_text_columns(table: type[Synced]) -> list[str]:
    """The record's fields that hold words: every `str` field but ids, keys and codes."""
    return [
        name
        for name, field in table.model_fields.items()
        if field.annotation is str
        and name not in Synced.model_fields
        and not name.endswith("_id")
        and name not in NOT_FREE_TEXT
    ]


def hostile(table: type[Synced], column: str) -> str:
    """Every payload, after a tag naming the field (so a mix-up between fields shows)."""
    return f"{table.ENTITY}.{column} {HOSTILE}"


@dataclass(frozen=True)
class Family:
    case: str
    mapping: str
    conference: str


def seed_family(store: Store) -> Family:
    """A case with a record of every kind, in plain words (the payloads go in after)."""
    case = cases.create_case(store, reference="P-1", family_name="Family", team="Team")
    parent = {"kind": PersonKind.ADULT, "parental_responsibility": True}
    kinds = {
        "child": {"kind": PersonKind.CHILD, "date_of_birth": date(2019, 3, 14)},
        "mum": parent | {"relationship": "Mother"},
        "dad": parent | {"relationship": "Father"},
        "gran": {"kind": PersonKind.NETWORK, "relationship": "Grandmother"},
        "gp": {"kind": PersonKind.PROFESSIONAL, "role": "GP", "agency": "NHS", "is_gp": True,
               "gp_practice": "Surgery"},
    }  # fmt: skip
    people = {key: cases.add_person(store, case.id, name=key, **fields).id
              for key, fields in kinds.items()}  # fmt: skip
    mapping_id = _mapping(store, case.id, people["child"], sign_off=False)
    _mapping(store, case.id, people["child"], sign_off=True)  # signed off: "by" is shown
    conference = conferences.schedule_conference(
        store, case.id, kind=ConferenceKind.REVIEW, model=ConferenceModel.FAMILIES_FIRST,
        starts_at=REVIEW_AT, chair="Chair", location="Room",
    ).id  # fmt: skip
    conferences.invite(store, conference, name="Teacher", role="Teacher", agency="School")
    conferences.add_family_plan_task(
        store, conference, FamilyPlanTask("Task", "Who", date(2026, 12, 18), "Checker")
    )
    conferences.record_families_first(
        store, conference, preparation_on=date(2026, 11, 20), preparation_note="Note",
        private_family_time=True,
    )  # fmt: skip
    conferences.record_child_outcome(
        store, conference, child_id=people["child"], plan=True, category=PlanCategory.NEG,
        lead_worker="Lead", contingency="Contingency", dissent="Dissent",
    )  # fmt: skip
    report = conferences.add_report(
        store, conference, title="Report", author_name="Author", agency="Agency"
    ).id
    conferences.record_report_shared_with_parent(
        store, report, parent_id=people["mum"], shared_at=datetime(2026, 11, 24, tzinfo=UTC),
        method=ShareMethod.EMAIL, gone_through_together=True, translated=True, language="Polish",
    )  # fmt: skip
    conferences.record_redaction(store, report, redactions="Address", reason="Safety")
    # Not shared yet: its deadlines are on the deadlines screen.
    conferences.add_report(store, conference, title="School", author_name="Head", agency="School")
    conferences.mark_report_sent_to_qau(
        store, report, sent_at=datetime(2026, 11, 24, 12, tzinfo=UTC),
        reason=QauReason.PARENT_EXCLUDED, reason_note="Chair agreed",
    )  # fmt: skip
    return Family(case.id, mapping_id, conference)


def _mapping(store: Store, case_id: str, child_id: str, *, sign_off: bool) -> str:
    assessment = mapping.create_assessment(store, case_id, title="Mapping").id
    danger = mapping.save_entry(
        store, assessment, section=Section.DANGER_STATEMENT, text="Danger", source="School",
        agreement=Agreement.DISPUTED, disputed_by="Dad",
    ).id  # fmt: skip
    goal = mapping.save_entry(store, assessment, section=Section.SAFETY_GOAL, text="Goal").id
    mapping.pair_safety_goal(store, danger, goal)
    for section in (Section.HARM, Section.EXISTING_STRENGTHS, Section.NEXT_STEPS):
        mapping.save_entry(store, assessment, section=section, text="Words", source="Mum")
    mapping.record_score(store, assessment, scorer_name="Mum", value=4, rationale="Why")
    mapping.record_score(
        store, assessment, scorer_name="School", scorer_role="Teacher", value=3,
        rationale="Why", danger_statement_id=danger,
    )  # fmt: skip
    mapping.record_child_voice(
        store, case_id, child_id=child_id, tool=ChildVoiceTool.THREE_HOUSES, part="worries",
        text="Words", written_by="Kai", consent_to_share=True, consent_note="Consent",
    )  # fmt: skip
    if sign_off:
        mapping.sign_off_assessment(store, assessment)
    return assessment


def through_the_store(store: Store) -> None:
    """Every free-text field of every record rewritten by the store's own write path."""
    for table in SYNCED_TABLES:
        columns = free_text_columns(table)
        with store.write() as session:
            for row in session.exec(select(table)).all():
                changes.update(session, store, row, **{c: hostile(table, c) for c in columns})


def around_the_store(store: Store) -> None:
    """The same fields (and who changed them) written with SQL: nothing is cleaned."""
    with store.write() as session:
        for table in SYNCED_TABLES:
            name = table.__table__.name  # type: ignore[attr-defined]
            for column in [*free_text_columns(table), "author"]:
                session.execute(
                    text(f"UPDATE {name} SET {column} = :value"),
                    {"value": hostile(table, column)},
                )


# --- what is drawn --------------------------------------------------------------------------


def drawn_segments(app: SofsApp) -> Iterator[Segment]:
    for strip in app.screen._compositor.render_strips():
        yield from strip


def drawn_text(app: SofsApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


class Inspector:
    """Checks each screen as it is shown and keeps what was found, screen by screen."""

    def __init__(self, app: SofsApp, pilot: Pilot[None], *, fail_fast: bool = False) -> None:
        self.app = app
        self.pilot = pilot
        self.fail_fast = fail_fast
        self.problems: list[str] = []
        self.seen: list[str] = []
        self.tags_drawn: set[str] = set()

    async def settle(self) -> None:
        await settle(self.app, self.pilot)

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.settle()

    async def check(self, where: str, *, screenshot: bool = False) -> None:
        """Nothing from the data is an action, a link or a control character on screen
        (call once the screen has settled)."""
        await drawn(self.pilot)  # tables measured and drawn afresh (see `drawn`)
        self.seen.append(where)
        for segment in drawn_segments(self.app):
            style = segment.style
            meta = style.meta if style is not None else {}
            if "@click" in meta:
                self.problems.append(f"{where}: a click action is drawn: {meta['@click']!r}")
            if style is not None and style.link:
                self.problems.append(f"{where}: a link is drawn: {style.link!r}")
            if any(c in segment.text for c in FORBIDDEN):
                self.problems.append(f"{where}: drawn: {segment.text!r}")
        on_screen = drawn_text(self.app)
        self.tags_drawn |= {
            f"{t.ENTITY}.{c}" for t in SYNCED_TABLES for c in [*free_text_columns(t), "author"]
            if f"{t.ENTITY}.{c} [@click=app.quit]X[/] [/b] [TODO]" in on_screen
        }  # fmt: skip
        if screenshot:
            svg = self.app.export_screenshot()
            self.problems += [f"{where}: {c!r} in the screenshot" for c in FORBIDDEN_IN_SVG
                              if c.lower() in svg.lower()]  # fmt: skip
        reported = [str(n.message) for n in self.app._notifications if n.severity == "error"]
        self.problems += [f"{where}: {message}" for message in reported]
        self.app.clear_notifications()
        assert self.app.is_running and self.app.crash_incident is None, f"stopped at {where}"
        if self.fail_fast:
            assert self.problems == [], "\n".join(self.problems)

    async def form(self, key: str, where: str) -> None:
        """Open a form or editor with `key`, check it, close it with Escape."""
        screen = self.app.screen
        await self.press(key)
        await self.check(where)
        await self.press("escape")
        assert self.app.screen is screen, f"{where} did not close"

    async def click_words(self, where: str, most: int = 2) -> None:
        """Click on the stored words where they are drawn (on the X of `[@click=…]X[/]`,
        which would carry the action had it been read as markup): the app carries on."""
        screen = self.app.screen
        await drawn(self.pilot)
        lines = drawn_text(self.app).split("\n")
        spots = [(line.index(words) + offset, y)
                 for words, offset in (("X[/]", 0), ("[@click=", 1))
                 for y, line in enumerate(lines) if words in line]  # fmt: skip
        assert spots, f"{where}: the words are not on screen to click"
        for x, y in spots[:most]:
            await self.pilot.click(offset=(x, y))
            await self.settle()
            assert self.app.is_running, f"a click quit the app ({where})"
            while self.app.screen is not screen:  # a click opened something: back
                await self.press("escape")
            if isinstance(screen, MappingScreen) and screen.open_form() is not None:
                await self.press("escape")  # a click on the list opens the editor
        await self.check(f"{where}, clicked")


async def views(look: Inspector, family: Family) -> None:
    """Every screen and tab that shows the family's words (lists, tables, text)."""
    app = look.app
    await look.settle()
    assert isinstance(app.screen, CaseListScreen)
    await look.check("caseload", screenshot=True)
    await look.click_words("caseload")

    await app.push_screen(CaseScreen(family.case))
    await look.settle()
    await look.check("case: people")
    await look.click_words("case: people")
    for tab, name in (("2", "assessments"), ("3", "conferences"), ("4", "timeline")):
        await look.press(tab)
        await look.check(f"case: {name}")
    await look.press("2")
    await look.click_words("case: assessments")

    await app.push_screen(MappingScreen(family.mapping))
    await look.settle()
    await look.check("mapping", screenshot=True)
    await look.click_words("mapping")
    for key in "45":  # scaling, the child's voice
        await look.press(key)
        await look.check(f"mapping panel {key}")
        await look.click_words(f"mapping panel {key}")
    await look.press("escape")

    await app.push_screen(ConferenceScreen(family.conference))
    for tab in "12345":
        await look.press(tab)
        await look.check(f"conference tab {tab}", screenshot=tab == "2")
    await look.click_words("conference: plan")

    await app.push_screen(DeadlinesScreen())
    await look.settle()
    await look.check("deadlines")
    await look.click_words("deadlines")
    await look.press("down", "up", "f5")
    await look.check("deadlines after keys")


async def forms(look: Inspector, family: Family) -> None:
    """Every form and editor that loads the family's words into its fields."""
    app = look.app
    await look.settle()
    await app.push_screen(CaseScreen(family.case))
    await look.settle()
    for row in range(5):  # each kind of person
        app.screen.query_one("#people-table", DataTable).move_cursor(row=row)
        await look.form("e", f"person form {row}")

    screen = MappingScreen(family.mapping)
    await app.push_screen(screen)
    await look.settle()
    for key, list_id, prefix in (
        ("1", "#list-worries", "entry:"),
        ("4", "#score-list", "score:"),
        ("5", "#voice-list", "voice:"),
    ):
        await look.press(key)
        options = screen.query_one(list_id, OptionList)
        options.highlighted = next(
            i for i, o in enumerate(options.options) if (o.id or "").startswith(prefix)
        )
        await look.press("e")
        assert screen.open_form() is not None, f"no editor opened with {key}"
        await look.check(f"mapping editor {key}")
        await look.press("escape")
        assert screen.open_form() is None, f"the editor opened with {key} stayed open"
    await look.press("escape")

    await app.push_screen(ConferenceScreen(family.conference))
    for tab, keys in (("2", "ecrsq"), ("3", "iag"), ("4", "o"), ("5", "pk")):
        await look.press(tab)
        for key in keys:
            await look.form(key, f"conference form {key}")


async def run_tour(store: Store, family: Family, *parts: Any, fail_fast: bool = False) -> Inspector:
    app = SofsApp(lambda: store, Settings(), clock=FakeMonotonic())
    async with app.run_test(size=SIZE) as pilot:
        look = Inspector(app, pilot, fail_fast=fail_fast)
        for part in parts:
            await part(look, family)
            while len(app.screen_stack) > 2:  # back to the caseload for the next part
                await look.press("escape")
        assert app.is_running and app.return_code is None
    assert app.return_code in (None, 0) and app.crash_incident is None
    return look


#: Fields whose words are on screen at 120×40 in full: shown literally, markup and all.
SHOWN_LITERALLY = (
    "case.reference", "person.name", "assessment.title", "entry.text", "score.scorer_name",
    "child_voice.text", "conference.chair", "report.title", "family_plan_item.task",
)  # fmt: skip


async def test_through_the_store_the_screens_show_the_words_and_nothing_else(
    store: Store,
) -> None:
    assert store.now() == NOW  # the review's report deadlines are in the next 14 days
    family = seed_family(store)
    through_the_store(store)
    look = await run_tour(store, family, views)
    assert look.problems == [], "\n".join(look.problems)
    missing = [field for field in SHOWN_LITERALLY if field not in look.tags_drawn]
    assert missing == [], f"not shown literally: {missing}"


async def test_through_the_store_the_forms_load_the_words_and_nothing_else(
    store: Store,
) -> None:
    family = seed_family(store)
    through_the_store(store)
    look = await run_tour(store, family, forms)
    assert look.problems == [], "\n".join(look.problems)
    assert len(look.seen) == 5 + 3 + 11  # people, mapping editors, conference forms


async def test_around_the_store_the_screens_clean_what_they_show(store: Store) -> None:
    family = seed_family(store)
    around_the_store(store)
    look = await run_tour(store, family, views)
    assert look.problems == [], "\n".join(look.problems)
    missing = [field for field in SHOWN_LITERALLY if field not in look.tags_drawn]
    assert missing == [], f"not shown literally: {missing}"


async def test_around_the_store_the_forms_clean_what_they_load(store: Store) -> None:
    family = seed_family(store)
    around_the_store(store)
    look = await run_tour(store, family, forms, fail_fast=True)
    assert look.problems == [], "\n".join(look.problems)


def test_every_free_text_field_is_seeded() -> None:
    """The sweep reaches the fields the issue names (and any added later, by type)."""
    fields = {f"{t.ENTITY}.{c}" for t in SYNCED_TABLES for c in free_text_columns(t)}
    for name in (
        "case.reference", "case.family_name", "case.team", "person.name", "person.gp_practice",
        "assessment.title", "entry.text", "entry.source", "entry.disputed_by",
        "score.scorer_name", "score.rationale", "score.zero_wording", "child_voice.text",
        "child_voice.consent_note", "conference.chair", "conference.family_preparation_note",
        "attendee.name", "family_plan_item.task", "child_outcome.dissent", "report.title",
        "report.redaction_reason", "report.qau_reason_note", "report_share.language",
    ):  # fmt: skip
        assert name in fields
    assert clean_text(HOSTILE) != HOSTILE  # the payloads hold what cleaning removes
