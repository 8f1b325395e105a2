"""One small working day, played the same way with and without a crash (F8, F9, I12).

Alice has written up a family offline (a case, a child, an assessment, entries, one entry
edited twice); Bob has another family. Alice syncs first (that sync may be killed, or the
service under it), syncs again, then Bob signs in and syncs, and both sync once more. The
templates are made once; every run starts from byte-identical copies of them, so record and
change ids match across runs and the end states compare directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sofs_tui.domain.enums import PersonKind, Section
from sofs_tui.domain.positions import position_between
from sofs_tui.store import changes
from sofs_tui.store.cases import add_person, create_case
from sofs_tui.store.mapping import create_assessment, save_entry
from sofs_tui.store.tables import Entry
from tests.e2e_process.harness import Laptop, Run, Service
from tests.e2e_process.state import (
    ClientState,
    ServerState,
    client_state,
    server_state,
)


def write_family(laptop: Laptop, reference: str, entries: int = 3, words: int = 12) -> list[str]:
    """A case, an assessment and `entries` entries of some length, saved offline; returns
    the ids (case, assessment, entries...). The entries are saved in one unit of work (one
    outbox row each, as separate saves make), so that a big caseload is quick to write."""
    with laptop.store() as store:
        case = create_case(store, reference=reference, family_name=f"Family {reference}")
        assessment = create_assessment(store, case.id, title="Assessment")
        ids = [case.id, assessment.id]
        position: str | None = None
        with store.write() as session:
            for n in range(entries):
                position = position_between(position, None)
                text = f"Entry {n} for {reference}: " + "observed at the visit, " * words
                entry = Entry(
                    id="",
                    assessment_id=assessment.id,
                    section=Section.HARM,
                    text=text,
                    position=position,
                )
                ids.append(changes.create(session, store, entry).id)
        return ids


@dataclass(frozen=True)
class Templates:
    alice: Laptop
    bob: Laptop


def write_templates(root: Path) -> Templates:
    alice = Laptop("alice", root / "alice").enrol()
    with alice.store() as store:
        case = create_case(store, reference="CP-1001", family_name="Adebayo")
        add_person(store, case.id, kind=PersonKind.CHILD, name="Tayo")
        assessment = create_assessment(store, case.id, title="Initial assessment")
        harm = save_entry(
            store, assessment.id, section=Section.HARM, text="Bruise on Tayo's arm, age 4."
        )
        save_entry(
            store,
            assessment.id,
            section=Section.EXISTING_STRENGTHS,
            text="Grandmother collects Tayo from nursery every day. " * 20,
        )
        save_entry(
            store,
            assessment.id,
            section=Section.NEXT_STEPS,
            text="Visit on Thursday with the health visitor.",
        )
        for text in ("Bruise on Tayo's upper arm, age 4.", "Bruise, upper left arm, age 4."):
            save_entry(store, assessment.id, entry_id=harm.id, text=text)
    bob = Laptop("bob", root / "bob").enrol()
    with bob.store() as store:
        case = create_case(store, reference="CP-2002", family_name="Novak")
        assessment = create_assessment(store, case.id, title="Review")
        for section, text in (
            (Section.COMPLICATING_FACTORS, "Mum's new partner is not known to us."),
            (Section.EXISTING_SAFETY, "Aunt stays over on school nights."),
        ):
            save_entry(store, assessment.id, section=section, text=text)
    return Templates(alice, bob)


@dataclass
class Outcome:
    first: Run  # Alice's first `sofs sync` (the one that may be killed, or its service)
    after_first: ClientState
    server_after_first: ServerState
    service_exit: int | None  # the service's status when a failpoint killed it
    restart: Run  # Alice's `sofs sync` after the crash
    after_restart: ClientState
    alice: ClientState
    bob: ClientState
    server: ServerState


def play(
    templates: Templates,
    service: Service,
    run_dir: Path,
    *,
    crash_at: str | None = None,
    service_failpoint: str | None = None,
) -> Outcome:
    """The day, on a provisioned service that is not running yet. Alice's first sync and the
    one after it run as `sofs sync` processes when one is to be killed; every other step
    runs the same command in this process (quicker, and nothing there is killed)."""
    alice = templates.alice.copy_to(run_dir / "alice")
    bob = templates.bob.copy_to(run_dir / "bob")
    in_process = crash_at is None
    service.start(failpoint=service_failpoint)
    alice.login(service.url, here=True)
    first = alice.sync(crash_at=crash_at, expect=None, here=in_process)
    service_exit = None
    if service_failpoint is not None:
        service_exit = service.wait_exit()
    after_first, server_after_first = client_state(alice), server_state(service.database_url)
    if service_failpoint is not None:
        service.start()
    restart = alice.sync(here=in_process)
    after_restart = client_state(alice)
    bob.login(service.url, here=True)
    bob.sync(here=True)
    alice.sync(here=True)
    bob.sync(here=True)
    return Outcome(
        first,
        after_first,
        server_after_first,
        service_exit,
        restart,
        after_restart,
        client_state(alice),
        client_state(bob),
        server_state(service.database_url),
    )
