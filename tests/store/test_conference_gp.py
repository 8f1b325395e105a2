"""The case's GP on a conference's invitee list: inviting the GP records "GP invited", the GP's
attendance and the QA Unit's GP outcome follow each other, and `sofs stats gp` counts them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from sofs_tui.domain.enums import Attendance, ConferenceKind, GPInvited, GPOutcome, PersonKind
from sofs_tui.domain.statistics import gp_tables
from sofs_tui.store import cases, conferences
from sofs_tui.store.stats_views import conference_facts
from sofs_tui.store.store import Store
from sofs_tui.store.tables import Attendee, Conference
from tests.store.helpers import fields_of, new_family, outbox

HELD_AT = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def _conference_with_gp(store: Store) -> tuple[str, str]:
    ids = new_family(store)
    gp = cases.add_person(
        store, ids["case"], kind=PersonKind.PROFESSIONAL, name="Dr Patel", role="GP",
        is_gp=True, gp_practice="Riverside Surgery",
    )  # fmt: skip
    conference = conferences.schedule_conference(
        store, ids["case"], kind=ConferenceKind.REVIEW, starts_at=HELD_AT
    ).id
    return conference, gp.id


def _conference(store: Store, conference_id: str) -> Conference:
    with store.read() as session:
        found = session.get(Conference, conference_id)
    assert found is not None
    return found


def _invite_gp(store: Store, conference: str, gp: str) -> str:
    return conferences.invite(
        store, conference, name="Dr Patel", role="GP", agency="Riverside Surgery", person_id=gp
    ).id


def test_inviting_the_cases_gp_records_gp_invited_yes(store: Store) -> None:
    conference, gp = _conference_with_gp(store)
    _invite_gp(store, conference, gp)
    assert _conference(store, conference).gp_invited is GPInvited.YES
    change = [c for c in outbox(store) if c.record_id == conference][-1]
    assert fields_of(change)["gp_invited"] == "yes"  # a change sync carries


def test_inviting_the_gp_keeps_an_invitation_already_recorded(store: Store) -> None:
    conference, gp = _conference_with_gp(store)
    conferences.record_gp_involvement(store, conference, invited=GPInvited.BY_SW, outcome=None)
    _invite_gp(store, conference, gp)
    assert _conference(store, conference).gp_invited is GPInvited.BY_SW


def test_inviting_someone_else_leaves_the_gp_fields_alone(store: Store) -> None:
    conference, _gp = _conference_with_gp(store)
    conferences.invite(store, conference, name="Dr Jones", role="GP", agency="Elsewhere")
    assert _conference(store, conference).gp_invited is None


def test_the_gp_attending_records_the_qau_outcome(store: Store) -> None:
    conference, gp = _conference_with_gp(store)
    invitee = _invite_gp(store, conference, gp)
    conferences.record_attendance(store, invitee, Attendance.ATTENDED)
    saved = _conference(store, conference)
    assert (saved.gp_invited, saved.gp_outcome) == (GPInvited.YES, GPOutcome.ATTENDED)
    # ...and the QA Unit's GP table counts it: invited once, involved once.
    facts = conference_facts(store, date(2026, 11, 1), date(2026, 11, 30))
    _outcomes, _invites, involvement = gp_tables(facts)
    assert (involvement.rows[0].count, involvement.denominator) == (1, 1)


def test_apologies_alone_do_not_say_which_gp_category(store: Store) -> None:
    conference, gp = _conference_with_gp(store)
    invitee = _invite_gp(store, conference, gp)
    conferences.record_attendance(store, invitee, Attendance.APOLOGIES)
    assert _conference(store, conference).gp_outcome is None  # with or without a report?


def test_attendance_never_overwrites_a_recorded_gp_outcome(store: Store) -> None:
    conference, gp = _conference_with_gp(store)
    invitee = _invite_gp(store, conference, gp)
    conferences.record_gp_involvement(
        store, conference, invited=GPInvited.YES, outcome=GPOutcome.PROVIDED_REPORT
    )
    conferences.record_attendance(store, invitee, Attendance.ABSENT)
    assert _conference(store, conference).gp_outcome is GPOutcome.PROVIDED_REPORT


def test_the_gp_outcome_sets_the_gp_rows_attendance(store: Store) -> None:
    conference, gp = _conference_with_gp(store)
    invitee = _invite_gp(store, conference, gp)
    teacher = conferences.invite(store, conference, name="Ms Reed", role="Teacher").id
    conferences.record_gp_involvement(
        store, conference, invited=GPInvited.YES, outcome=GPOutcome.SENT_APOLOGY
    )
    with store.read() as session:
        rows = {a.id: a.attendance for a in session.exec(select(Attendee)).all()}
    assert rows == {invitee: Attendance.APOLOGIES, teacher: Attendance.NOT_RECORDED}
