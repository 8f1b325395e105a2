"""The caseload's finer points: the column widths it measures itself, the sync words it keeps
while the filter changes, and F5 reading the store again.

CaseTable widens its columns with `text_width` instead of DataTable's Rich measure (faster for
a page of one-line Text cells); the sync column has a fixed width (its cells arrive after the
rows). Below 120 columns the sync state is its
symbol and count, and what is due comes right after the family, so it is on screen at 80. The
filter matches the reference and the family name; when it changes, the sync words
already read for a case are shown again at once, without reading them again, until F5 or a
return to the list reads them afresh.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rich.cells import cell_len
from sqlmodel import select
from textual.render import measure
from textual.widgets import Input

from sofs_tui.domain.enums import SyncState
from sofs_tui.screens import case_list
from sofs_tui.screens.case_list import SYNC_WIDTH, SYNC_WIDTH_NARROW, sync_cell
from sofs_tui.screens.case_list import WIDE as WIDE_TERMINAL
from sofs_tui.store import cases, queries
from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.queries import CaseSync
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Case
from sofs_tui.widgets.case_table import text_width
from tests.ui.test_case_list import caseload, cells, references, settle

#: Words wider on screen than in characters (CJK, an emoji sequence) and narrower (a combining
#: diaeresis): a width counted in characters would be wrong for both.
WIDE = ("W-李-1", "Nowak-李娜 family 👩‍👧")
NARROW = ("W-2", "Zoe\u0308 Bronte\u0308 family")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_column_widths_are_what_the_data_table_would_measure_and_draw(
    store: Store, size: tuple[int, int]
) -> None:
    fill_demo_caseload(store, 5)
    for reference, family in (WIDE, NARROW):
        cases.create_case(store, reference=reference, family_name=family)
    async with caseload(store, size) as (app, _pilot, screen):
        table = screen.table
        assert table.row_count == 7
        for column in table.ordered_columns:
            if column.key.value == "sync":
                continue  # fixed width, below
            measured = [measure(app.console, column.label, 1)]
            measured += [measure(app.console, cell, 1) for cell in table.get_column(column.key)]
            assert column.auto_width and column.content_width == max(measured), column.key.value
        sync = next(column for column in table.ordered_columns if column.key.value == "sync")
        width = SYNC_WIDTH if size[0] >= WIDE_TERMINAL else SYNC_WIDTH_NARROW
        assert not sync.auto_width and sync.get_render_width(table) == width + 2

        # Drawn where those widths say: each cell of the two rows sits whole in its column.
        starts, x = [], 0
        for column in table.ordered_columns:
            starts.append(x)
            x += column.get_render_width(table)
        for reference, family in (WIDE, NARROW):
            row = references(table).index(reference)
            line = table.render_line(row + 1)  # the header is line 0
            for index, text in ((0, reference), (1, family)):
                start = starts[index] + table.cell_padding
                assert line.crop(start, start + cell_len(text)).text == text
                assert cell_len(text) <= table.ordered_columns[index].content_width


@pytest.mark.parametrize(
    "sync",
    [
        CaseSync(SyncState.CONFLICT, conflicts=99, unsynced=99),
        CaseSync(SyncState.HELD, conflicts=0, unsynced=999),
        CaseSync(SyncState.DIRTY, conflicts=0, unsynced=999),
        CaseSync(SyncState.CLEAN, conflicts=0, unsynced=0),
    ],
)
def test_every_sync_word_fits_the_fixed_sync_column(sync: CaseSync) -> None:
    assert text_width(sync_cell(sync)) <= SYNC_WIDTH
    assert text_width(sync_cell(sync, wide=False)) <= SYNC_WIDTH_NARROW
    thousands = replace(sync, unsynced=sync.unsynced * 100, conflicts=sync.conflicts * 100)
    assert text_width(sync_cell(thousands)) <= SYNC_WIDTH
    assert text_width(sync_cell(thousands, wide=False)) <= SYNC_WIDTH_NARROW


def sync_words(table: Any) -> dict[str, str]:
    sync = table.get_column_index("sync")
    return {cells(table, row)[0]: cells(table, row)[sync] for row in range(table.row_count)}


async def test_the_filter_shows_the_sync_words_already_read_without_reading_them_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_demo_caseload(store, 12)
    with store.read() as session:
        ids = {case.reference: case.id for case in session.exec(select(Case)).all()}
    cases.update_case(store, ids["DEMO-00003"], team="Team West")  # saved here, not yet sent
    read: list[list[str]] = []
    real = queries.case_sync_states

    def recording(store: Store, case_ids: list[str]) -> dict[str, CaseSync]:
        read.append(sorted(case_ids))
        return real(store, case_ids)

    monkeypatch.setattr(queries, "case_sync_states", recording)
    monkeypatch.setattr(case_list, "FILTER_DELAY", 3600.0)  # only Enter applies the filter
    async with caseload(store) as (app, pilot, screen):
        table = screen.table
        assert len(read) == 1 and len(read[0]) == 12  # the first page's states, once
        words = sync_words(table)
        assert words["DEMO-00003"] == "↑ 1" and words["DEMO-00004"] == "✓"  # 80 columns

        # Behind the screen's back, another case gets a change not yet sent.
        cases.update_case(store, ids["DEMO-00004"], team="Team West")
        await pilot.press("/", *"DEMO-0000", "enter")
        await settle(app, pilot)
        assert references(table) == [f"DEMO-0000{n}" for n in range(1, 10)]
        assert len(read) == 1  # nothing read again: the words are the ones already read
        words = sync_words(table)
        assert words["DEMO-00003"] == "↑ 1"  # shown again, from the first read
        assert words["DEMO-00004"] == "✓"  # as read then (F5 reads it afresh)
        assert "…" not in words.values()

        await pilot.press("f5")
        await settle(app, pilot)
        assert len(read) == 2 and len(read[1]) == 9
        assert sync_words(table)["DEMO-00004"] == "↑ 1"
        assert screen.query_one("#case-filter", Input).value == "DEMO-0000"


async def test_f5_reads_the_store_again_and_keeps_the_cursor_on_its_case(store: Store) -> None:
    fill_demo_caseload(store, 12)
    async with caseload(store) as (app, pilot, screen):
        table = screen.table
        await pilot.press("down", "down", "down")
        await settle(app, pilot)
        assert cells(table, table.cursor_row)[0] == "DEMO-00004"

        cases.create_case(store, reference="A-1", family_name="Ashdown family")  # behind it
        await pilot.pause()
        await settle(app, pilot)
        assert table.row_count == 12 and "A-1" not in references(table)  # not before F5

        await pilot.press("f5")
        await settle(app, pilot)
        assert table.row_count == 13 and references(table)[0] == "A-1"
        assert cells(table, table.cursor_row)[0] == "DEMO-00004"  # still on the same case
        assert str(screen.query_one("#case-status").render()).startswith("13 cases")


def cases_by_reference(store: Store) -> dict[str, str]:
    with store.read() as session:
        return {case.reference: case.id for case in session.exec(select(Case)).all()}


def screen_lines(app: Any) -> list[str]:
    """What the terminal shows, line by line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_at_80_columns_each_row_shows_its_nearest_deadline_whole_and_its_sync_state(
    store: Store,
) -> None:
    """What is due, and for whom, is what a worker scans the caseload for: at 80x24 it is on
    screen in full for every row, after the reference and family, with the sync state."""
    fill_demo_caseload(store, 30)
    cases.update_case(store, cases_by_reference(store)["DEMO-00002"], team="Team West")
    async with caseload(store) as (app, _pilot, screen):
        table = screen.table
        deadline = table.get_column_index("deadline")
        sync = table.get_column_index("sync")
        lines = screen_lines(app)
        overdue_seen = False
        for row in range(15):  # the rows on screen
            row_cells = cells(table, row)
            line = next(line for line in lines if row_cells[0] in line)
            assert row_cells[1] in line  # the family
            assert row_cells[deadline] in line, (row_cells[deadline], line)
            assert row_cells[deadline] == "-" or row_cells[deadline].endswith(
                ("(parents)", "(QAU)")
            )
            assert f"{row_cells[deadline]}  " in line  # whole, not cut at the edge
            assert row_cells[sync] in line
            overdue_seen = overdue_seen or "overdue by" in row_cells[deadline]
        assert overdue_seen
        assert sync_words(table)["DEMO-00002"] == "↑ 1"


