"""The caseload screen on the demo store, at 80×24 and wide."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from sofs_tui.app import SofsApp, _demo_opener
from sofs_tui.config import Settings


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_demo_opens_on_the_invented_caseload(tmp_path: Path, size: tuple[int, int]) -> None:
    app = SofsApp(_demo_opener(tmp_path), Settings())
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        assert table.row_count == 60
        assert str(screen.query_one("#case-status", Static).render()) == "60 cases"
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first[0] == "DEMO-00001" and first[1].endswith(" family")
        assert isinstance(app.focused, DataTable)
        await pilot.press("/")
        assert isinstance(app.focused, Input)
        await pilot.press(*"DEMO-0001")  # DEMO-00010 … DEMO-00019
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one(Input).value == "DEMO-0001"
        assert table.row_count == 10
        assert str(screen.query_one("#case-status", Static).render()) == "10 cases"
    assert app.store is not None and app.store.is_locked  # closing the app locks the store
