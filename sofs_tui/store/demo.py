"""An invented caseload for the demo, the tests and the benchmarks.

Every name and sentence here is made up from small word lists; no real family, worker or
practice is described. The rows are written as if already pulled from the service (`clean`,
no outbox), in bulk, so 10,000 cases take seconds rather than minutes. A second fill adds cases
numbered after the highest DEMO- reference already there.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from sofs_tui.domain.calendar import COUNCIL_TZ, default_calendar
from sofs_tui.domain.conference import follow_up_dates
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS, report_deadline
from sofs_tui.domain.enums import (
    Agreement,
    AssessmentStatus,
    Attendance,
    Audience,
    CaseStatus,
    ChildVoiceTool,
    ConferenceKind,
    ConferenceModel,
    ConferenceStatus,
    GPInvited,
    GPOutcome,
    PersonKind,
    PlanCategory,
    QauReason,
    Section,
    ShareMethod,
    SyncState,
)
from sofs_tui.domain.gp import attendance_of_gp
from sofs_tui.domain.mapping import completeness
from sofs_tui.domain.positions import positions_for
from sofs_tui.domain.scaling import DEFAULT_SCALE_WORDING
from sofs_tui.store.store import Store
from sofs_tui.store.tables import (
    Assessment,
    Attendee,
    Case,
    ChildOutcome,
    ChildVoice,
    Conference,
    Entry,
    FamilyPlanItem,
    Person,
    Report,
    ReportShare,
    Score,
    Synced,
)

_SURNAMES = [
    "Brackwell",
    "Dunmore",
    "Fenwright",
    "Galloway",
    "Harrowby",
    "Inchley",
    "Jarrold",
    "Kestrel",
    "Lowmoor",
    "Marchbank",
    "Nettlefold",
    "Oakhurst",
    "Pellow",
    "Quarrington",
    "Rookwood",
    "Saltmarsh",
    "Thistlewood",
    "Umberleigh",
    "Vennell",
    "Wrayford",
    "Yardley",
    "Ashcombe",
    "Birchley",
    "Coldrey",
    "Dimmock",
    "Elderfield",
    "Foxcote",
    "Greaves",
    "Hazelby",
]
_CHILD_NAMES = [
    "Ari",
    "Bea",
    "Cal",
    "Dara",
    "Eli",
    "Fen",
    "Gia",
    "Hal",
    "Ida",
    "Jory",
    "Kai",
    "Lux",
    "Mo",
    "Nell",
    "Oti",
    "Pip",
    "Quin",
    "Ren",
    "Sol",
    "Tam",
    "Uma",
    "Vic",
    "Wren",
    "Xan",
    "Yas",
    "Zev",
]
_ADULT_NAMES = [
    "Alex",
    "Bryn",
    "Cass",
    "Dev",
    "Emery",
    "Frankie",
    "Glen",
    "Harley",
    "Indy",
    "Jess",
    "Kit",
    "Lee",
    "Morgan",
    "Noor",
]
_WORKERS = ("a.okafor", "b.lindqvist", "c.mensah", "d.nowak", "e.haddad", "f.oduya")
_TEAMS = ("Assessment Team North", "Assessment Team South", "Child Protection Team East")
_CHAIRS = ("R. Quayle (IRO)", "S. Tannen (IRO)", "M. Vossberg (IRO)")
_PRACTICES = ("Elm Road Surgery", "Canal Street Practice", "Hillside Medical Centre")
_AGENCIES = ("Greenway Primary School", "Health Visiting Service", "Police Public Protection")
# What the adult does, then what "they" then do (plural verbs: "they shout", not "they
# shouts"); worded for a child of any age, from a baby to a teenager.
_BEHAVIOURS = (
    ("drinks heavily in the evening", "shout and throw things"),
    ("uses cannabis during the day", "fall asleep and nobody is looking after {child}"),
    ("argues with their partner", "push and grab their partner in front of {child}"),
    ("feels very low", "stay in bed and {child} goes without proper meals"),
    ("is angry about the house", "hit {child} with a belt"),
)
_IMPACTS = (
    "be hurt or badly frightened",
    "go hungry and become unwell",
    "be injured while nobody is watching",
    "grow up believing violence at home is normal",
)
_STRENGTHS = (
    "{adult} takes {child} to school every morning and the teachers say {child} is always on time.",
    "{child}'s grandmother visits every weekend and the children say they feel safe with her.",
    "{adult} went to every appointment with the health visitor in the last two months.",
    "{adult} asked for help from the family support worker when money ran out.",
)
_SAFETY = (
    "When {adult} has been drinking, {child} goes to the neighbour's flat, as agreed in March.",
    "{child}'s aunt checks in by phone each evening and has done so for six weeks.",
)
_COMPLICATING = (
    "The family moved three times this year, so {child} has changed school twice.",
    "{adult} has no one to look after the children during hospital appointments.",
)
_GREY = ("It is not clear who else stays at the flat at weekends.",)
_NEXT_STEPS = (
    "{worker} will meet {adult} and the safety network on Thursday to write the safety plan.",
    "The school will tell {worker} the same day if {child} is absent.",
    "{adult} will book the first session at the alcohol service by Friday.",
)
_VOICE = {
    "worries": "I don't like it when the shouting starts and I hide under my bed.",
    "good_things": "Playing football with my uncle on Saturdays.",
    "dreams": "Everyone being happy at dinner and no more shouting.",
    "inside": "My nan, my sister and my cat.",
    "outside": "The man who comes at night.",
    "roof": "My teacher Miss Aldous and my auntie.",
    "path": "I would stand next to the door.",
    "safety_rules": "If mum is poorly I can ring auntie.",
    "story": "This is the story of why a social worker visits our house.",
}


@dataclass
class _Rows:
    by_table: dict[type[Synced], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: type[Synced], **values: Any) -> str:
        values.setdefault("id", str(uuid.uuid4()))
        self.by_table.setdefault(table, []).append(values)
        return str(values["id"])


def _sync_defaults(stamp: datetime, author: str) -> dict[str, Any]:
    return {
        "server_rev": 1,
        "sync_state": SyncState.CLEAN,
        "deleted": False,
        "created_at": stamp,
        "updated_at": stamp,
        "author": author,
    }


def _conference_time(rng: random.Random, day: date) -> datetime:
    local = datetime.combine(day, time(rng.choice((9, 10, 11, 13, 14)), rng.choice((0, 30))))
    return local.replace(tzinfo=COUNCIL_TZ).astimezone(UTC)


def _one_case(rows: _Rows, rng: random.Random, index: int, now: datetime) -> None:
    worker = rng.choice(_WORKERS)
    common = _sync_defaults(now - timedelta(days=rng.randint(20, 400)), worker)
    today = now.astimezone(COUNCIL_TZ).date()
    surname = rng.choice(_SURNAMES)
    case_id = rows.add(
        Case,
        reference=f"DEMO-{index:05d}",
        family_name=f"{surname} family",
        lead_worker=worker,
        team=_TEAMS[index % len(_TEAMS)],
        status=CaseStatus.OPEN,
        opened_on=today - timedelta(days=rng.randint(30, 700)),
        closed_on=None,
        **common,
    )
    blank_person = {
        "relationship": "", "date_of_birth": None, "expected_on": None,
        "parental_responsibility": False, "plan_category_initial": None,
        "plan_category_latest": None, "plan_start": None, "plan_end": None, "role": "",
        "agency": "", "is_gp": False, "gp_practice": "",
    }  # fmt: skip
    children = []
    for name in rng.sample(_CHILD_NAMES, rng.randint(1, 3)):
        initial = rng.choice(list(PlanCategory))
        on_plan = rng.random() < 0.85
        children.append(
            (
                rows.add(
                    Person,
                    case_id=case_id,
                    kind=PersonKind.CHILD,
                    name=f"{name} {surname}",
                    **blank_person
                    | {
                        "date_of_birth": today - timedelta(days=rng.randint(200, 6000)),
                        "plan_category_initial": initial if on_plan else None,
                        "plan_category_latest": (
                            (rng.choice(list(PlanCategory)) if rng.random() < 0.2 else initial)
                            if on_plan
                            else None
                        ),
                        "plan_start": today - timedelta(days=rng.randint(10, 500))
                        if on_plan
                        else None,
                    },
                    **common,
                ),
                name,
            )
        )
    adults = []
    for role in rng.sample(("Mother", "Father", "Stepfather", "Grandmother"), rng.randint(1, 2)):
        name = rng.choice(_ADULT_NAMES)
        adults.append(
            (
                rows.add(
                    Person,
                    case_id=case_id,
                    kind=PersonKind.ADULT,
                    name=f"{name} {surname}",
                    **blank_person | {"relationship": role, "parental_responsibility": True},
                    **common,
                ),
                name,
            )
        )
    for role in rng.sample(("Aunt", "Neighbour", "Family friend", "Uncle"), rng.randint(0, 2)):
        rows.add(
            Person,
            case_id=case_id,
            kind=PersonKind.NETWORK,
            name=f"{rng.choice(_ADULT_NAMES)} {rng.choice(_SURNAMES)}",
            **blank_person | {"relationship": role},
            **common,
        )
    practice = rng.choice(_PRACTICES)
    gp_name = f"Dr {rng.choice(_SURNAMES)}"
    gp_id = rows.add(
        Person,
        case_id=case_id,
        kind=PersonKind.PROFESSIONAL,
        name=gp_name,
        **blank_person | {"role": "GP", "agency": practice, "is_gp": True, "gp_practice": practice},
        **common,
    )
    child_id, child = children[0]
    _adult_id, adult = adults[0]
    words = {"child": child, "adult": adult, "worker": worker}
    _mapping(rows, rng, case_id, words, common)
    for part in rng.sample(ChildVoiceTool.THREE_HOUSES.parts, rng.randint(0, 3)):
        rows.add(
            ChildVoice,
            case_id=case_id,
            child_id=child_id,
            tool=ChildVoiceTool.THREE_HOUSES,
            part=part,
            text=_VOICE[part],
            written_by=child,
            recorded_on=today - timedelta(days=rng.randint(1, 60)),
            consent_to_share=rng.random() < 0.7,
            consent_note="",
            **common,
        )
    _conferences(rows, rng, case_id, children, adults, (gp_id, gp_name), practice, now, common)


def _mapping(
    rows: _Rows, rng: random.Random, case_id: str, words: dict[str, str], common: dict[str, Any]
) -> None:
    # Drawn here (the same seed gives the same families); kept only if the mapping turns out
    # complete, as sign-off requires.
    final = rng.random() < 0.2
    assessment_id = rows.add(
        Assessment,
        case_id=case_id,
        title="Signs of Safety mapping",
        status=AssessmentStatus.FINAL if final else AssessmentStatus.DRAFT,
        zero_wording=DEFAULT_SCALE_WORDING.zero,
        ten_wording=DEFAULT_SCALE_WORDING.ten,
        signed_off_by=common["author"] if final else "",
        signed_off_at=common["updated_at"] if final else None,
        reopened_by="",
        reopened_at=None,
        reopen_reason="",
        **common,
    )

    def entries(section: Section, texts: list[str], **extra: Any) -> list[str]:
        ids = []
        for text, position in zip(texts, positions_for(len(texts)), strict=True):
            ids.append(
                rows.add(
                    Entry,
                    assessment_id=assessment_id,
                    section=section,
                    text=text,
                    source=rng.choice(
                        ("Social worker", words["adult"], "School", "Health visitor")
                    ),
                    agreement=rng.choice(list(Agreement)),
                    disputed_by="",
                    position=position,
                    goal_for_id=extra.get("goal_for", {}).get(text),
                    # Mostly decided, so the parent summary can be exported; a few third-party
                    # passages, and roughly one mapping in four still has one to decide.
                    audience=Audience.NOT_FOR_FAMILY if rng.random() < 0.12 else Audience.FAMILY,
                    **common,
                )
            )
        return ids

    n_danger = rng.randint(1, 4)
    dangers = []
    for _ in range(n_danger):
        behaviour, action = rng.choice(_BEHAVIOURS)
        dangers.append(
            f"The social worker and the school are worried that when {words['adult']} "
            f"{behaviour}, they {action.format(**words)}, and {words['child']} could "
            f"{rng.choice(_IMPACTS)} if nothing changes."
        )
    danger_ids = entries(Section.DANGER_STATEMENT, dangers)
    if rng.random() < 0.25:
        rows.by_table[Entry][-1]["audience"] = Audience.UNDECIDED
    goals = [
        f"{words['adult']} will show everyone that {words['child']} is cared for safely, "
        f"with the safety network checking, every day for the next {rng.choice((3, 6))} months."
        f" ({i + 1})"
        for i in range(n_danger if rng.random() < 0.8 else n_danger - 1)
    ]
    entries(Section.SAFETY_GOAL, goals, goal_for=dict(zip(goals, danger_ids, strict=False)))
    entries(Section.HARM, [f"In the last year {words['child']} was seen with bruises twice."])
    for section, pool, most in (
        (Section.COMPLICATING_FACTORS, _COMPLICATING, 2),
        (Section.GREY_AREAS, _GREY, 1),
        (Section.EXISTING_STRENGTHS, _STRENGTHS, 3),
        (Section.EXISTING_SAFETY, _SAFETY, 2),
        (Section.NEXT_STEPS, _NEXT_STEPS, 3),
    ):
        picked = rng.sample(pool, rng.randint(0, min(most, len(pool))))
        entries(section, [t.format(**words) for t in picked])
    for scorer, role in rng.sample(
        [(words["adult"], "Parent"), (words["child"], "Child"), (words["worker"], "Social worker"),
         ("Class teacher", "School")], rng.randint(1, 4)
    ):  # fmt: skip
        rows.add(
            Score,
            assessment_id=assessment_id,
            danger_statement_id=rng.choice([None, *danger_ids]),
            scorer_name=scorer,
            scorer_role=role,
            value=rng.randint(2, 8),
            rationale="Things are better since the safety plan started, but not for long enough.",
            zero_wording=DEFAULT_SCALE_WORDING.zero,
            ten_wording=DEFAULT_SCALE_WORDING.ten,
            scored_on=common["updated_at"].date(),
            **common,
        )
    if final and not _complete(rows, assessment_id):
        signed = next(a for a in rows.by_table[Assessment] if a["id"] == assessment_id)
        signed |= {"status": AssessmentStatus.DRAFT, "signed_off_by": "", "signed_off_at": None}


def _complete(rows: _Rows, assessment_id: str) -> bool:
    """Whether the mapping's rows pass the sign-off check (each danger statement has its
    safety goal and a score)."""
    entries = [
        SimpleNamespace(**e)
        for e in rows.by_table.get(Entry, [])
        if e["assessment_id"] == assessment_id
    ]
    scores = [
        SimpleNamespace(**s)
        for s in rows.by_table.get(Score, [])
        if s["assessment_id"] == assessment_id
    ]
    return completeness(entries, scores).complete


def _conferences(
    rows: _Rows,
    rng: random.Random,
    case_id: str,
    children: list[tuple[str, str]],
    adults: list[tuple[str, str]],
    gp: tuple[str, str],
    practice: str,
    now: datetime,
    common: dict[str, Any],
) -> None:
    calendar = default_calendar()
    today = now.astimezone(COUNCIL_TZ).date()
    first_kind = rng.choice(
        (ConferenceKind.INITIAL,) * 6 + (ConferenceKind.TRANSFER_IN, ConferenceKind.PRE_BIRTH)
    )
    held_day = calendar.add_working_days(today, -rng.randint(30, 120))
    upcoming_day = calendar.add_working_days(today, rng.randint(-4, 25))
    plan = (
        (first_kind, ConferenceStatus.HELD, held_day),
        (ConferenceKind.REVIEW, ConferenceStatus.PLANNED, upcoming_day),
    )
    for kind, status, day in plan:
        model = ConferenceModel.FAMILIES_FIRST if rng.random() < 0.25 else ConferenceModel.STANDARD
        held = status is ConferenceStatus.HELD
        families_first = model is ConferenceModel.FAMILIES_FIRST
        starts = _conference_time(rng, day)
        # The GP is on most invitee lists; "GP invited" follows the list.
        gp_on_the_list = rng.random() < 0.8
        gp_fields = _gp_involvement(rng, held, gp_on_the_list)
        # The family's preparation meeting is recorded once it has taken place.
        preparation = day - timedelta(days=7) if families_first else None
        preparation = preparation if preparation is not None and preparation <= today else None
        conference_id = rows.add(
            Conference,
            case_id=case_id,
            kind=kind,
            model=model,
            starts_at=starts,
            chair=rng.choice(_CHAIRS),
            location=rng.choice(("Civic Centre, Room 4", "Video call", "Family Hub")),
            status=status,
            strategy_discussion_on=calendar.add_working_days(day, -12)
            if kind is not ConferenceKind.REVIEW
            else None,
            **gp_fields,
            family_preparation_on=preparation,
            family_preparation_note="Family met the coordinator at home." if preparation else "",
            private_family_time=True if families_first and held else None,
            **common,
        )  # fmt: skip
        invitees: list[tuple[str | None, str, str, str]] = [(None, adults[0][1], "Parent", "")]
        if gp_on_the_list:
            invitees.append((gp[0], gp[1], "GP", practice))
        invitees.append((None, "Class teacher", "Teacher", _AGENCIES[0]))
        for person_id, name, role, agency in invitees:
            if person_id == gp[0]:  # the GP's row says what the GP's outcome says
                attendance = attendance_of_gp(gp_fields["gp_outcome"])
            else:
                attendance = rng.choice(list(Attendance)) if held else Attendance.NOT_RECORDED
            rows.add(
                Attendee,
                conference_id=conference_id,
                person_id=person_id,
                name=name,
                role=role,
                agency=agency,
                invited=True,
                attendance=attendance,
                **common,
            )
        if families_first:
            tasks = ("Nan to stay over on Fridays", "Uncle to take the children to football")
            for position, task in zip(positions_for(2), tasks, strict=True):
                rows.add(
                    FamilyPlanItem,
                    conference_id=conference_id,
                    task=task,
                    who=rng.choice(("Nan", "Uncle", adults[0][1])),
                    by_when=day + timedelta(days=28),
                    who_checks="Family network coordinator",
                    position=position,
                    done=held and rng.random() < 0.5,
                    **common,
                )
        if held:
            dates = follow_up_dates(kind, day, calendar)
            for child_id, _ in children:
                rows.add(
                    ChildOutcome,
                    conference_id=conference_id,
                    child_id=child_id,
                    plan=True,
                    category=rng.choice(list(PlanCategory)),
                    lead_worker=common["author"],
                    core_group_on=dates.core_group_by,
                    contingency="If the plan is not followed the case returns to conference.",
                    next_review_on=dates.next_review_by,
                    dissent="",
                    **common,
                )
        _reports(rows, rng, conference_id, kind, held, adults, starts, practice, now, common)


def _gp_involvement(rng: random.Random, held: bool, on_the_list: bool) -> dict[str, Any]:
    """The conference's GP fields, consistent with its invitee list: a GP on the list was
    invited (now and then "By SW"), one not on it was not; the outcome once it is held."""
    if not on_the_list:
        invited = GPInvited.NO
        outcome = rng.choice((GPOutcome.ABSENT, GPOutcome.LOG_NOT_COMPLETED))
    else:
        invited = GPInvited.BY_SW if rng.random() < 0.25 else GPInvited.YES
        outcome = rng.choice(list(GPOutcome))
    return {"gp_invited": invited, "gp_outcome": outcome if held else None}


#: The demo's deadlines are the default council's (the screens use the settings' own).
_DEADLINES = LONDON_BOROUGH_DEFAULTS

# What has been done for a report, drawn with these weights. A report whose deadline is still
# ahead is mostly not done yet; one whose deadline has passed is mostly done, on time or late,
# and, while the conference has not been held, sometimes still outstanding (overdue).
_AHEAD = {"none": 6, "some": 1, "shared": 1, "sent": 1, "reason_sent": 1}
_PASSED = {"none": 2, "some": 1, "shared": 1, "sent": 4, "sent_late": 2, "reason_sent": 1}
_HELD = {"sent": 7, "sent_late": 2, "reason_sent": 1}


def _on_time(rng: random.Random, deadline: datetime, now: datetime) -> datetime:
    """A moment before the deadline (and before now): between 2 hours and 4 days earlier."""
    return min(deadline, now) - timedelta(hours=rng.randint(2, 96), minutes=rng.randint(0, 59))


def _late(rng: random.Random, deadline: datetime, now: datetime) -> datetime:
    """A moment after the deadline, within 40 hours of it, and not after now."""
    span = min(now - deadline, timedelta(hours=40))
    late = deadline + timedelta(minutes=rng.randint(30, max(30, int(span.total_seconds() // 60))))
    return min(late, now)


def _reports(
    rows: _Rows,
    rng: random.Random,
    conference_id: str,
    kind: ConferenceKind,
    held: bool,
    adults: list[tuple[str, str]],
    starts: datetime,
    practice: str,
    now: datetime,
    common: dict[str, Any],
) -> None:
    """A conference's reports and what has been done with them, nothing after `now`: the
    caseload then shows deadlines due, due soon, overdue, done on time and done late."""
    calendar = default_calendar()
    to_parents = report_deadline(starts, _DEADLINES.for_parents(kind), calendar)
    to_qau = report_deadline(starts, _DEADLINES.for_qau(kind), calendar)
    deadline = min(to_parents, to_qau)
    if held:
        weights = _HELD
    elif deadline - now >= timedelta(hours=1):
        weights = _AHEAD
    elif now - deadline >= timedelta(hours=1):
        weights = _PASSED
    else:  # the deadline is this hour: done on time, or not yet
        weights = {"none": 1, "sent": 1}
    authors = [("Social worker's report", common["author"], "Children's Social Care")]
    authors += [("School report", "Class teacher", _AGENCIES[0]), ("GP report", "GP", practice)]
    for title, author, agency in authors[: rng.randint(1, 3)]:
        state = rng.choices(list(weights), weights=list(weights.values()))[0]
        late = state == "sent_late"
        # When it was shared (or sent with a reason): the moments below follow from it.
        done = _late(rng, deadline, now) if late else _on_time(rng, deadline, now)
        if state == "none":
            # Not shared yet: written already (not after now), or still being written.
            completed = done if rng.random() < 0.5 else None
        else:
            completed = done - timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 8))
        report_id = rows.add(
            Report,
            conference_id=conference_id,
            title=title,
            author_name=author,
            agency=agency,
            completed_at=completed,
            sent_to_qau_at=None,
            qau_reason=None,
            qau_reason_note="",
            redactions="",
            redaction_reason="",
            **common,
        )
        sharers = {"none": [], "reason_sent": [], "some": adults[:1]}.get(state, adults)
        last_share = done
        for adult_id, _ in sharers:
            shared_at = min(done + timedelta(minutes=rng.randint(0, 90)), now)
            last_share = max(last_share, shared_at)
            rows.add(
                ReportShare,
                report_id=report_id,
                parent_id=adult_id,
                shared_at=shared_at,
                method=rng.choice(list(ShareMethod)),
                gone_through_together=rng.random() < 0.6,
                translated=False,
                language="",
                **common,
            )
        report_rows = rows.by_table[Report]
        if state in ("sent", "sent_late"):
            sent = last_share + timedelta(minutes=rng.randint(10, 90))
            # Sent on time stays before the QA Unit's deadline; nothing is sent after now.
            report_rows[-1]["sent_to_qau_at"] = min(sent, now, sent if late else to_qau)
        if state == "reason_sent":
            report_rows[-1] |= {
                "sent_to_qau_at": _on_time(rng, to_qau, now),
                "qau_reason": QauReason.PARENT_NOT_CONTACTABLE,
                "qau_reason_note": "Three calls and a letter, no answer (chair told).",
            }


def _batches(
    cases: int, seed: int, now: datetime, per_batch: int, *, after: int = 0
) -> Iterator[_Rows]:
    """The rows of cases DEMO-(after+1) … DEMO-(after+cases), `per_batch` cases at a time."""
    rng = random.Random(seed)
    rows = _Rows()
    for count, index in enumerate(range(after + 1, after + cases + 1), start=1):
        _one_case(rows, rng, index, now)
        if count % per_batch == 0:
            yield rows
            rows = _Rows()
    if rows.by_table:
        yield rows


def _highest_demo_number(session: Session) -> int:
    """The largest N among references DEMO-N already in the store (deleted cases too: their
    references stay taken), 0 if none."""
    found = (
        session.connection()
        .exec_driver_sql(
            "SELECT max(CAST(substr(reference, 6) AS INTEGER)) FROM family_case "
            "WHERE reference GLOB 'DEMO-[0-9]*'"
        )
        .scalar_one()
    )
    return int(found or 0)


MAX_DEMO_CASES = 10_000  # per fill

_INSERT_ORDER: tuple[type[Synced], ...] = (
    Case, Person, Assessment, Entry, Score, ChildVoice, Conference, Attendee,
    FamilyPlanItem, ChildOutcome, Report, ReportShare,
)  # fmt: skip


def fill_demo_caseload(
    store: Store, cases: int, *, seed: int = 7, now: datetime | None = None
) -> dict[str, int]:
    """Add `cases` invented cases; returns rows written per table.

    References follow the highest DEMO- reference already in the store (DEMO-00001… in an
    empty one), so filling twice adds more cases instead of failing on a taken reference.
    One transaction: all the cases are added, or (on any error) none.
    """
    if not 1 <= cases <= MAX_DEMO_CASES:
        raise ValueError(f"choose from 1 to {MAX_DEMO_CASES:,} demo cases")
    moment = now or store.now()
    counts: dict[str, int] = {}
    with store.write() as session:
        after = _highest_demo_number(session)
        # Rows are built and sent 500 cases at a time, to keep memory flat, in one transaction.
        for batch in _batches(cases, seed, moment, per_batch=500, after=after):
            for table in _INSERT_ORDER:
                values = batch.by_table.get(table, [])
                if values:
                    # Explicit NULLs keep one statement per table (no regrouping by keys).
                    session.execute(insert(table).execution_options(render_nulls=True), values)
                    name: str = table.__table__.name  # type: ignore[attr-defined]
                    counts[name] = counts.get(name, 0) + len(values)
    return counts
