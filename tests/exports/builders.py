"""Small builders for the export tests: an enrolled store on disk for the CLI, a family with a
mapping, conferences with known GP outcomes, and a parser holding just our commands."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, date, datetime
from pathlib import Path

from sofs_tui.domain.enums import (
    Audience,
    ConferenceKind,
    ConferenceStatus,
    GPInvited,
    GPOutcome,
    PersonKind,
    Section,
)
from sofs_tui.exports.cli_commands import add_export_commands, run_export_command
from sofs_tui.store import cases, conferences, mapping
from sofs_tui.store.keys import KdfParams
from sofs_tui.store.store import Actor, Store, enrol

PASS = "export tests passphrase"


def enrolled_store(data_dir: Path) -> Store:
    """A store set up as `sofs init` would, with a cheap KDF (for the CLI tests)."""
    return enrol(data_dir, PASS, Actor("t.worker"), KdfParams.FAST_FOR_TESTS)


def parse(data_dir: Path, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sofs")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--passphrase-stdin", action="store_true")
    add_export_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["--data-dir", str(data_dir), "--passphrase-stdin", *argv])


def run(data_dir: Path, *argv: str, passphrase: str = PASS) -> tuple[int, str]:
    """`sofs --data-dir DIR --passphrase-stdin ARGV…` through `run_export_command`."""
    out = io.StringIO()
    code = run_export_command(parse(data_dir, *argv), io.StringIO(passphrase + "\n"), out)
    return code, out.getvalue()


def family(store: Store, reference: str = "C-100", name: str = "Testfamily") -> dict[str, str]:
    """A case with a child, two parents with parental responsibility, and a mapping."""
    case_id = cases.create_case(store, reference=reference, family_name=name).id
    child = cases.add_person(store, case_id, kind=PersonKind.CHILD, name="Kai")
    mum = cases.add_person(
        store, case_id, kind=PersonKind.ADULT, name="Mum", parental_responsibility=True
    )
    dad = cases.add_person(
        store, case_id, kind=PersonKind.ADULT, name="Dad", parental_responsibility=True
    )
    assessment = mapping.create_assessment(store, case_id, title="Mapping after the ICPC")
    return {
        "case": case_id,
        "child": child.id,
        "mum": mum.id,
        "dad": dad.id,
        "assessment": assessment.id,
    }


def entry(
    store: Store,
    assessment_id: str,
    section: Section,
    text: str,
    audience: Audience = Audience.FAMILY,
    source: str = "",
) -> str:
    return mapping.save_entry(
        store, assessment_id, text=text, section=section, audience=audience, source=source
    ).id


def held_conference(
    store: Store,
    case_id: str,
    starts_at: datetime,
    *,
    kind: ConferenceKind = ConferenceKind.REVIEW,
    invited: GPInvited | None = None,
    outcome: GPOutcome | None = None,
    status: ConferenceStatus = ConferenceStatus.HELD,
) -> str:
    conference = conferences.schedule_conference(store, case_id, kind=kind, starts_at=starts_at)
    conferences.update_conference(store, conference.id, status=status)
    if invited is not None or outcome is not None:
        conferences.record_gp_involvement(store, conference.id, invited=invited, outcome=outcome)
    return conference.id


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in UTC (the tests pick winter days, when London is on UTC)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
