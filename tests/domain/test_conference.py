"""Conference follow-up dates, Families First checks, plan counts and the child's voice parts."""

from __future__ import annotations

from datetime import date

import pytest

from sofs_tui.domain.calendar import default_calendar
from sofs_tui.domain.child_voice import PART_LABELS, check_part, may_share
from sofs_tui.domain.conference import (
    FamilyPlanTask,
    FollowUpDates,
    families_first_gaps,
    follow_up_dates,
)
from sofs_tui.domain.enums import ChildVoiceTool, ConferenceKind, ConferenceModel, PlanCategory
from sofs_tui.domain.plans import PlanPeriod, count_by_category, on_plan

CAL = default_calendar()

# --- follow-up dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [ConferenceKind.INITIAL, ConferenceKind.PRE_BIRTH, ConferenceKind.TRANSFER_IN],
    ids=lambda k: k.value,
)
def test_after_an_initial_conference_core_group_in_10_working_days_and_review_by_90_days(
    kind: ConferenceKind,
) -> None:
    # Fri 1 May 2026; Mon 4 May is a bank holiday, so the tenth working day is Mon 18 May.
    # Three months is 1 Aug but 90 days is 30 Jul: the earlier wins.
    assert follow_up_dates(kind, date(2026, 5, 1), CAL) == FollowUpDates(
        core_group_by=date(2026, 5, 18), next_review_by=date(2026, 7, 30)
    )


def test_core_group_date_skips_christmas_and_new_year_bank_holidays() -> None:
    # Fri 18 Dec 2026: 25 Dec, 28 Dec (Boxing Day substitute) and 1 Jan are not working days.
    dates = follow_up_dates(ConferenceKind.INITIAL, date(2026, 12, 18), CAL)
    assert dates.core_group_by == date(2027, 1, 6)
    assert dates.next_review_by == date(2027, 3, 18)


def test_after_a_review_the_next_review_is_within_six_months_and_no_core_group_date() -> None:
    dates = follow_up_dates(ConferenceKind.REVIEW, date(2026, 5, 1), CAL)
    assert dates == FollowUpDates(core_group_by=None, next_review_by=date(2026, 11, 1))


def test_six_months_after_the_31st_clamps_to_the_end_of_a_short_month() -> None:
    dates = follow_up_dates(ConferenceKind.REVIEW, date(2026, 3, 31), CAL)
    assert dates.next_review_by == date(2026, 9, 30)


# --- Families First ----------------------------------------------------------------------


def test_a_standard_conference_has_no_families_first_gaps() -> None:
    gaps = families_first_gaps(
        ConferenceModel.STANDARD,
        preparation_done=False,
        private_family_time=False,
        family_plan_items=0,
    )
    assert gaps == []


def test_families_first_conference_lists_every_gap_in_order() -> None:
    gaps = families_first_gaps(
        ConferenceModel.FAMILIES_FIRST,
        preparation_done=False,
        private_family_time=False,
        family_plan_items=0,
    )
    assert gaps == [
        "Record the family preparation meeting.",
        "Record whether the family had private family time.",
        "The family plan has no tasks yet (task, who, by when, who checks).",
    ]


def test_families_first_conference_with_everything_recorded_has_no_gaps() -> None:
    gaps = families_first_gaps(
        ConferenceModel.FAMILIES_FIRST,
        preparation_done=True,
        private_family_time=True,
        family_plan_items=1,
    )
    assert gaps == []


@pytest.mark.parametrize(
    ("preparation", "private_time", "items", "expected"),
    [
        (False, True, 3, "Record the family preparation meeting."),
        (True, False, 3, "Record whether the family had private family time."),
        (True, True, 0, "The family plan has no tasks yet (task, who, by when, who checks)."),
    ],
)
def test_families_first_conference_names_the_one_missing_thing(
    preparation: bool, private_time: bool, items: int, expected: str
) -> None:
    gaps = families_first_gaps(
        ConferenceModel.FAMILIES_FIRST,
        preparation_done=preparation,
        private_family_time=private_time,
        family_plan_items=items,
    )
    assert gaps == [expected]


def test_complete_family_plan_task_has_no_problems() -> None:
    task = FamilyPlanTask("Take Sam to school every day", "Nan", date(2026, 6, 1), "Teacher")
    assert task.problems() == []


