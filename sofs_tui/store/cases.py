"""Units of work for cases and the people on them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import select

from sofs_tui.domain.enums import PersonKind
from sofs_tui.store import changes
from sofs_tui.store.errors import StoreError
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Case, Person


class DuplicateReference(StoreError):
    def __init__(self, reference: str) -> None:
        super().__init__(
            f"A case with reference {reference} already exists. Open that case, or use "
            "another reference."
        )


def create_case(
    store: Store,
    *,
    reference: str,
    family_name: str,
    lead_worker: str = "",
    team: str = "",
    opened_on: date | None = None,
) -> Case:
    """A new case (a family), led by `lead_worker` (default: whoever is signed in)."""
    reference = reference.strip()
    if not reference or not family_name.strip():
        raise StoreError("A case needs a reference and a family name.")
    with store.write() as session:
        clash = session.exec(select(Case.id).where(Case.reference == reference)).first()
        if clash is not None:
            raise DuplicateReference(reference)
        case = Case(
            id="",
            reference=reference,
            family_name=family_name.strip(),
            lead_worker=lead_worker or store.actor.username,
            team=team,
            opened_on=opened_on or store.now().date(),
        )
        return changes.create(session, store, case)


def update_case(store: Store, case_id: str, **fields: Any) -> Case:
    with store.write() as session:
        case = changes.get(session, Case, case_id, "case")
        changes.update(session, store, case, **fields)
        return case


def add_person(store: Store, case_id: str, *, kind: PersonKind, name: str, **fields: Any) -> Person:
    """A child, adult, safety-network member or professional on a case."""
    if not name.strip():
        raise StoreError("Give the person's name (or how the family refers to them).")
    with store.write() as session:
        changes.get(session, Case, case_id, "case")
        person = Person(id="", case_id=case_id, kind=kind, name=name.strip(), **fields)
        return changes.create(session, store, person)


def update_person(store: Store, person_id: str, **fields: Any) -> Person:
    with store.write() as session:
        person = changes.get(session, Person, person_id, "person")
        changes.update(session, store, person, **fields)
        return person


def remove_person(store: Store, person_id: str) -> None:
    with store.write() as session:
        changes.tombstone(session, store, changes.get(session, Person, person_id, "person"))
