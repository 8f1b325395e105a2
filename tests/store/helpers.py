"""Small builders shared by the store tests."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from sofs_tui.domain.enums import PersonKind
from sofs_tui.store import cases, mapping
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Outbox


def outbox(store: Store) -> list[Outbox]:
    with store.read() as session:
        return list(session.exec(select(Outbox).order_by(Outbox.device_seq)).all())  # type: ignore[arg-type]


def fields_of(change: Outbox) -> dict[str, Any]:
    return json.loads(change.fields)  # type: ignore[no-any-return]


def new_case(store: Store, reference: str = "C-001") -> str:
    return cases.create_case(store, reference=reference, family_name="Testfamily").id


def new_family(store: Store) -> dict[str, str]:
    """A case with one child, two parents with parental responsibility, and a mapping."""
    case_id = new_case(store)
    child = cases.add_person(store, case_id, kind=PersonKind.CHILD, name="Kai")
    mum = cases.add_person(
        store, case_id, kind=PersonKind.ADULT, name="Mum", parental_responsibility=True
    )
    dad = cases.add_person(
        store, case_id, kind=PersonKind.ADULT, name="Dad", parental_responsibility=True
    )
    assessment = mapping.create_assessment(store, case_id, title="Mapping")
    return {
        "case": case_id,
        "child": child.id,
        "mum": mum.id,
        "dad": dad.id,
        "assessment": assessment.id,
    }
