"""Schema migrations for the local store, one frozen SQL file per version.

Why not Alembic: the store is a single SQLCipher file per laptop whose connection must be
keyed before anything runs, upgrades must be atomic with the version stamp, and each step is
plain SQLite DDL. `PRAGMA user_version` plus numbered files does that in a few lines, and a
test checks that the migrated schema equals the SQLModel tables.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import TYPE_CHECKING

from sofs_tui.store.errors import StoreError

if TYPE_CHECKING:  # HEAD is read before the database layer is imported (`first_page.py`)
    from sqlalchemy import Connection, Engine


class SchemaTooNew(StoreError):
    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"This case store was written by a newer version of sofs (schema {found}; "
            f"this version knows {known}). Update sofs to open it; nothing was changed."
        )


def _scripts() -> list[tuple[int, str]]:
    found = []
    for item in resources.files(__package__).iterdir():
        match = re.fullmatch(r"(\d{4})_[a-z0-9_]+\.sql", item.name)
        if match:
            found.append((int(match.group(1)), item.read_text(encoding="utf-8")))
    found.sort()
    if [v for v, _ in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("migration files must be numbered 0001, 0002, … without gaps")
    return found


MIGRATIONS = _scripts()
HEAD = len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    without_comments = "\n".join(
        line for line in script.splitlines() if not line.lstrip().startswith("--")
    )
    return [s.strip() for s in without_comments.split(";") if s.strip()]


def schema_version(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def upgrade(engine: Engine, target: int = HEAD) -> int:
    """Bring the store to `target`, one version per transaction; returns the version reached.

    Each step commits its DDL and the new `user_version` together, so a crash mid-upgrade
    leaves the store at the previous version, never between two.
    """
    from sofs_tui.store.engine import write_engine

    with engine.connect() as probe:
        current = schema_version(probe)
    if current > HEAD:
        raise SchemaTooNew(current, HEAD)
    for version, script in MIGRATIONS:
        if current < version <= target:
            with write_engine(engine).connect() as conn, conn.begin():
                for statement in _statements(script):
                    conn.exec_driver_sql(statement)
                conn.exec_driver_sql(f"PRAGMA user_version = {version:d}")
            current = version
    return current
