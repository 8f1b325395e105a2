"""The invented caseload covers every kind, model and sharing state, and nothing real."""

from __future__ import annotations

import re
from collections import Counter

from sqlmodel import select

from sofs_tui.domain.enums import (
    AssessmentStatus,
    Attendance,
    Audience,
    ConferenceKind,
    ConferenceModel,
    GPInvited,
    GPOutcome,
    QauReason,
    Section,
)
from sofs_tui.domain.gp import attendance_of_gp
from sofs_tui.domain.mapping import completeness
from sofs_tui.store.demo import fill_demo_caseload
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Assessment,
    Attendee,
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


def test_only_complete_mappings_are_signed_off(store: Store) -> None:
    fill_demo_caseload(store, 150)
    with store.read() as session:
        assessments = session.exec(select(Assessment)).all()
        entries = session.exec(select(Entry)).all()
        scores = session.exec(select(Score)).all()
    finals = [a for a in assessments if a.status is AssessmentStatus.FINAL]
    assert finals  # some signed off, and each one complete, as sign-off requires (DEMO-00001's
    # was not: a danger statement without its safety goal)
    for assessment in finals:
        mine = [e for e in entries if e.assessment_id == assessment.id]
        theirs = [s for s in scores if s.assessment_id == assessment.id]
        assert completeness(mine, theirs).complete, assessment.case_id
        assert assessment.signed_off_by and assessment.signed_off_at is not None
    for assessment in assessments:
        if assessment.status is AssessmentStatus.DRAFT:
            assert (assessment.signed_off_by, assessment.signed_off_at) == ("", None)


def test_the_gp_invitation_follows_the_invitee_list(store: Store) -> None:
    fill_demo_caseload(store, 150)
    with store.read() as session:
        conferences = session.exec(select(Conference)).all()
        invitees = session.exec(select(Attendee)).all()
        gps = {p.case_id: p for p in session.exec(select(Person)).all() if p.is_gp}
    rows_of = {c.id: [a for a in invitees if a.conference_id == c.id] for c in conferences}
    for conference in conferences:
        gp = gps[conference.case_id]
        gp_rows = [a for a in rows_of[conference.id] if a.person_id == gp.id]
        assert all(a.name == gp.name for a in gp_rows)
        assert len(gp_rows) <= 1
        if gp_rows:
            assert conference.gp_invited in (GPInvited.YES, GPInvited.BY_SW)
            assert gp_rows[0].attendance is attendance_of_gp(conference.gp_outcome)
        else:
            assert conference.gp_invited is GPInvited.NO
            assert conference.gp_outcome in (None, GPOutcome.ABSENT, GPOutcome.LOG_NOT_COMPLETED)
        # Nobody else on the list is a GP standing in for the case's GP.
        assert all(a.role != "GP" for a in rows_of[conference.id] if a.person_id != gp.id)
    assert any(a.attendance is Attendance.ATTENDED for a in invitees)


def test_demo_danger_statements_read_well_for_a_child_of_any_age(store: Store) -> None:
    fill_demo_caseload(store, 60)
    with store.read() as session:
        dangers = [
            e.text
            for e in session.exec(select(Entry)).all()
            if e.section is Section.DANGER_STATEMENT
        ]
    assert dangers
    for text in dangers:
        # "they shout", never "they shouts"; no "baby" said of a teenager.
        assert not re.search(r"\bthey \w+s\b", text), text
        assert "baby" not in text and "{" not in text, text