async def test_crossing_120_columns_changes_the_sync_words_in_place(store: Store) -> None:
    fill_demo_caseload(store, 30)
    cases.update_case(store, cases_by_reference(store)["DEMO-00002"], team="Team West")
    async with caseload(store) as (app, pilot, screen):
        table = screen.table
        await pilot.press("down", "down", "down")
        on = references(table)[table.cursor_row]
        sync = next(column for column in table.ordered_columns if column.key.value == "sync")

        await pilot.resize_terminal(120, 40)
        await settle(app, pilot)
        assert sync_words(table)["DEMO-00002"] == "↑ 1 unsent"
        assert sync_words(table)["DEMO-00001"] == "✓ synced"
        assert sync.get_render_width(table) == SYNC_WIDTH + 2
        assert "↑ 1 unsent" in "\n".join(screen_lines(app))
        assert table.row_count == 30 and references(table)[table.cursor_row] == on

        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        assert sync_words(table)["DEMO-00002"] == "↑ 1"
        assert sync.get_render_width(table) == SYNC_WIDTH_NARROW + 2
        assert references(table)[table.cursor_row] == on

        screen._sync_known.clear()  # as while a reload is on its way (or failed)
        await pilot.resize_terminal(120, 40)
        await settle(app, pilot)
        assert set(sync_words(table).values()) == {"…"}  # not words cut to the narrow width
