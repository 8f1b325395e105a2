"""Every save writes its row and its outbox row in one transaction (SYNC.md L1, L2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from sofs_tui.domain.enums import Agreement, Audience, Section, SyncState
from sofs_tui.store import cases, changes, mapping
from sofs_tui.store.engine import integrity_ok
from sofs_tui.store.errors import StoreError, StoreFull, StoreLocked
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Entry, Outbox
from tests.store.helpers import fields_of, new_case, new_family, outbox


def test_save_entry_writes_the_row_and_its_outbox_row(store: Store) -> None:
    ids = new_family(store)
    before = len(outbox(store))
    entry = mapping.save_entry(
        store, ids["assessment"], section=Section.HARM, text="Kai had a bruise on 3 May."
    )
    with store.read() as session:
        row = session.get(Entry, entry.id)
    assert row is not None and row.text == "Kai had a bruise on 3 May."
    assert row.sync_state is SyncState.DIRTY and row.author == "t.worker"
    changes_after = outbox(store)
    assert len(changes_after) == before + 1
    change = changes_after[-1]
    assert (change.entity, change.record_id, change.op, change.state) == (
        "entry",
        entry.id,
        "create",
        "pending",
    )
    assert fields_of(change)["text"] == "Kai had a bruise on 3 May."
    assert fields_of(change)["section"] == "harm"
    assert change.base_rev is None and len(change.payload_sha256) == 64


def test_a_failed_save_leaves_neither_the_row_nor_an_outbox_row(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = new_family(store)
    before = len(outbox(store))

    def broken_outbox(*args: object, **kwargs: object) -> None:
        raise OSError("simulated failure after the row was added")

    monkeypatch.setattr(changes, "_outbox", broken_outbox)
    with pytest.raises(OSError):
        mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="lost?")
    monkeypatch.undo()
    with store.read() as session:
        assert session.exec(select(Entry)).all() == []
    assert len(outbox(store)) == before


def test_device_seq_counts_up_one_per_change(store: Store) -> None:
    new_family(store)
    seqs = [c.device_seq for c in outbox(store)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_edits_before_any_send_fold_into_the_pending_outbox_row(store: Store) -> None:
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="one")
    count = len(outbox(store))
    mapping.save_entry(store, ids["assessment"], entry_id=entry.id, text="one two")
    mapping.save_entry(store, ids["assessment"], entry_id=entry.id, text="one two three")
    rows = outbox(store)
    assert len(rows) == count
    assert rows[-1].op == "create" and fields_of(rows[-1])["text"] == "one two three"


def test_an_edit_after_sending_started_gets_its_own_row_pointing_at_the_earlier_one(
    store: Store,
) -> None:
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="first")
    with store.write() as session:
        sent = session.exec(select(Outbox).where(Outbox.record_id == entry.id)).one()
        sent.state, sent.attempts = "inflight", 1
        session.add(sent)
    mapping.save_entry(store, ids["assessment"], entry_id=entry.id, text="second")
    mine = [c for c in outbox(store) if c.record_id == entry.id]
    assert [c.op for c in mine] == ["create", "update"]
    assert mine[1].base_change_id == mine[0].change_id
    assert fields_of(mine[1]) == {"text": "second"}


def test_an_update_carries_only_the_fields_that_changed(store: Store) -> None:
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="x")
    with store.write() as session:  # pretend the create was accepted by the service
        for change in session.exec(select(Outbox)).all():
            change.state = "done"
            session.add(change)
        row = session.get(Entry, entry.id)
        assert row is not None
        row.server_rev, row.sync_state = 1, SyncState.CLEAN
        session.add(row)
    mapping.save_entry(
        store, ids["assessment"], entry_id=entry.id, text="x", agreement=Agreement.DISPUTED
    )
    last = outbox(store)[-1]
    assert last.op == "update" and fields_of(last) == {"agreement": "disputed"}
    assert last.base_rev == 1


def test_saving_unchanged_text_writes_no_outbox_row(store: Store) -> None:
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="same")
    count = len(outbox(store))
    mapping.save_entry(store, ids["assessment"], entry_id=entry.id, text="same")
    assert len(outbox(store)) == count


def test_delete_leaves_a_tombstone_and_a_delete_change(store: Store) -> None:
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="gone")
    mapping.delete_entry(store, entry.id)
    with store.read() as session:
        row = session.get(Entry, entry.id)
    assert row is not None and row.deleted
    last = outbox(store)[-1]
    assert (last.op, fields_of(last)) == ("delete", {"deleted": True})
    with pytest.raises(changes.RecordNotFound):
        mapping.save_entry(store, ids["assessment"], entry_id=entry.id, text="back?")


def test_the_store_strips_control_characters_whatever_the_caller_sent(store: Store) -> None:
    ids = new_family(store)
    payload = "Dad said\x1b]52;c;SGVsbG8=\x07 he\u202e was \x9b31mfine\r\nnext line"
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text=payload)
    for text in (entry.text, fields_of(outbox(store)[-1])["text"]):
        assert "\x1b" not in text and "\u202e" not in text and "\x9b" not in text
        assert "\x07" not in text and "\r" not in text
        assert text.endswith("fine\nnext line")


def test_markup_like_text_is_stored_exactly(store: Store) -> None:
    ids = new_family(store)
    text = "[@click=app.quit]X[/] [b]not bold[/b] [TODO] 50% [/]"
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text=text)
    with store.read() as session:
        row = session.get(Entry, entry.id)
    assert row is not None and row.text == text


def test_duplicate_case_reference_is_refused_with_a_clear_message(store: Store) -> None:
    new_case(store, "C-9")
    with pytest.raises(cases.DuplicateReference, match="C-9 already exists"):
        new_case(store, "C-9")


def test_audience_defaults_to_undecided(store: Store) -> None:
    ids = new_family(store)
    entry = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="x")
    assert entry.audience is Audience.UNDECIDED


def test_a_locked_store_refuses_reads_and_writes(store: Store) -> None:
    new_case(store)
    store.lock()
    assert store.is_locked and store.key is None
    with pytest.raises(StoreLocked), store.read():
        pass
    with pytest.raises(StoreError, match="locked"):
        new_case(store, "C-2")


def test_a_saved_sentinel_is_not_in_the_files_on_disk(store: Store, store_path: Path) -> None:
    """R1 through the real save path, with the WAL still holding the commit."""
    ids = new_family(store)
    mapping.save_entry(
        store, ids["assessment"], section=Section.HARM, text="ZZ-SENTINEL-CHILD-NAME said so"
    )
    files = [p for p in store_path.iterdir() if p.name.startswith("sofs.db")]
    assert {p.name for p in files} >= {"sofs.db", "sofs.db-wal"}
    for path in files:
        data = path.read_bytes()
        for encoding in ("utf-8", "utf-16-le"):
            assert "ZZ-SENTINEL".encode(encoding) not in data, path.name
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(store_path / "sofs.db").execute("SELECT * FROM sqlite_master").fetchall()


def test_disk_full_during_a_save_keeps_the_earlier_save_and_says_what_to_do(
    store: Store,
) -> None:
    """R25 through the real save path: the failed save leaves no row and no outbox entry."""
    ids = new_family(store)
    kept = mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="earlier")
    assert store.engine is not None
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()

    def cap(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")

    event.listen(store.engine, "checkout", cap)
    before = len(outbox(store))
    with pytest.raises(StoreFull) as failed:
        mapping.save_entry(store, ids["assessment"], section=Section.HARM, text="x" * 400_000)
    assert "disk is full" in failed.value.user_message
    assert "still on screen" in failed.value.user_message
    event.remove(store.engine, "checkout", cap)
    with store.read() as session:
        texts = [e.text for e in session.exec(select(Entry)).all()]
    assert texts == [kept.text] and len(outbox(store)) == before
    assert integrity_ok(store.engine)
