"""Wording guidance: well-worded danger statements and safety goals get no warnings, and each
missing element earns exactly its own. All example texts are written for these tests."""

from __future__ import annotations

import dataclasses

import pytest

from sofs_tui.domain.enums import Section
from sofs_tui.domain.wording import (
    RECOMMENDED_MAX_DANGER_STATEMENTS,
    WordingWarning,
    danger_statement_warnings,
    entry_warnings,
    mapping_warnings,
    safety_goal_warnings,
)

GOOD_DANGER = (
    "Children's services and the school are worried that when Dad drinks he shouts and pushes "
    "Mum, and Kai could be hurt or frightened if nothing changes."
)
GOOD_GOAL = (
    "Mum and Dad will show the safety network that they sort out disagreements calmly, and Gran "
    "will check in with Kai every Sunday, consistently for six months."
)


def codes(warnings: list[WordingWarning]) -> list[str]:
    return [warning.code for warning in warnings]


# --- Danger statements -------------------------------------------------------------------------


def test_well_formed_danger_statement_gets_no_warnings() -> None:
    assert danger_statement_warnings(GOOD_DANGER) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "When Dad drinks he shouts and pushes Mum, and Kai could be hurt or frightened if "
            "nothing changes.",
            "danger.no_worried_person",
        ),
        (
            "Children's services and the school are worried about domestic violence, and Kai "
            "could be hurt or frightened if nothing changes.",
            "danger.label_not_behaviour",
        ),
        (
            "Children's services and the school are worried that when Dad drinks he shouts and "
            "pushes Mum.",
            "danger.no_impact",
        ),
    ],
    ids=["no-one-worried", "label", "no-impact"],
)
def test_each_missing_element_of_a_danger_statement_gets_its_own_warning(
    text: str, expected: str
) -> None:
    assert codes(danger_statement_warnings(text)) == [expected]


def test_a_bare_label_with_nothing_else_gets_all_three_warnings_in_order() -> None:
    assert codes(danger_statement_warnings("Neglect.")) == [
        "danger.no_worried_person",
        "danger.label_not_behaviour",
        "danger.no_impact",
    ]


@pytest.mark.parametrize(
    "opening",
    [
        "The health visitor and the nursery are worried that",
        "We are worried that",
        "Aunt Rosa is very worried that",
        "The police have serious concerns that",
        "Gran worries that",
        "The school's main worry is that",
        "The midwife is concerned that",
        "Worried that",
    ],
)
def test_ways_of_naming_who_is_worried_are_recognised(opening: str) -> None:
    text = f"{opening} Mum leaves Ruby alone at night and Ruby could be hurt."
    assert "danger.no_worried_person" not in codes(danger_statement_warnings(text))


@pytest.mark.parametrize(
    "opening",
    ["There are concerns that", "There are worries that", "There's concern that", "It is feared"],
)
def test_worry_without_anyone_who_holds_it_is_flagged(opening: str) -> None:
    text = f"{opening} Mum leaves Ruby alone at night and Ruby could be hurt."
    assert codes(danger_statement_warnings(text)) == ["danger.no_worried_person"]


@pytest.mark.parametrize(
    ("label_text", "shown"),
    [
        ("neglect", "neglect"),
        ("DV", "DV"),
        ("Domestic Violence", "domestic violence"),
        ("domestic abuse", "domestic abuse"),
        ("Mum's substance misuse", "substance misuse"),
        ("Mum's drug use", "drug use"),
        ("Mum's mental health", "mental health"),
        ("emotional abuse", "emotional abuse"),
        ("physical abuse", "physical abuse"),
        ("sexual abuse", "sexual abuse"),
        ("the risk at home", "risk"),
    ],
)
def test_each_label_without_behaviour_is_flagged_and_named(label_text: str, shown: str) -> None:
    text = f"The school is worried about {label_text} and Ola could be harmed."
    warnings = danger_statement_warnings(text)
    assert codes(warnings) == ["danger.label_not_behaviour"]
    assert f'"{shown}"' in warnings[0].message


def test_label_with_described_behaviour_is_not_flagged() -> None:
    text = (
        "The school is worried about domestic abuse: Dad grabs Mum by the arm and shouts at "
        "her in front of Ola, and Ola could be hurt."
    )
    assert danger_statement_warnings(text) == []


def test_a_label_s_own_verb_does_not_count_as_behaviour() -> None:
    text = "The school is worried about Dad's alcohol use and Ola could be harmed."
    assert codes(danger_statement_warnings(text)) == ["danger.label_not_behaviour"]


def test_abbreviation_label_is_case_sensitive_so_dad_is_not_a_label() -> None:
    text = "The school is worried that Dad sleeps all day and Ola could go hungry."
    assert danger_statement_warnings(text) == []


