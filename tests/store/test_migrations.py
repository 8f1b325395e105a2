"""Schema migrations: a store made by the previous version upgrades without losing anything."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import SQLModel

from sofs_tui.store import migrations
from sofs_tui.store.engine import open_engine
from sofs_tui.store.keys import DataKey
from sofs_tui.store.store import Actor, open_with_key
from sofs_tui.store.tables import Entry, SyncMeta


def _v1_store(path: Path, key: DataKey) -> None:
    """A store exactly as schema version 1 left it, with an entry and its pending outbox row."""
    engine = open_engine(path, key, create=True)
    assert migrations.upgrade(engine, target=1) == 1
    with engine.connect().execution_options(sofs_write=True) as conn, conn.begin():
        stamp = "2026-11-01T09:00:00.000000+00:00"
        sync = ("'dirty'", "0", f"'{stamp}'", f"'{stamp}'", "'t.worker'")
        conn.exec_driver_sql(
            "INSERT INTO sync_meta (id, device_id, next_device_seq, server_url, server_epoch,"
            " cursor, clock_offset_s) VALUES (1, 'dev-1', 4, '', '', '', 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO family_case (id, sync_state, deleted, created_at, updated_at, author,"
            " reference, family_name, lead_worker, team, status) VALUES"
            f" ('case-1', {', '.join(sync)}, 'C-1', 'Oldfamily', 't.worker', 'T', 'open')"
        )
        conn.exec_driver_sql(
            "INSERT INTO assessment (id, sync_state, deleted, created_at, updated_at, author,"
            " case_id, title, status, zero_wording, ten_wording, signed_off_by, reopened_by,"
            f" reopen_reason) VALUES ('a-1', {', '.join(sync)}, 'case-1', 'Mapping', 'draft',"
            " 'zero', 'ten', '', '', '')"
        )
        conn.exec_driver_sql(
            "INSERT INTO entry (id, sync_state, deleted, created_at, updated_at, author,"
            " assessment_id, section, text, source, agreement, disputed_by, position) VALUES"
            f" ('e-1', {', '.join(sync)}, 'a-1', 'harm', 'Written under v1.', 'School',"
            " 'agreed', '', 'V')"
        )
        fields = json.dumps({"text": "Written under v1."})
        conn.exec_driver_sql(
            "INSERT INTO outbox (change_id, device_seq, entity, record_id, op, fields,"
            " payload_sha256, client_time, state, attempts, last_error, result) VALUES"
            f" ('ch-3', 3, 'entry', 'e-1', 'create', '{fields}', 'abc', '{stamp}', 'pending',"
            " 0, '', '')"
        )
    engine.dispose()


def test_a_version_1_store_upgrades_without_losing_a_row_or_an_outbox_entry(
    tmp_path: Path,
) -> None:
    key = DataKey.generate()
    db = tmp_path / "sofs.db"
    _v1_store(db, key)
    store = open_with_key(db, key)  # opening migrates to the newest schema
    try:
        with store.engine.connect() as conn:  # type: ignore[union-attr]
            assert migrations.schema_version(conn) == migrations.HEAD
            outbox = conn.exec_driver_sql(
                "SELECT change_id, device_seq, record_id, state, fields FROM outbox"
            ).all()
        assert [tuple(r) for r in outbox] == [
            ("ch-3", 3, "e-1", "pending", json.dumps({"text": "Written under v1."}))
        ]
        with store.read() as session:
            entry = session.get(Entry, "e-1")
            meta = session.get(SyncMeta, 1)
        assert entry is not None and entry.text == "Written under v1."
        assert entry.audience.value == "undecided"  # decided by a person before export
        assert meta is not None and meta.device_id == "dev-1" and meta.next_device_seq == 4
        assert store.device_id == "dev-1"
    finally:
        store.lock()


def test_the_migrated_schema_is_exactly_the_tables_the_code_uses(tmp_path: Path) -> None:
    key = DataKey.generate()
    store = open_with_key(tmp_path / "sofs.db", key, Actor("t"), create=True)
    try:
        inspector = inspect(store.engine)  # type: ignore[arg-type]
        for table in SQLModel.metadata.sorted_tables:
            found = {c["name"]: c for c in inspector.get_columns(table.name)}
            expected = {c.name: c for c in table.columns}
            assert set(found) == set(expected), table.name
            for name, column in expected.items():
                assert bool(found[name]["nullable"]) == bool(column.nullable), (table.name, name)
            indexes = {tuple(i["column_names"]) for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                assert tuple(c.name for c in index.columns) in indexes, (table.name, index.name)
    finally:
        store.lock()


def test_a_store_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    material = secrets.token_bytes(32)
    db = tmp_path / "sofs.db"
    open_with_key(db, DataKey(material), Actor("t"), create=True).lock()  # lock wipes the key
    key = DataKey(material)
    engine = open_engine(db, key)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"PRAGMA user_version = {migrations.HEAD + 1}")
        conn.commit()
    engine.dispose()
    before = db.read_bytes()
    with pytest.raises(migrations.SchemaTooNew, match="newer version of sofs"):
        open_with_key(db, DataKey(material))
    assert db.read_bytes() == before


def test_migration_files_are_numbered_without_gaps() -> None:
    assert [v for v, _ in migrations.MIGRATIONS] == list(range(1, migrations.HEAD + 1))
    assert migrations.HEAD >= 2
