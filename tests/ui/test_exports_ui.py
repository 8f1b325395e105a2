"""Exports from the app: the summary for the family from the mapping (x) or the conference (f)
and the QA Unit pack from the conference (x), each to a folder the worker chooses, owner-only,
never over another file; an undecided entry blocks the summary with the list of what to
decide."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, RadioSet

from sofs_tui.app import SofsApp
from sofs_tui.config import Settings
from sofs_tui.domain.enums import Audience, GPInvited, GPOutcome, Section, ShareMethod
from sofs_tui.screens.conference import ConferenceScreen
from sofs_tui.screens.export_dialog import (
    ExportDialog,
    default_export_folder,
    file_safe,
    write_private_new,
)
from sofs_tui.screens.mapping import MappingScreen
from sofs_tui.screens.mapping_editor import EntryEditor
from sofs_tui.store import conferences
from sofs_tui.store.store import Store
from tests.exports.builders import entry, family, held_conference
from tests.exports.pdf_text import pdf_text
from tests.exports.test_parent_summary import appears
from tests.ui.test_mapping import open_mapping, settle

FAMILY_WORDS = "grandmother walks the children to school every morning"
SECRET = "QUENTINOVSKY"  # a neighbour's name, marked not for the family
EXTENSIONS = {"text": ".txt", "html": ".html", "pdf": ".pdf", "csv": ".csv"}


def summary_store(store: Store, *, undecided: str = "") -> dict[str, str]:
    ids = family(store)
    entry(store, ids["assessment"], Section.EXISTING_STRENGTHS, FAMILY_WORDS)
    entry(
        store,
        ids["assessment"],
        Section.HARM,
        f"Neighbour {SECRET} at number 12 told the police about shouting.",
        audience=Audience.NOT_FOR_FAMILY,
    )
    if undecided:
        entry(store, ids["assessment"], Section.COMPLICATING_FACTORS, undecided, Audience.UNDECIDED)
    return ids


async def choose(pilot: Pilot[None], dialog: ExportDialog, fmt: str, folder: Path) -> None:
    """Pick the format with the arrows and Enter, Tab to the folder, type it, Enter."""
    assert dialog.query_one(RadioSet).has_focus
    for _ in range(dialog.formats.index(fmt)):
        await pilot.press("down")
    await pilot.press("enter", "tab")
    assert isinstance(dialog.app.focused, Input)
    await pilot.press("home", "ctrl+k", *str(folder), "enter")


def notices(app: SofsApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def only_file(folder: Path) -> Path:
    files = [p for p in folder.iterdir() if p.is_file()]
    assert len(files) == 1, files
    return files[0]


# --- writing files -------------------------------------------------------------------------------


def test_a_file_is_owner_only_and_never_replaces_another(tmp_path: Path) -> None:
    first = write_private_new(tmp_path, "summary", ".txt", b"one")
    second = write_private_new(tmp_path, "summary", ".txt", b"two")
    assert (first.name, second.name) == ("summary.txt", "summary-2.txt")
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"
    assert stat.S_IMODE(second.stat().st_mode) == 0o600


def test_a_case_reference_becomes_a_plain_file_name() -> None:
    assert file_safe("C-100/2") == "C-100-2"
    assert file_safe("../../etc") == "etc"
    assert file_safe("  ") == "case"


def test_export_folder_is_documents_when_there_is_one_else_home() -> None:
    home = Path.home()  # a fresh folder for each test (tests/conftest.py)
    assert default_export_folder() == home
    (home / "Documents").mkdir()
    assert default_export_folder() == home / "Documents"


# --- the summary for the family ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "html", "pdf"])
async def test_mapping_exports_the_summary_without_what_is_not_for_the_family(
    store: Store, tmp_path: Path, fmt: str
) -> None:
    ids = summary_store(store)
    out = tmp_path / "out"
    out.mkdir()
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.query_one("#export-folder", Input).value == str(Path.home())
        await choose(pilot, dialog, fmt, out)
        await settle(app, pilot)
        assert app.screen is screen
        written = only_file(out)
        assert written.name == f"summary-for-family-C-100-2026-11-25{EXTENSIONS[fmt]}"
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
        data = written.read_bytes()
        assert appears("grandmother walks the children", fmt, data)
        assert not appears(SECRET, fmt, data)
        if fmt == "pdf":
            assert b"/Author" not in data
            assert "Summary for the Testfamily family" in pdf_text(data)
        assert f"Saved the summary for the family to {written}" in notices(app)


async def test_an_undecided_entry_blocks_the_summary_with_the_list_to_decide(
    store: Store, tmp_path: Path
) -> None:
    ids = summary_store(store, undecided="Uncle Rob visits on Fridays after work")
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        out = tmp_path / "out"
        out.mkdir()
        await choose(pilot, dialog, "pdf", out)
        await settle(app, pilot)
        assert app.screen is dialog  # nothing written, the dialog says why
        said = dialog.message
        assert said.startswith("Nothing was written. The summary for the family cannot be made")
        assert "- Complicating factors: “Uncle Rob visits on Fridays after work”" in said
        assert list(out.iterdir()) == []
        assert not any(n.startswith("Saved") for n in notices(app))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MappingScreen)


async def test_export_from_an_open_editor_saves_the_text_first(store: Store) -> None:
    ids = summary_store(store)
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("a")
        await pilot.pause()
        assert screen.open_form() is not None
        screen.query_one(EntryEditor).text_field.focus()
        await pilot.press(*"Dad keeps a diary of visits")
        await screen.run_action("export_summary")  # from the palette while typing
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        # The new entry was saved (audience not yet decided), so it is what blocks the export.
        assert "“Dad keeps a diary of visits”" in dialog.message


async def test_a_folder_that_does_not_exist_is_refused_and_kept(
    store: Store, tmp_path: Path
) -> None:
    ids = summary_store(store)
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mapping(app, pilot, ids["assessment"])
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        await choose(pilot, dialog, "text", tmp_path / "nowhere")
        await settle(app, pilot)
        assert app.screen is dialog
        assert f"There is no folder at {tmp_path / 'nowhere'}" in dialog.message
        assert dialog.query_one("#export-folder", Input).value == str(tmp_path / "nowhere")


# --- the QA Unit pack ----------------------------------------------------------------------------


def pack_store(store: Store) -> str:
    ids = family(store)
    conference_id = held_conference(
        store,
        ids["case"],
        datetime(2026, 11, 16, 10, tzinfo=UTC),
        invited=GPInvited.YES,
        outcome=GPOutcome.PROVIDED_REPORT,
    )
    report = conferences.add_report(
        store, conference_id, title="Greenway School report", author_name="Ms Hart",
        agency="Greenway School",
    )  # fmt: skip
    conferences.record_report_shared_with_parent(
        store, report.id, parent_id=ids["mum"], shared_at=datetime(2026, 11, 9, 9, tzinfo=UTC),
        method=ShareMethod.IN_PERSON, gone_through_together=True,
    )  # fmt: skip
    return conference_id


@pytest.mark.parametrize("fmt", ["html", "pdf", "csv"])
async def test_conference_exports_the_qau_pack(store: Store, tmp_path: Path, fmt: str) -> None:
    conference_id = pack_store(store)
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        screen = ConferenceScreen(conference_id)
        await app.push_screen(screen)
        await settle(app, pilot)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.formats == ("html", "pdf", "csv")
        await choose(pilot, dialog, fmt, tmp_path)
        await settle(app, pilot)
        assert app.screen is screen
        written = only_file(tmp_path)
        assert written.name == f"qau-pack-C-100-{date(2026, 11, 16)}{EXTENSIONS[fmt]}"
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
        data = written.read_bytes()
        text = pdf_text(data) if fmt == "pdf" else data.decode("utf-8")
        assert "Greenway School report" in text and "Ms Hart" in text
        if fmt == "csv":
            assert text.splitlines()[0].startswith("case_reference,")
        if fmt == "pdf":
            assert b"/Author" not in data
        assert f"Saved the QA Unit pack to {written}" in notices(app)


async def test_conference_exports_the_summary_for_the_family_of_the_cases_mapping(
    store: Store, tmp_path: Path
) -> None:
    ids = summary_store(store)
    conference_id = held_conference(store, ids["case"], datetime(2026, 11, 16, 10, tzinfo=UTC))
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        screen = ConferenceScreen(conference_id)
        await app.push_screen(screen)
        await settle(app, pilot)
        await pilot.press("f")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.formats == ("text", "html", "pdf")
        await choose(pilot, dialog, "html", tmp_path)
        await settle(app, pilot)
        assert app.screen is screen
        written = only_file(tmp_path)
        assert written.name == "summary-for-family-C-100-2026-11-25.html"
        data = written.read_bytes()
        assert appears("grandmother walks the children", "html", data)
        assert not appears(SECRET, "html", data)


async def test_a_case_without_a_mapping_says_so_and_writes_nothing(
    store: Store, tmp_path: Path
) -> None:
    from sofs_tui.store import cases

    case_id = cases.create_case(store, reference="C-200", family_name="Nomap").id
    conference_id = held_conference(store, case_id, datetime(2026, 11, 16, 10, tzinfo=UTC))
    out = tmp_path / "out"
    out.mkdir()
    app = SofsApp(lambda: store, Settings())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        await app.push_screen(ConferenceScreen(conference_id))
        await settle(app, pilot)
        await pilot.press("f")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        await choose(pilot, dialog, "text", out)
        await settle(app, pilot)
        assert app.screen is dialog  # still open, saying why
        assert "No assessment found for case C-200" in dialog.message
        assert "start a mapping on the case first" in dialog.message
        assert list(out.iterdir()) == []