def test_blank_family_plan_task_lists_every_problem_in_order() -> None:
    task = FamilyPlanTask("  ", "", None, "\t")
    assert task.problems() == [
        "Say what the task is.",
        "Say who will do it.",
        "Say by when.",
        "Say who checks it is done.",
    ]


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (FamilyPlanTask("", "Nan", date(2026, 6, 1), "Teacher"), "Say what the task is."),
        (FamilyPlanTask("Task", " ", date(2026, 6, 1), "Teacher"), "Say who will do it."),
        (FamilyPlanTask("Task", "Nan", None, "Teacher"), "Say by when."),
        (FamilyPlanTask("Task", "Nan", date(2026, 6, 1), ""), "Say who checks it is done."),
    ],
)
def test_family_plan_task_names_its_one_problem(task: FamilyPlanTask, expected: str) -> None:
    assert task.problems() == [expected]


# --- children on a plan ------------------------------------------------------------------

START = date(2026, 3, 10)
END = date(2026, 9, 15)


def period(
    child: str,
    start: date = START,
    end: date | None = END,
    initial: PlanCategory = PlanCategory.NEG,
    latest: PlanCategory = PlanCategory.NEG,
) -> PlanPeriod:
    return PlanPeriod(child, start, end, initial, latest)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 3, 9), False),  # the day before the plan starts
        (START, True),  # the start day counts
        (date(2026, 6, 1), True),
        (date(2026, 9, 14), True),  # the last full day
        (END, False),  # the end day does not count
        (date(2027, 1, 1), False),
    ],
)
def test_on_plan_from_the_start_day_until_the_day_before_it_ends(on: date, expected: bool) -> None:
    assert on_plan(period("c1"), on) is expected


def test_open_plan_continues_indefinitely() -> None:
    open_plan = period("c1", end=None)
    assert on_plan(open_plan, date(2035, 1, 1))
    assert not on_plan(open_plan, date(2026, 3, 9))


def test_count_by_category_counts_initial_and_latest_of_children_on_a_plan() -> None:
    periods = [
        period("c1", initial=PlanCategory.NEG, latest=PlanCategory.NEG),
        period("c2", initial=PlanCategory.NEG, latest=PlanCategory.EMO),
        period("c3", end=None, initial=PlanCategory.PHY, latest=PlanCategory.MUL),
        # Not on a plan on the day counted: ended already, or not started yet.
        period("c4", end=date(2026, 6, 1), initial=PlanCategory.SAB, latest=PlanCategory.SAB),
        period("c5", start=date(2026, 6, 2), initial=PlanCategory.SAB, latest=PlanCategory.SAB),
    ]
    initial, latest, total = count_by_category(periods, date(2026, 6, 1))
    assert total == 3
    assert initial == {
        PlanCategory.NEG: 2,
        PlanCategory.PHY: 1,
        PlanCategory.EMO: 0,
        PlanCategory.SAB: 0,
        PlanCategory.MUL: 0,
    }
    assert latest == {
        PlanCategory.NEG: 1,
        PlanCategory.PHY: 0,
        PlanCategory.EMO: 1,
        PlanCategory.SAB: 0,
        PlanCategory.MUL: 1,
    }
    assert sum(initial.values()) == sum(latest.values()) == total


def test_count_by_category_with_nobody_on_a_plan_lists_every_category_as_zero() -> None:
    initial, latest, total = count_by_category([period("c1")], date(2020, 1, 1))
    assert total == 0
    assert initial == dict.fromkeys(PlanCategory, 0)
    assert latest == dict.fromkeys(PlanCategory, 0)


# --- the child's voice -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "part"),
    [(tool, part) for tool in ChildVoiceTool for part in tool.parts],
    ids=str,
)
def test_each_part_of_a_tool_is_accepted_and_has_a_label(tool: ChildVoiceTool, part: str) -> None:
    check_part(tool, part)
    assert PART_LABELS[part].strip()


@pytest.mark.parametrize(
    ("tool", "part"),
    [
        (ChildVoiceTool.THREE_HOUSES, "roof"),
        (ChildVoiceTool.SAFETY_HOUSE, "dreams"),
        (ChildVoiceTool.WORDS_AND_PICTURES, "worries"),
        (ChildVoiceTool.THREE_HOUSES, "Worries"),
        (ChildVoiceTool.THREE_HOUSES, ""),
    ],
)
def test_a_part_from_another_tool_is_refused(tool: ChildVoiceTool, part: str) -> None:
    with pytest.raises(ValueError, match=f"{tool.value} has no part") as caught:
        check_part(tool, part)
    for allowed in tool.parts:
        assert allowed in str(caught.value)


def test_child_words_are_shared_only_with_consent() -> None:
    assert may_share(True) is True
    assert may_share(False) is False
