"""Writer process for the kill -9 durability test (R24); not a test module itself.

Usage: ``python kill9_writer.py DATA_DIR`` with the passphrase on stdin. It unlocks the store
the way the app does, prints ``ready``, then saves drafts forever, printing each draft's id
only after its COMMIT has returned (that line is the "Saved" the user would see). The parent
kills it with SIGKILL at a random moment and checks that every printed id survived.

`save_one` is the unit of work under test: swap its body for the real "save entry" when it
exists, keeping the contract "returns an increasing integer id after commit".
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import Engine, text

from sofs_tui.store.engine import open_engine, write_engine
from sofs_tui.store.keys import unlock_keyfile

DRAFT_TEXT = ("Mum says the visit went well; school reports Jay was calm today. " * 32)[:2048]
SCHEMA = "CREATE TABLE IF NOT EXISTS draft (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"


def save_one(engine: Engine, sequence: int) -> int:
    """One save: a single BEGIN IMMEDIATE transaction; returns the new row id after COMMIT."""
    with write_engine(engine).begin() as connection:
        row_id = connection.execute(
            text("INSERT INTO draft (body) VALUES (:body) RETURNING id"),
            {"body": f"{sequence:08d} {DRAFT_TEXT}"},
        ).scalar_one()
    return int(row_id)


def main() -> None:
    data_dir = Path(sys.argv[1])
    key = unlock_keyfile(data_dir / "keyfile.json", sys.stdin.readline().rstrip("\n"))
    engine = open_engine(data_dir / "sofs.db", key)
    print("ready", flush=True)
    sequence = 0
    while True:
        sequence += 1
        row_id = save_one(engine, sequence)
        print(row_id, flush=True)  # acknowledged: only after the commit returned


if __name__ == "__main__":
    main()
