"""The invented caseload covers every kind, model and sharing state, and nothing real."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from sofs_tui.domain.enums import (
    Audience,
    ConferenceKind,
    ConferenceModel,
    GPInvited,
    GPOutcome,
    QauReason,
)
from sofs_tui.domain.mapping import completeness
from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Assessment,
    Case,
    Conference,
    Entry,
    Outbox,
    Person,
    Report,
    ReportShare,
    Score,
)


def test_the_demo_caseload_has_every_kind_model_and_state(store: Store) -> None:
    counts = fill_demo_caseload(store, 150)
    assert counts["family_case"] == 150
    with store.read() as session:
        conferences = session.exec(select(Conference)).all()
        reports = session.exec(select(Report)).all()
        shares = session.exec(select(ReportShare)).all()
        entries = session.exec(select(Entry)).all()
        assert session.exec(select(Outbox)).all() == []  # as if pulled: nothing to send
        assert {c.kind for c in conferences} == set(ConferenceKind)
        assert {c.model for c in conferences} == set(ConferenceModel)
        assert {c.gp_invited for c in conferences} == set(GPInvited)
        assert {c.gp_outcome for c in conferences} - {None} == set(GPOutcome)
        assert {e.audience for e in entries} == set(Audience)
        shared_reports = Counter(s.report_id for s in shares)
        assert any(r.id not in shared_reports for r in reports)  # never shared
        assert any(r.sent_to_qau_at is not None for r in reports)
        assert any(r.qau_reason is QauReason.PARENT_NOT_CONTACTABLE for r in reports)
        assert max(shared_reports.values()) >= 2  # shared with both parents somewhere
        # Varied mappings: some complete, some missing a goal.
        verdicts = set()
        for assessment in session.exec(select(Assessment).limit(60)).all():
            mine = [e for e in entries if e.assessment_id == assessment.id]
            scores = session.exec(select(Score).where(Score.assessment_id == assessment.id)).all()
            verdicts.add(completeness(mine, scores).complete)
        assert verdicts == {True, False}


def test_the_same_seed_gives_the_same_families(store: Store, tmp_path: object) -> None:
    fill_demo_caseload(store, 5, seed=3)
    with store.read() as session:
        first = [c.family_name for c in session.exec(select(Case).order_by(Case.reference))]
    assert len(first) == 5 and all(name.endswith(" family") for name in first)


def test_demo_people_come_only_from_the_invented_word_lists(store: Store) -> None:
    from sofs_tui.store import demo

    fill_demo_caseload(store, 40)
    words = set(demo._SURNAMES) | set(demo._CHILD_NAMES) | set(demo._ADULT_NAMES) | {"Dr"}
    with store.read() as session:
        for person in session.exec(select(Person)).all():
            assert set(person.name.split()) <= words, person.name