def test_long_statement_with_a_label_is_trusted_to_describe_behaviour() -> None:
    # 40+ words: the verbs here are not in the list, but this is clearly not a bare label.
    text = (
        "The health visitor and Ola's teacher are worried about Mum's mental health, because on "
        "most days this month she has been in her room with the curtains closed, Ola has made "
        "her own breakfast, arrived at school late and without her coat, and she could feel "
        "alone and fall behind if nothing changes."
    )
    assert len(text.split()) > 40
    assert danger_statement_warnings(text) == []


def test_typographic_apostrophes_are_understood() -> None:
    text = GOOD_DANGER.replace("'", "\u2019")
    assert danger_statement_warnings(text) == []


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_danger_statement_gets_no_warnings(text: str) -> None:
    assert danger_statement_warnings(text) == []


def test_warnings_carry_the_entry_id() -> None:
    warnings = danger_statement_warnings("Neglect.", entry_id="entry-7")
    assert warnings and all(warning.entry_id == "entry-7" for warning in warnings)


# --- Safety goals ------------------------------------------------------------------------------


def test_well_formed_safety_goal_gets_no_warnings() -> None:
    assert safety_goal_warnings(GOOD_GOAL) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mum and Dad will not argue in front of Kai for six months.", "goal.negative_framing"),
        (
            "Mum and Dad will show the safety network that they sort out disagreements calmly.",
            "goal.no_duration",
        ),
        ("A calm, happy home for Kai for six months.", "goal.not_behavioural"),
    ],
    ids=["negative", "no-duration", "not-behavioural"],
)
def test_each_missing_element_of_a_safety_goal_gets_its_own_warning(
    text: str, expected: str
) -> None:
    assert codes(safety_goal_warnings(text)) == [expected]


@pytest.mark.parametrize(
    "negative",
    [
        "Dad will stop shouting at Kai",
        "Dad won\u2019t shout at Kai",
        "Dad will no longer shout at Kai",
        "Dad will never shout at Kai",
        "Dad doesn't shout at Kai",
    ],
)
def test_goals_framed_as_what_stops_are_flagged(negative: str) -> None:
    text = f"{negative}, for at least six months."
    assert codes(safety_goal_warnings(text)) == ["goal.negative_framing"]


def test_a_bus_stop_is_not_negative_framing() -> None:
    text = "Gran will meet Kai at the bus stop after school every day for a year."
    assert safety_goal_warnings(text) == []


@pytest.mark.parametrize(
    "duration",
    [
        "for 12 weeks",
        "over the next three months",
        "until the review conference",
        "consistently for a school term",
        "for a period of nine months",
        "for at least two terms",
        "for a year",
    ],
)
def test_ways_of_saying_how_long_are_recognised(duration: str) -> None:
    text = f"Mum will take Ruby to nursery every weekday {duration}."
    assert safety_goal_warnings(text) == []


def test_how_often_is_not_how_long() -> None:
    text = "Mum will take Ruby to the dentist once a week."
    assert codes(safety_goal_warnings(text)) == ["goal.no_duration"]


@pytest.mark.parametrize("text", ["", "  \t "])
def test_empty_safety_goal_gets_no_warnings(text: str) -> None:
    assert safety_goal_warnings(text) == []


# --- The mapping and dispatch ------------------------------------------------------------------


def test_recommended_maximum_is_four() -> None:
    assert RECOMMENDED_MAX_DANGER_STATEMENTS == 4


@pytest.mark.parametrize("count", [0, 1, 3, 4])
def test_up_to_four_danger_statements_get_no_mapping_warning(count: int) -> None:
    assert mapping_warnings(count) == []


def test_five_danger_statements_get_one_mapping_warning_without_entry() -> None:
    warnings = mapping_warnings(5)
    assert codes(warnings) == ["mapping.too_many_danger_statements"]
    assert warnings[0].entry_id is None
    assert "5 danger statements" in warnings[0].message
    assert "three or four" in warnings[0].message


def test_entry_warnings_lints_danger_statements_and_safety_goals() -> None:
    assert entry_warnings(Section.DANGER_STATEMENT, "Neglect.", "e1") == (
        danger_statement_warnings("Neglect.", "e1")
    )
    assert entry_warnings(Section.SAFETY_GOAL, "A safe home.", "e2") == (
        safety_goal_warnings("A safe home.", "e2")
    )
    assert entry_warnings(Section.DANGER_STATEMENT, "Neglect.")


@pytest.mark.parametrize(
    "section", [s for s in Section if s not in (Section.DANGER_STATEMENT, Section.SAFETY_GOAL)]
)
def test_other_sections_get_no_wording_warnings(section: Section) -> None:
    assert entry_warnings(section, "Neglect.") == []


def test_wording_warning_is_immutable() -> None:
    warning = WordingWarning("danger.no_impact", "Add the impact.", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        warning.code = "other"  # type: ignore[misc]


def test_every_message_is_plain_one_line_and_ends_a_sentence() -> None:
    everything = (
        danger_statement_warnings("Neglect.")
        + safety_goal_warnings("Not a safe home.")
        + mapping_warnings(9)
    )
    assert len({w.code for w in everything}) == 7
    for warning in everything:
        assert "\n" not in warning.message
        assert warning.message.endswith(".")
