"""Writer process for the kill -9 durability test (R24); not a test module itself.

Usage: ``python kill9_writer.py DATA_DIR ASSESSMENT_ID`` with the passphrase on stdin. It
unlocks the store the way the app does, prints ``ready``, then saves entries forever through
the app's own unit of work (`mapping.save_entry`: the entry and its outbox row in one
transaction), printing each entry's number only after the save returned — that line is the
"Saved" the user would see. The parent kills it with SIGKILL at a random moment and checks
that every printed save survived, with its outbox row.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlmodel import select

from sofs_tui.domain.enums import Section
from sofs_tui.store.mapping import save_entry
from sofs_tui.store.store import Store, unlock
from sofs_tui.store.tables import Entry

DRAFT_TEXT = ("Mum says the visit went well; school reports Jay was calm today. " * 32)[:2048]


def number_of(entry_text: str) -> int:
    return int(entry_text[:8])


def next_number(store: Store, assessment_id: str) -> int:
    with store.read() as session:
        texts = session.exec(select(Entry.text).where(Entry.assessment_id == assessment_id)).all()
    return max((number_of(t) for t in texts), default=0) + 1


def main() -> None:
    data_dir, assessment_id = Path(sys.argv[1]), sys.argv[2]
    store = unlock(data_dir, sys.stdin.readline().rstrip("\n"))
    number = next_number(store, assessment_id)
    print("ready", flush=True)
    while True:
        save_entry(store, assessment_id, section=Section.HARM, text=f"{number:08d} {DRAFT_TEXT}")
        print(number, flush=True)  # acknowledged: only after the commit returned
        number += 1


if __name__ == "__main__":
    main()
