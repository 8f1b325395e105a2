"""A save while another program (a long `sofs demo-data`, an import) holds the store's write
lock past the wait: a clear message, nothing lost, and the same save works once it is free."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from sofs_tui.config import Settings
from sofs_tui.domain.calendar import default_calendar
from sofs_tui.store import engine
from sofs_tui.store.cases import create_case
from sofs_tui.store.errors import StoreBusy
from sofs_tui.store.keys import DataKey
from sofs_tui.store.queries import case_summaries
from sofs_tui.store.store import DB_NAME, Actor, open_with_key


def test_a_save_while_another_program_writes_says_so_and_works_once_it_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)  # the wait, shortened for the test
    key = DataKey.generate()
    store = open_with_key(tmp_path / DB_NAME, key, Actor("t.worker"), create=True)
    other = sqlcipher.connect(str(tmp_path / DB_NAME))
    try:
        other.execute(f"PRAGMA key = \"x'{key.raw_hex()}'\"")
        other.execute("BEGIN IMMEDIATE")  # what a long write in another process holds

        with pytest.raises(StoreBusy) as caught:
            create_case(store, reference="C-1", family_name="Ash")
        assert "Another sofs" in caught.value.user_message

        other.rollback()
        create_case(store, reference="C-1", family_name="Ash")
    finally:
        other.close()
    page = case_summaries(store, rules=Settings().council.deadlines, calendar=default_calendar())
    assert [row.reference for row in page.rows] == ["C-1"]
    store.lock()
