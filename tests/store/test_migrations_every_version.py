"""A store left at ANY earlier schema version opens at the newest one with every row intact.

For each version N before HEAD: a real SQLCipher store is built at version N (the migrations up
to N, as `test_migrations.py` does), every table that exists at N gets rows (columns read from
`PRAGMA table_info`, values valid for the column's type, NULL in the nullable ones of one row),
and the store is then unlocked the way the app unlocks it. Every table must keep its row count
and every row its values in the columns it had at N; the outbox (what is still to be sent to
the service) must be identical. The last test breaks a copy of a migration to show the check
notices a dropped, added or rewritten row.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Boolean, Connection, Date, Float, Integer
from sqlmodel import SQLModel

from sofs_tui.store import migrations
from sofs_tui.store import tables as _tables  # noqa: F401 (fills SQLModel.metadata)
from sofs_tui.store.engine import WRITE_OPTIONS, open_engine
from sofs_tui.store.files import DB_NAME, KEYFILE_NAME
from sofs_tui.store.keys import KdfParams, create_keyfile
from sofs_tui.store.store import unlock
from sofs_tui.store.types import StrEnumType, UTCDateTime

PASSPHRASE = "correct horse battery"
ROWS = 3  # per table (sync_meta holds one row: the app reads id 1)
OLDER_VERSIONS = range(1, migrations.HEAD)

# Tables each version must have, so a helper that silently skipped them cannot pass.
TABLES_FROM = {
    1: {"family_case", "person", "assessment", "entry", "score", "child_voice", "conference"}
    | {"attendee", "family_plan_item", "child_outcome", "report", "report_share"}
    | {"outbox", "sync_meta"},
    3: {"shadow", "sync_conflict", "revoked_case"},
    4: {"qau_log_import", "qau_log_conference", "qau_log_report"},
}

# Plain string columns whose values come from a closed set in the code.
CHOICES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("outbox", "op"): ("create", "update", "delete"),
    ("outbox", "state"): ("pending", "inflight", "done"),
    ("outbox", "entity"): ("entry",),
    ("shadow", "entity"): ("entry",),
    ("sync_conflict", "entity"): ("entry",),
    ("sync_conflict", "status"): ("open", "resolved"),
    ("sync_conflict", "kind"): ("hard", "soft"),
    ("sync_conflict", "incoming_op"): ("update", "delete"),
    ("sync_meta", "role"): ("manager",),
    ("outbox", "resolves"): ('["sync_conflict-0"]', "[]"),
    ("sync_meta", "next_device_seq"): (100,),
    ("sync_meta", "device_id"): ("0b9c3c8e-3f6f-4c55-9d0e-6a1f1f1f2a01",),
    ("score", "value"): (0, 7, 10),
}
# Id columns without a foreign key, pointing at the table whose rows they name.
POINTS_AT = {
    "child_id": "person",
    "parent_id": "person",
    "person_id": "person",
    "record_id": "entry",
    "goal_for_id": "entry",
    "danger_statement_id": "entry",
    "case_id": "family_case",
    "base_change_id": "outbox",
    "incoming_change_id": "outbox",
    "resolution_change_id": "outbox",
}

Rows = dict[str, list[tuple[Any, ...]]]


def _table_names(conn: Connection) -> list[str]:
    rows = conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    )
    return [str(name) for (name,) in rows]


def _columns(conn: Connection, table: str) -> list[tuple[str, str, bool, bool]]:
    """(name, declared type, nullable, primary key) for each column, in table order."""
    info = conn.exec_driver_sql(f'PRAGMA table_info("{table}")').all()
    return [(str(r[1]), str(r[2]).upper(), not r[3] and not r[5], bool(r[5])) for r in info]


def _value(table: str, column: str, declared: str, row: int, parents: dict[str, str]) -> Any:
    """A value valid for `table.column` in row `row` (0-based)."""
    if column in parents:
        return f"{parents[column]}-{row}"
    if (table, column) in CHOICES:
        choices = CHOICES[table, column]
        return choices[row % len(choices)]
    if column in POINTS_AT and "CHAR" in declared:
        return f"{POINTS_AT[column]}-{row}"
    model = SQLModel.metadata.tables[table].columns.get(column)
    kind = model.type if model is not None else None
    if isinstance(kind, StrEnumType):
        members = list(kind.enum_cls)
        return members[row % len(members)].value
    if isinstance(kind, UTCDateTime):
        return f"2026-0{row + 1}-1{row}T09:3{row}:0{row}.12345{row}+00:00"
    if isinstance(kind, Date) or declared == "DATE":
        return f"2026-0{row + 1}-2{row}"
    if isinstance(kind, Boolean) or declared == "BOOLEAN":
        return (row + 1) % 2
    if isinstance(kind, Float) or declared == "FLOAT":
        return 1.25 + row
    if isinstance(kind, Integer) or declared == "INTEGER":
        return 10 * row + 7
    default = getattr(getattr(model, "default", None), "arg", None)
    if default in ("{}", "[]"):  # a JSON document
        return json.dumps({"column": column, "row": row, "text": "Zoë’s “quote”; 'x'"})
    text = f"{column} {row}: Zoë’s “quote”; 'x'\nline two"
    size = declared.partition("(")[2].rstrip(")")
    return text[: int(size)] if size.isdigit() else text


def _fill(conn: Connection, table: str) -> None:
    columns = _columns(conn, table)
    parents = {
        str(fk[3]): str(fk[2])
        for fk in conn.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")').all()
    }
    names = ", ".join(f'"{name}"' for name, *_ in columns)
    marks = ", ".join("?" for _ in columns)
    for row in range(1 if table == "sync_meta" else ROWS):
        values: list[Any] = []
        for name, declared, nullable, primary in columns:
            if primary:
                values.append(1 if table == "sync_meta" else f"{table}-{row}")
            elif nullable and row == 1:  # one row with every optional value missing
                values.append(None)
            elif (table, name) == ("outbox", "payload_sha256"):
                values.append(hashlib.sha256(f"change {row}".encode()).hexdigest())
            else:
                values.append(_value(table, name, declared, row, parents))
        conn.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', tuple(values))


def _snapshot(conn: Connection, columns: dict[str, list[str]]) -> Rows:
    """Every row of each table, in the given columns, in a stable order."""
    found = {}
    for table, names in columns.items():
        listed = ", ".join(f'"{name}"' for name in names)
        sql = f'SELECT {listed} FROM "{table}" ORDER BY {listed}'
        found[table] = [tuple(row) for row in conn.exec_driver_sql(sql).all()]
    return found


def _store_at_version(data_dir: Path, version: int) -> tuple[dict[str, list[str]], Rows]:
    """An enrolled store at schema `version`, every table filled; its columns and rows."""
    data_dir.mkdir()
    key, _store_id = create_keyfile(data_dir / KEYFILE_NAME, PASSPHRASE, KdfParams.FAST_FOR_TESTS)
    engine = open_engine(data_dir / DB_NAME, key, create=True)
    try:
        assert migrations.upgrade(engine, target=version) == version
        with engine.connect().execution_options(**WRITE_OPTIONS) as conn, conn.begin():
            assert migrations.schema_version(conn) == version
            names = _table_names(conn)
            for since, expected in TABLES_FROM.items():
                if version >= since:
                    assert expected <= set(names), (version, expected - set(names))
            for table in names:
                _fill(conn, table)
        with engine.connect() as conn:
            columns = {t: [c[0] for c in _columns(conn, t)] for t in names}
            before = _snapshot(conn, columns)
    finally:
        engine.dispose()
        key.wipe()
    assert all(len(rows) >= 1 for rows in before.values()), before
    return columns, before


def _differences_after_upgrade(data_dir: Path, version: int) -> list[str]:
    """Unlock a filled version-`version` store as the app does; what the upgrade changed."""
    columns, before = _store_at_version(data_dir, version)
    store = unlock(data_dir, PASSPHRASE)  # opening migrates to HEAD
    try:
        with store.engine.connect() as conn:  # type: ignore[union-attr]
            assert migrations.schema_version(conn) == migrations.HEAD
            present = set(_table_names(conn))
            missing = [f"{t}: table gone" for t in columns if t not in present]
            after = _snapshot(conn, {t: c for t, c in columns.items() if t in present})
    finally:
        store.lock()
    problems = list(missing)
    for table, rows in after.items():
        if len(rows) != len(before[table]):
            problems.append(f"{table}: {len(before[table])} rows before, {len(rows)} after")
            continue
        for old, new in zip(before[table], rows, strict=True):
            problems.extend(
                f"{table}: {old[0]}.{name} was {was!r}, now {now!r}"
                for name, was, now in zip(columns[table], old, new, strict=True)
                if was != now
            )
    return problems


@pytest.mark.parametrize("version", OLDER_VERSIONS)
def test_a_store_at_every_earlier_version_upgrades_keeping_every_row(
    tmp_path: Path, version: int
) -> None:
    assert _differences_after_upgrade(tmp_path / "data", version) == []


@pytest.mark.parametrize(
    ("version", "sabotage", "table"),
    [
        (1, "DELETE FROM entry WHERE id = 'entry-2'", "entry"),
        (1, "UPDATE family_case SET family_name = upper(family_name)", "family_case"),
        (migrations.HEAD - 1, "UPDATE outbox SET state = 'done'", "outbox"),
        (migrations.HEAD - 1, "DELETE FROM outbox WHERE device_seq = 17", "outbox"),
        (migrations.HEAD - 1, "UPDATE shadow SET data = '{}'", "shadow"),
        (migrations.HEAD - 1, "DELETE FROM qau_log_report", "qau_log_report"),
        (
            migrations.HEAD - 1,
            "INSERT INTO revoked_case VALUES ('extra', '2026-01-01T00:00:00+00:00')",
            "revoked_case",
        ),
    ],
)
def test_the_check_notices_a_migration_that_loses_adds_or_rewrites_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: int, sabotage: str, table: str
) -> None:
    """Control: the newest migration, broken in a copy, must make the check above fail."""
    broken = [
        (number, f"{script}\n;{sabotage};\n" if number == migrations.HEAD else script)
        for number, script in migrations.MIGRATIONS
    ]
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    problems = _differences_after_upgrade(tmp_path / "data", version)
    assert [p for p in problems if p.startswith(f"{table}:")], problems
