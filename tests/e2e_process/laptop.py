"""What a worker does in the app's screens, as a command, for the scripted walkthrough:

    python -m tests.e2e_process.laptop --data-dir DIR new-case REFERENCE FAMILY TEXT
    python -m tests.e2e_process.laptop --data-dir DIR add-entry ASSESSMENT_ID TEXT
    python -m tests.e2e_process.laptop --data-dir DIR edit-entry ASSESSMENT_ID ENTRY_ID TEXT

The store passphrase is the first line of standard input. Each action is one unit of work of
the store (the same functions the screens call) and prints the ids it made as JSON. Nothing
here talks to the service: this is offline work.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from sofs_tui.domain.enums import Section
from sofs_tui.store.cases import create_case
from sofs_tui.store.mapping import create_assessment, save_entry
from sofs_tui.store.store import unlock


def main(
    argv: list[str] | None = None, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    parser = argparse.ArgumentParser(prog="laptop")
    parser.add_argument("--data-dir", type=Path, required=True)
    actions = parser.add_subparsers(dest="action", required=True)
    new_case = actions.add_parser("new-case")
    new_case.add_argument("reference")
    new_case.add_argument("family")
    new_case.add_argument("text")
    add = actions.add_parser("add-entry")
    add.add_argument("assessment_id")
    add.add_argument("text")
    edit = actions.add_parser("edit-entry")
    edit.add_argument("assessment_id")
    edit.add_argument("entry_id")
    edit.add_argument("text")
    args = parser.parse_args(argv)

    passphrase = (stdin or sys.stdin).readline().rstrip("\r\n")
    store = unlock(args.data_dir.resolve(), passphrase)
    try:
        made: dict[str, str] = {}
        if args.action == "new-case":
            case = create_case(store, reference=args.reference, family_name=args.family)
            assessment = create_assessment(store, case.id, title="Initial assessment")
            entry = save_entry(store, assessment.id, section=Section.HARM, text=args.text)
            made = {"case": case.id, "assessment": assessment.id, "entry": entry.id}
        elif args.action == "add-entry":
            entry = save_entry(store, args.assessment_id, section=Section.HARM, text=args.text)
            made = {"entry": entry.id}
        else:
            entry = save_entry(store, args.assessment_id, entry_id=args.entry_id, text=args.text)
            made = {"entry": entry.id}
    finally:
        store.lock()
    print(json.dumps(made), file=out or sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
